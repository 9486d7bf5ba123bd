package phases

import (
	"fmt"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// vm is one pooled Lua state with everything bound to it. It runs one
// request at a time.
type vm struct {
	e       *Engine
	L       *lua.LState
	fns     [][]*lua.LFunction        // per processor id: its handler functions in this state, nil until first used
	loaded  *lua.LTable               // modules required so far
	loading []string                  // the modules being loaded, the outermost first
	cycle   *requireCycle             // the require cycle being raised, until the require that began it
	res     *lua.LUserData            // the res object, reused by every request
	reqMT   *lua.LTable               // metatable of the running call's req: reads fall through to fields
	fields  *lua.LTable               // the req fields of the running call built so far; its __index builds them
	keptMT  *lua.LTable               // metatable of req tables whose call ended: their fields read nil
	errMT   *lua.LTable               // metatable of error values raised by bindings
	stashMT *lua.LTable               // metatable of stash objects
	arrayMT *lua.LTable               // the metatable that marks JSON arrays, shared by every request of the state
	stashes map[string]*lua.LUserData // the stash object of each collection, made on first use
	onErr   *lua.LFunction            // message handler: records where an error was raised
	call    *callState                // the request being run, nil between requests
	budget  *budget                   // the state's context, reused by every request
}

// newVM creates a sandboxed state with the globals and objects bound.
func (e *Engine) newVM() *vm {
	e.states.Add(1)
	v := &vm{e: e, L: e.newState(), fns: make([][]*lua.LFunction, len(e.procs)), budget: newBudget()}
	watchdog.register(v.budget)
	L := v.L
	L.SetContext(v.budget)
	v.loaded = L.NewTable()
	bindModules(L, v.modules(), v.functions())
	v.stashMT = v.stashMeta()
	v.arrayMT, _ = L.GetField(L.Get(lua.RegistryIndex), arrayMeta).(*lua.LTable)
	v.res = L.NewUserData()
	v.res.Value = v
	v.res.Metatable = v.resMeta()
	v.fields = L.CreateTable(0, len(reqFieldNames))
	v.fields.Metatable = L.CreateTable(0, 1)
	v.fields.Metatable.(*lua.LTable).RawSetString("__index", L.NewFunction(v.fieldIndex))
	// The metatables are shared by the state's requests: not for scripts to
	// change, and the fields table is out of their reach.
	v.reqMT = L.CreateTable(0, 2)
	v.reqMT.RawSetString("__index", v.fields)
	v.reqMT.RawSetString("__metatable", lua.LString("req"))
	v.keptMT = L.CreateTable(0, 1)
	v.keptMT.RawSetString("__metatable", lua.LString("req"))
	v.errMT = L.NewTable()
	v.errMT.RawSetString("__metatable", lua.LString("error"))
	v.errMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		if ud, ok := L.Get(1).(*lua.LUserData); ok {
			if err, ok := ud.Value.(error); ok {
				L.Push(lua.LString(err.Error()))
				return 1
			}
		}
		L.Push(lua.LString("error"))
		return 1
	}))
	v.onErr = L.NewFunction(v.recordWhere)
	return v
}

// bindModules installs each module as a global table of Go functions, and
// each function as a global. It is the one place Go functions become Lua
// globals.
func bindModules(L *lua.LState, mods map[string]map[string]lua.LGFunction, funcs map[string]lua.LGFunction) {
	for name, fn := range funcs {
		L.SetGlobal(name, L.NewFunction(fn))
	}
	for name, funcs := range mods {
		t := L.CreateTable(0, len(funcs))
		for fname, fn := range funcs {
			t.RawSetString(fname, L.NewFunction(fn))
		}
		L.SetGlobal(name, t)
	}
}

// get takes an idle state from the pool or creates one.
func (e *Engine) get() *vm {
	select {
	case v := <-e.pool:
		return v
	default:
		return e.newVM()
	}
}

// put returns a state to the pool, or closes it when the pool is full.
func (e *Engine) put(v *vm) {
	v.endCall()
	select {
	case e.pool <- v:
	default:
		v.close()
		return
	}
	if e.closed.Load() { // Close ran meanwhile: its drain may have missed v
		e.drain()
	}
}

// close closes the state and stops watching its budget.
func (v *vm) close() {
	watchdog.unregister(v.budget)
	v.L.Close()
}

// fn returns the handler function of a step in this state, running the
// processor's chunk here the first time.
func (v *vm) fn(s step) (*lua.LFunction, error) {
	fns := v.fns[s.proc.id]
	if fns == nil {
		entries, got, err := v.handlers(s.proc)
		if err != nil {
			return nil, err
		}
		if len(entries) != len(s.proc.entries) {
			return nil, &ScriptError{File: s.proc.file, Err: fmt.Errorf("declared %d handlers at load and %d now", len(s.proc.entries), len(entries))}
		}
		v.fns[s.proc.id] = got
		fns = got
	}
	return fns[s.entry], nil
}

// recordWhere is the message handler of every handler call: it notes the
// file and line of the innermost Lua function on the stack.
func (v *vm) recordWhere(L *lua.LState) int {
	obj := L.Get(1)
	if v.call != nil && v.call.where == "" {
		for level := 0; ; level++ {
			dbg, ok := L.GetStack(level)
			if !ok {
				break
			}
			if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
				break
			}
			if dbg.What != "G" && dbg.CurrentLine > 0 {
				v.call.where = fmt.Sprintf("%s:%d", dbg.Source, dbg.CurrentLine)
				break
			}
		}
	}
	L.Push(obj)
	return 1
}

// raise raises err in Lua as a value that keeps its Go type, so that the
// pipeline can map it to a status when the script does not catch it.
func (v *vm) raise(err error) int {
	ud := v.L.NewUserData()
	ud.Value = err
	ud.Metatable = v.errMT
	v.L.Error(ud, 1)
	return 0
}
