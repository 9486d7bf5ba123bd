package phases

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
	"github.com/minimi-go/minimi/third_party/gopher-lua/pm"
)

// MaxStringBytes is the largest string that string.rep, string.format,
// string.gsub, table.concat and the .. operator build: one call cannot ask
// for gigabytes.
const MaxStringBytes = 16 << 20

// ErrMemoryLimit is a request whose scripts were stopped because the heap
// passed its limit while they ran.
var ErrMemoryLimit = errors.New("script memory limit exceeded")

// errStringTooLong is raised in Lua by a library function whose result would
// pass MaxStringBytes.
var errStringTooLong = fmt.Errorf("the result would be longer than %d bytes", MaxStringBytes)

// MaxResults is the most values unpack and string.byte return, as in Lua 5.1
// (LUAI_MAXCSTACK).
const MaxResults = 8000

// stackMargin is the room a library function leaves on the Lua value stack
// beyond its results, so that an error raised afterwards can still be
// handled.
const stackMargin = 64

// limitLibs replaces the library functions of L that can build a string far
// larger than their arguments with bounded versions (string.gsub and
// table.concat are also linear in their result, unlike gopher-lua's), makes
// the ones that push many values check the stack first, and makes xpcall
// call its handler after unwinding (see doc of safeXPCall).
func limitLibs(L *lua.LState) {
	g := L.G.Global
	if s, ok := g.RawGetString(lua.StringLibName).(*lua.LTable); ok {
		s.RawSetString("rep", L.NewFunction(strRep))
		s.RawSetString("gsub", L.NewFunction(strGsub))
		s.RawSetString("format", L.NewFunction(strFormat))
		wrap(L, s, "byte", strByte)
	}
	if t, ok := g.RawGetString(lua.TabLibName).(*lua.LTable); ok {
		t.RawSetString("concat", L.NewFunction(tableConcat))
	}
	wrap(L, g, "unpack", unpack)
	if g.RawGetString("xpcall") != lua.LNil {
		g.RawSetString("xpcall", L.NewFunction(safeXPCall))
	}
}

// wrap replaces the Go function t[name] with limit(it).
func wrap(L *lua.LState, t *lua.LTable, name string, limit func(lua.LGFunction) lua.LGFunction) {
	if orig, ok := t.RawGetString(name).(*lua.LFunction); ok && orig.IsG {
		t.RawSetString(name, L.NewFunction(limit(orig.GFunction)))
	}
}

// reserve raises a Lua error unless n more values fit on L's value stack
// with stackMargin to spare. Growing the stack first means that an overflow
// is raised while the stack still has room for the error's handler:
// gopher-lua's PCall cannot run a message handler on a full stack.
func reserve(L *lua.LState, fn string, n int) {
	if n < 0 { // the count overflowed
		L.RaiseError("%s: too many results (at most %d)", fn, MaxResults)
	}
	if n > MaxResults {
		L.RaiseError("%s: too many results (%d, at most %d)", fn, n, MaxResults)
	}
	top := L.GetTop()
	L.SetTop(top + n + stackMargin)
	L.SetTop(top)
}

// unpack is unpack(t[, i[, j]]) that checks the stack first.
func unpack(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		t := L.CheckTable(1)
		// As numbers, not ints: a range wider than an int holds (2^31 on
		// 32-bit platforms) is refused before it is counted in one.
		i, j := float64(L.OptNumber(2, 1)), float64(L.OptNumber(3, lua.LNumber(t.Len())))
		// A NaN bound is 0, as Lua 5.1 reads it on a 64-bit machine. It
		// passes the check below, and Go makes it the smallest int, from
		// which unpack would push values until the stack overflowed.
		if i != i {
			i = 0
			L.Replace(2, lua.LNumber(0))
		}
		if j != j {
			j = 0
			L.Replace(3, lua.LNumber(0))
		}
		if j >= i {
			if j-i > 2*MaxResults {
				L.RaiseError("unpack: too many results (at most %d)", MaxResults)
			}
			reserve(L, "unpack", int(j-i)+1)
		}
		return orig(L)
	}
}

// strByte is string.byte(s[, i[, j]]) that checks the stack first.
func strByte(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		n := len(L.CheckString(1))
		i := L.OptInt(2, 1)
		if i < 0 {
			i += n + 1
		}
		j := L.OptInt(3, i)
		if j < 0 {
			j += n + 1
		}
		if i, j = max(i, 1), min(j, n); j >= i {
			reserve(L, "string.byte", j-i+1)
		}
		return orig(L)
	}
}

// safeXPCall is xpcall(f, handler) that calls handler after the error has
// unwound f's stack, not at the point of the error. Without the debug
// library a handler cannot tell the difference, and it then always has the
// stack room to run (gopher-lua's xpcall fails on a full stack). As in
// Lua 5.1, f and handler may be any values; when handler is not a function
// or it fails, xpcall returns false and "error in error handling".
func safeXPCall(L *lua.LState) int {
	handler := L.CheckAny(2)
	fn := L.Get(1) // any value: calling one that is not a function is an error the handler gets
	top := L.GetTop()
	L.Push(fn)
	err := L.PCall(0, lua.MultRet, nil)
	if err == nil {
		L.Insert(lua.LTrue, top+1)
		return L.GetTop() - top
	}
	L.Push(handler)
	L.Push(errorValue(err))
	if _, ok := handler.(*lua.LFunction); !ok || L.PCall(1, 1, nil) != nil {
		L.Push(lua.LFalse)
		L.Push(lua.LString("error in error handling"))
		return 2
	}
	result := L.Get(-1)
	L.Pop(1)
	L.Push(lua.LFalse)
	L.Push(result)
	return 2
}

