package phases

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// forbidden are the globals of gopher-lua's base library that reach the host
// or let a script escape its environment. They are removed from every state.
var forbidden = []string{
	"dofile", "loadfile", "load", "loadstring", "module", "require",
	"getfenv", "setfenv", "collectgarbage", "newproxy", "_printregs", "print",
}

// libName is what require accepts: dotted Lua identifiers.
var libName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// newState creates a sandboxed Lua state: base (less the forbidden
// functions), table, string, math and utf8, MiniMi's globals and require for lib/.
func (e *Engine) newState() *lua.LState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:    true,
		CallStackSize:   e.opts.CallStackSize,
		RegistrySize:    1024,
		RegistryMaxSize: e.opts.RegistrySize,
		MaxStringSize:   MaxStringBytes,
	})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range forbidden {
		g.RawSetString(name, lua.LNil)
	}
	if s, ok := g.RawGetString("string").(*lua.LTable); ok {
		s.RawSetString("dump", lua.LNil)
	}
	// gopher-lua's math.huge is the largest float64, a number JSON holds, so
	// a record or reply given it stored 1.7976931348623157e+308. Lua's is
	// the infinity, which no JSON holds and every encoding refuses, as NaN.
	if m, ok := g.RawGetString(lua.MathLibName).(*lua.LTable); ok {
		m.RawSetString("huge", lua.LNumber(math.Inf(1)))
	}
	limitLibs(L)
	openUTF8(L)
	// gopher-lua's string metatable lets "x":fn() reach the string table; keep
	// it, as it holds nothing beyond the string library.
	L.SetField(L.Get(lua.RegistryIndex), arrayMeta, L.NewTable())
	return L
}

// require loads a module from lib/: require("a.b") runs lib/a/b.lua once per
// state and returns what it returned. A module required again while it is
// still loading is a require cycle: an error that names it.
func (v *vm) require(L *lua.LState) int {
	name := L.CheckString(1)
	if !libName.MatchString(name) {
		L.ArgError(1, fmt.Sprintf("bad module name %q", name))
	}
	if mod := v.loaded.RawGetString(name); mod != lua.LNil {
		L.Push(mod)
		return 1
	}
	proto, ok := v.e.libs[name]
	if !ok {
		if err := v.e.brokenLibs[name]; err != nil {
			L.RaiseError("require(%q): %v", name, err)
		}
		L.RaiseError("module %q not found in lib/", name)
	}
	if len(v.loading) == 0 {
		v.cycle = nil // a cycle error that a module caught is not on its way out
	}
	if i := slices.Index(v.loading, name); i >= 0 {
		v.raiseCycle(L, name, v.loading[i:])
	}
	fn := L.NewFunctionFromProto(proto)
	fn.Env = v.env()
	L.Push(fn)
	v.loading = append(v.loading, name)
	err := L.PCall(0, 1, nil)
	v.loading = v.loading[:len(v.loading)-1]
	if err != nil {
		v.libError(L, name, err)
	}
	mod := L.Get(-1)
	if mod == lua.LNil {
		mod = lua.LTrue
	}
	v.loaded.RawSetString(name, mod)
	L.Pop(1)
	L.Push(mod)
	return 1
}

// requireCycle is the error of a require cycle on its way out: the
// requires of the modules in the cycle let it pass as it is, and the one
// that began the cycle raises it at the line of its caller. Each of them
// wrapping it in its own file:line would say the cycle once per module.
type requireCycle struct {
	start string      // the module required again
	msg   lua.LString // what the error says
}

// raiseCycle raises the error of require(name) while the modules of chain,
// name first, are loading.
func (v *vm) raiseCycle(L *lua.LState, name string, chain []string) {
	var msg string
	if len(chain) == 1 {
		msg = fmt.Sprintf("require(%q): %s requires itself (%s → %s)", name, v.e.libs[name].SourceName, name, name)
	} else {
		msg = fmt.Sprintf("require(%q): cycle %s → %s", name, strings.Join(chain, " → "), name)
	}
	// The line of the require that closes the cycle, unless pcall called it.
	if at := callerWhere(L); at != "" {
		msg += ", at " + at
	}
	v.cycle = &requireCycle{start: name, msg: lua.LString(msg)}
	L.Error(v.cycle.msg, 0)
}

// libError raises again an error that module name raised while it ran. A
// message gets the require in front, so that it names both the script that
// required the module and the module's file:line; an error value (a table,
// a binding's error) is raised as it is, to keep its status. A require
// cycle's error passes up to the require that began the cycle, which gives
// it its caller's file:line.
func (v *vm) libError(L *lua.LState, name string, err error) {
	api, ok := err.(*lua.ApiError)
	if !ok {
		L.RaiseError("require(%q): %v", name, err)
	}
	if c := v.cycle; c != nil && api.Object == c.msg {
		if name != c.start {
			L.Error(c.msg, 0)
		}
		v.cycle = nil
		L.RaiseError("%s", string(c.msg))
	}
	if msg, ok := api.Object.(lua.LString); ok {
		L.RaiseError("require(%q): %s", name, string(msg))
	}
	L.Error(api.Object, 0)
}

// env returns a fresh environment for one script: its global writes stay in
// it, its reads fall through to the shared globals.
func (v *vm) env() *lua.LTable {
	env := v.L.NewTable()
	// _G is the file's own globals, as in Lua: through the shared table a
	// global set in one file would be seen by every other.
	env.RawSetString("_G", env)
	mt := v.L.CreateTable(0, 2)
	mt.RawSetString("__index", v.L.G.Global)
	mt.RawSetString("__metatable", lua.LString("globals"))
	v.L.SetMetatable(env, mt)
	return env
}

// libModule turns a file path under lib/ into the module name require uses:
// "a/b.lua" → "a.b".
func libModule(path string) (string, bool) {
	if !strings.HasSuffix(path, ".lua") {
		return "", false
	}
	name := strings.ReplaceAll(strings.TrimSuffix(path, ".lua"), "/", ".")
	return name, libName.MatchString(name)
}
