package lua

// The functions here build the messages of Lua 5.1's luaG_typeerror,
// luaG_aritherror, luaG_concaterror and luaG_ordererror (ldebug.c). They run
// only once an instruction has failed: the name of the variable a value came
// from is found from the running function's code and debug information, as
// Lua's getobjname does, so that the instructions pay nothing for it.

// typeError raises "attempt to <op> <kind> '<name>' (a <type> value)" when the
// failing instruction read v from register reg of the running Lua function
// and objName names that register, and "attempt to <op> a <type> value"
// otherwise. A reg below 0 means v came from elsewhere.
func (ls *LState) typeError(v LValue, op string, reg int) {
	if kind, name := ls.objName(v, reg); kind != "" {
		ls.runtimeError("attempt to %s %s '%s' (a %s value)", op, kind, name, v.Type().String())
	}
	ls.runtimeError("attempt to %s a %s value", op, v.Type().String())
}

// indexError is typeError for v, which cannot be indexed. first is false for
// a value reached through an __index or __newindex chain, which no register
// holds.
func (ls *LState) indexError(v LValue, first bool) {
	reg := -1
	if inst, ok := ls.currentInst(); ok && first {
		switch opGetOpCode(inst) {
		case OP_GETTABLE, OP_GETTABLEKS, OP_SELF:
			reg = opGetArgB(inst)
		case OP_SETTABLE, OP_SETTABLEKS:
			reg = opGetArgA(inst)
		}
	}
	ls.typeError(v, "index", reg)
}

// callError is typeError for fn, which cannot be called.
func (ls *LState) callError(fn LValue) {
	reg := -1
	if inst, ok := ls.currentInst(); ok {
		switch opGetOpCode(inst) {
		case OP_CALL, OP_TAILCALL:
			reg = opGetArgA(inst)
		}
	}
	ls.typeError(fn, "call", reg)
}

// arithError is Lua's luaG_aritherror for the operands lhs and rhs of an
// arithmetic instruction, after the conversion of numeric strings: it blames
// lhs unless lhs is a number.
func (ls *LState) arithError(lhs, rhs LValue) {
	inst, ok := ls.currentInst()
	if !ok {
		inst = opInvalidInstruction
	}
	v, rk := rhs, opGetArgC(inst)
	if _, isnum := lhs.(LNumber); !isnum {
		v, rk = lhs, opGetArgB(inst)
	}
	reg := -1
	if ok && rk&opBitRk == 0 {
		reg = rk
	}
	ls.typeError(v, "perform arithmetic on", reg)
}

// unaryError is typeError for v, the operand of OP_UNM or OP_LEN.
func (ls *LState) unaryError(v LValue, op string) {
	reg := -1
	if inst, ok := ls.currentInst(); ok {
		if b := opGetArgB(inst); b&opBitRk == 0 {
			reg = b
		}
	}
	ls.typeError(v, op, reg)
}

// concatError is Lua's luaG_concaterror for the operands lhs and rhs of
// OP_CONCAT, which are in registers i and i+1 of the stack: it blames lhs
// unless lhs is a string or a number.
func (ls *LState) concatError(lhs, rhs LValue, i int) {
	v := lhs
	if LVCanConvToString(lhs) {
		v, i = rhs, i+1
	}
	reg := -1
	if inst, ok := ls.currentInst(); ok && opGetOpCode(inst) == OP_CONCAT {
		reg = i - ls.currentFrame.LocalBase
	}
	ls.typeError(v, "concatenate", reg)
}

// compareError is Lua's luaG_ordererror.
func (ls *LState) compareError(lhs, rhs LValue) {
	t1, t2 := lhs.Type().String(), rhs.Type().String()
	if t1 == t2 {
		ls.runtimeError("attempt to compare two %s values", t1)
	}
	ls.runtimeError("attempt to compare %s with %s", t1, t2)
}