// errorValue is the Lua value an error was raised with.
func errorValue(err error) lua.LValue {
	var api *lua.ApiError
	if errors.As(err, &api) {
		return api.Object
	}
	return lua.LString(err.Error())
}

// memoryError is the reply to a call that the watchdog stopped for memory,
// or nil when its budget ended otherwise.
func memoryError(b *budget, where string) error {
	if !b.stoppedForMemory() {
		return nil
	}
	return &Error{Status: http.StatusServiceUnavailable, Title: "Script Memory Limit",
		Detail: "the request's scripts were stopped: " + ErrMemoryLimit.Error() + " (the server's memory passed its limit)",
		Source: where, Err: ErrMemoryLimit}
}

// strRep is string.rep(s, n), refusing results over MaxStringBytes.
func strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := float64(L.CheckNumber(2)) // compared as a number: 2^40 is too long, not an int's wrap
	if !(n >= 1) || s == "" {      // NaN too
		L.Push(lua.LString(""))
		return 1
	}
	if n >= float64(MaxStringBytes/len(s)+1) {
		L.RaiseError("string.rep: %s", errStringTooLong)
	}
	L.Push(lua.LString(strings.Repeat(s, int(n))))
	return 1
}

// boundedBuilder builds a string of at most MaxStringBytes, raising a Lua
// error in the function named fn past that.
type boundedBuilder struct {
	L  *lua.LState
	fn string
	b  strings.Builder
}

func (bb *boundedBuilder) add(s string) {
	if bb.b.Len()+len(s) > MaxStringBytes {
		bb.L.RaiseError("%s: %s", bb.fn, errStringTooLong)
	}
	bb.b.WriteString(s)
}

// tableConcat is table.concat(t[, sep[, i[, j]]]) as in Lua 5.1: every t[k]
// for i <= k <= j must be a string or a number, and so must sep.
func tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := ""
	if L.Get(2) != lua.LNil {
		sep = L.CheckString(2) // a number is written as its text
	}
	i := L.OptInt(3, 1)
	j := L.OptInt(4, t.Len())
	bb := boundedBuilder{L: L, fn: "table.concat"}
	for k := i; k <= j; k++ {
		v := t.RawGetInt(k)
		switch v.(type) {
		case lua.LString, lua.LNumber:
		default:
			L.RaiseError("table.concat: invalid value (%s) at index %d", v.Type(), k)
		}
		bb.add(lua.LVAsString(v))
		if k < j {
			bb.add(sep)
		}
	}
	L.Push(lua.LString(bb.b.String()))
	return 1
}

// strGsub is string.gsub(s, pattern, repl[, n]) with gopher-lua's patterns,
// building its result in one pass, one match at a time, and refusing
// results over MaxStringBytes. Matching stops when L's context (the call's
// budget) ends, as string.find and the VM do. As in Lua 5.1, n caps the
// replacements, and an n below 1 makes none.
func strGsub(L *lua.LState) int {
	str := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	limit := -1 // all
	if L.Get(4) != lua.LNil {
		limit = max(L.CheckInt(4), 0)
	}
	it, err := pm.NewIterator(pat, []byte(str), 0)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	bb := boundedBuilder{L: L, fn: "string.gsub"}
	last, n := 0, 0
	for n != limit {
		m, err := it.Next(L.Context())
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		if m == nil {
			break
		}
		n++
		start, end := m.Capture(0), m.Capture(1)
		bb.add(str[last:start])
		if r, ok := repl.(lua.LString); ok {
			expand(&bb, string(r), str, m)
		} else if s, ok := gsubValue(L, repl, str, m); ok {
			bb.add(s)
		} else {
			bb.add(str[start:end])
		}
		last = end
	}
	bb.add(str[last:])
	L.Push(lua.LString(bb.b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

// expand adds a replacement string: %0 is the whole match, %1..%9 the
// captures (%1 is the whole match when there are none), %x is x.
func expand(bb *boundedBuilder, repl, str string, m *pm.MatchData) {
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i+1 == len(repl) {
			bb.add(repl[i : i+1])
			continue
		}
		i++
		if d := repl[i]; d >= '0' && d <= '9' {
			bb.add(lua.LVAsString(capture(bb.L, str, m, int(d-'0'))))
		} else {
			bb.add(repl[i : i+1])
		}
	}
}

// capture returns capture n of m (0: the whole match), a number for a
// position capture.
func capture(L *lua.LState, str string, m *pm.MatchData, n int) lua.LValue {
	count := m.CaptureLength()/2 - 1
	if n == 1 && count == 0 {
		n = 0
	}
	if n > count {
		L.RaiseError("invalid capture index %%%d", n)
	}
	if m.IsPosCapture(2 * n) {
		return lua.LNumber(m.Capture(2 * n)) // already 1-based
	}
	return lua.LString(str[m.Capture(2*n):m.Capture(2*n+1)])
}

// gsubValue looks the first capture up in a table repl or calls a function
// repl with every capture. It reports false when the match stays as it is.
func gsubValue(L *lua.LState, repl lua.LValue, str string, m *pm.MatchData) (string, bool) {
	var val lua.LValue
	switch r := repl.(type) {
	case *lua.LTable:
		val = L.GetTable(r, capture(L, str, m, 1))
	case *lua.LFunction:
		n := max(m.CaptureLength()/2-1, 1)
		L.Push(r)
		for k := 1; k <= n; k++ {
			L.Push(capture(L, str, m, k))
		}
		L.Call(n, 1)
		val = L.Get(-1)
		L.Pop(1)
	}
	switch val.(type) {
	case lua.LString, lua.LNumber:
		return lua.LVAsString(val), true
	}
	if lua.LVIsFalse(val) {
		return "", false
	}
	L.RaiseError("string.gsub: invalid replacement value (a %s)", val.Type())
	return "", false
}