// currentInst is the instruction the running function is executing, if it is
// a Lua function.
func (ls *LState) currentInst() (uint32, bool) {
	cf := ls.currentFrame
	if cf == nil || cf.Fn.IsG || cf.Pc < 1 || cf.Pc > len(cf.Fn.Proto.Code) {
		return opInvalidInstruction, false
	}
	return cf.Fn.Proto.Code[cf.Pc-1], true
}

// objName is what register reg of the running Lua function names at its
// current instruction, as the function objName finds it, provided that the
// register holds v.
func (ls *LState) objName(v LValue, reg int) (kind, name string) {
	cf := ls.currentFrame
	if reg < 0 || cf == nil || cf.Fn.IsG || cf.Pc < 1 {
		return "", ""
	}
	if idx := cf.LocalBase + reg; idx >= len(ls.reg.array) || ls.reg.array[idx] != v {
		return "", ""
	}
	return objName(cf.Fn, cf.Pc-1, reg)
}

// objName is Lua 5.1's getobjname: the kind of variable ("local", "global",
// "field", "upvalue" or "method") and the name of the value register reg of
// fn holds at instruction pc, or "" when it has none.
func objName(fn *LFunction, pc, reg int) (kind, name string) {
	if name, ok := fn.LocalName(reg+1, pc); ok {
		return "local", name
	}
	p := fn.Proto
	inst := lastSetter(p, pc, reg)
	switch opGetOpCode(inst) {
	case OP_GETGLOBAL:
		if s, ok := p.Constants[opGetArgBx(inst)].(LString); ok {
			return "global", string(s)
		}
	case OP_MOVE, OP_MOVEN:
		if a, b := opGetArgA(inst), opGetArgB(inst); b < a {
			return objName(fn, pc, b)
		}
	case OP_GETTABLE, OP_GETTABLEKS:
		return "field", constantName(p, opGetArgC(inst))
	case OP_GETUPVAL:
		if b := opGetArgB(inst); b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
		return "upvalue", "?"
	case OP_SELF:
		return "method", constantName(p, opGetArgC(inst))
	}
	return "", ""
}

// constantName is Lua 5.1's kname: the string constant rk, or "?".
func constantName(p *FunctionProto, rk int) string {
	if rk&opBitRk != 0 {
		if s, ok := p.Constants[rk&^opBitRk].(LString); ok {
			return string(s)
		}
	}
	return "?"
}

// lastSetter is the instruction before lastpc that last set register reg, as
// Lua 5.1's symbexec finds it: it reads the code from its start, follows
// forward jumps that do not pass lastpc and skips the words that are data
// (the upvalues of OP_CLOSURE, the count of OP_SETLIST). It is
// opInvalidInstruction when no instruction sets reg.
func lastSetter(p *FunctionProto, lastpc, reg int) uint32 {
	last := -1
	for pc := 0; pc < lastpc && pc < len(p.Code); pc++ {
		inst := p.Code[pc]
		op := opGetOpCode(inst)
		if op > opCodeMax {
			break
		}
		a := opGetArgA(inst)
		if opProps[op].SetRegA && a == reg {
			last = pc
		}
		switch op {
		case OP_LOADNIL:
			if a <= reg && reg <= opGetArgB(inst) {
				last = pc
			}
		case OP_SELF:
			if reg == a+1 {
				last = pc
			}
		case OP_TFORLOOP:
			if reg >= a+2 {
				last = pc
			}
		case OP_CALL, OP_TAILCALL:
			if reg >= a {
				last = pc
			}
		case OP_JMP, OP_FORLOOP, OP_FORPREP:
			if sbx := opGetArgSbx(inst); sbx > 0 && pc+1+sbx <= lastpc {
				pc += sbx
			}
		case OP_SETLIST:
			if opGetArgC(inst) == 0 {
				pc++
			}
		case OP_CLOSURE:
			if bx := opGetArgBx(inst); bx < len(p.FunctionPrototypes) {
				pc += int(p.FunctionPrototypes[bx].NumUpvalues)
			}
		}
	}
	if last < 0 {
		return opInvalidInstruction
	}
	return p.Code[last]
}
