package lua

import (
	"strings"
	"testing"
)

// runErrorCases runs each chunk, named "c", and compares the message of the
// error it raises with want, the one Lua 5.1 gives for the same chunk
// (lua5.1 -e 'print(select(2, pcall(loadstring(code, "=c"))))').
func runErrorCases(t *testing.T, tests []struct{ code, want string }) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			L := NewState()
			defer L.Close()
			fn, err := L.Load(strings.NewReader(tc.code), "c")
			if err != nil {
				t.Fatal(err)
			}
			L.Push(fn)
			err = L.PCall(0, 0, nil)
			if err == nil {
				t.Fatalf("PCall()=nil, want %q", tc.want)
			}
			got := err.Error()
			if aerr, ok := err.(*ApiError); ok {
				got = aerr.Object.String()
			}
			if got != tc.want {
				t.Errorf("error %q, want %q", got, tc.want)
			}
		})
	}
}

// TestTypeErrorNames: an operation on a value of the wrong type names the
// variable the value came from, as Lua 5.1's luaG_typeerror does: a local,
// a global, a field, an upvalue or a method, and nothing for a value no
// variable holds.
func TestTypeErrorNames(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`local x; x.y = 1`, "c:1: attempt to index local 'x' (a nil value)"},
		{`local x; return x.y`, "c:1: attempt to index local 'x' (a nil value)"},
		{`local a; return a[1]`, "c:1: attempt to index local 'a' (a nil value)"},
		{`local x = true; return x.y`, "c:1: attempt to index local 'x' (a boolean value)"},
		{`local f = function() end; return f.x`, "c:1: attempt to index local 'f' (a function value)"},
		{`return foo.bar`, "c:1: attempt to index global 'foo' (a nil value)"},
		{`foo.bar = 1`, "c:1: attempt to index global 'foo' (a nil value)"},
		{`local t = {} ; t.a.b = 1`, "c:1: attempt to index field 'a' (a nil value)"},
		{`local t = {}; return t.x.y.z`, "c:1: attempt to index field 'x' (a nil value)"},
		{`local t = {}; t[1][2] = 1`, "c:1: attempt to index field '?' (a nil value)"},
		{`local k = "k"; local t = {}; return t[k].x`, "c:1: attempt to index field '?' (a nil value)"},
		{`return math.floor.x`, "c:1: attempt to index field 'floor' (a function value)"},
		{`local s = "x"; return s.y.z`, "c:1: attempt to index field 'y' (a nil value)"},
		{`local x = ({})[1].x`, "c:1: attempt to index field '?' (a nil value)"},
		{`local u; local function f() return u.x end f()`, "c:1: attempt to index upvalue 'u' (a nil value)"},
		{`local t = {}; t.x:y()`, "c:1: attempt to index field 'x' (a nil value)"},
		{`local t = {} function t:m() return self.x.y end t:m()`, "c:1: attempt to index field 'x' (a nil value)"},
		{`local t = {} function t:m() return self.x end t.m(nil)`, "c:1: attempt to index local 'self' (a nil value)"},
		{`return (nil).x`, "c:1: attempt to index a nil value"},
		{`return ({}).x.y`, "c:1: attempt to index field 'x' (a nil value)"},
		{`local function f() end; f().x = 1`, "c:1: attempt to index a nil value"},
		{`local t = setmetatable({}, {__index = 5}); return t.x`, "c:1: attempt to index a number value"},
		{`local t = setmetatable({}, {__newindex = true}); t.x = 1`, "c:1: attempt to index a boolean value"},

		{`foo()`, "c:1: attempt to call global 'foo' (a nil value)"},
		{`return foo()`, "c:1: attempt to call global 'foo' (a nil value)"},
		{`local t = {}; t:m()`, "c:1: attempt to call method 'm' (a nil value)"},
		{`local s = "x"; s:nope()`, "c:1: attempt to call method 'nope' (a nil value)"},
		{`local t = {}; t.f()`, "c:1: attempt to call field 'f' (a nil value)"},
		{`string.foo()`, "c:1: attempt to call field 'foo' (a nil value)"},
		{`local t = {}; t[1]()`, "c:1: attempt to call field '?' (a nil value)"},
		{`local x = 1; x()`, "c:1: attempt to call local 'x' (a number value)"},
		{`local u; local function f() u() end f()`, "c:1: attempt to call upvalue 'u' (a nil value)"},
		{`return (nil)()`, "c:1: attempt to call a nil value"},
		{`local t = setmetatable({}, {__call = 1}); t()`, "c:1: attempt to call local 't' (a table value)"},
		{`for k in nil do end`, "c:1: attempt to call a nil value"},

		{`local n; return n + 1`, "c:1: attempt to perform arithmetic on local 'n' (a nil value)"},
		{`local a, b = 1, nil; return a + b`, "c:1: attempt to perform arithmetic on local 'b' (a nil value)"},
		{`local a = {}; return a.b + a.c`, "c:1: attempt to perform arithmetic on field 'b' (a nil value)"},
		{`local m = {a = 1, c = 2}; local x = m.a + m.b * m.c`, "c:1: attempt to perform arithmetic on field 'b' (a nil value)"},
		{`local u; local function f() return u + 1 end f()`, "c:1: attempt to perform arithmetic on upvalue 'u' (a nil value)"},
		{`g = nil; g = g + 1`, "c:1: attempt to perform arithmetic on global 'g' (a nil value)"},
		{`local a = "z"; return a * 2`, "c:1: attempt to perform arithmetic on local 'a' (a string value)"},
		{`local a, b = "10", {}; return a * b`, "c:1: attempt to perform arithmetic on local 'b' (a table value)"},
		{`return "abc" + 1`, "c:1: attempt to perform arithmetic on a string value"},
		{`return 1 + {}`, "c:1: attempt to perform arithmetic on a table value"},
		{`local function f() end; return f() + 1`, "c:1: attempt to perform arithmetic on a nil value"},
		{`local n; return -n`, "c:1: attempt to perform arithmetic on local 'n' (a nil value)"},
		{`return -{}`, "c:1: attempt to perform arithmetic on a table value"},

		{`local t = {}; return #t.x`, "c:1: attempt to get length of field 'x' (a nil value)"},
		{`local n; return #n`, "c:1: attempt to get length of local 'n' (a nil value)"},
		{`return #nil`, "c:1: attempt to get length of a nil value"},

		{`local s; return "a" .. s`, "c:1: attempt to concatenate local 's' (a nil value)"},
		{`local s; return s .. "a"`, "c:1: attempt to concatenate local 's' (a nil value)"},
		{`local a, b; return a .. b`, "c:1: attempt to concatenate local 'a' (a nil value)"},
		{`local a, b, c = "a", nil, "c"; return a .. b .. c`, "c:1: attempt to concatenate local 'b' (a nil value)"},
		{`return x .. "a"`, "c:1: attempt to concatenate global 'x' (a nil value)"},
		{`local t = {}; return t.x .. t.y`, "c:1: attempt to concatenate field 'x' (a nil value)"},
		{`return {} .. "x"`, "c:1: attempt to concatenate a table value"},
		{`local a; a = a .. "x"`, "c:1: attempt to concatenate local 'a' (a nil value)"},

		{"local t = {}\n\nreturn t.x.y", "c:3: attempt to index field 'x' (a nil value)"},
		{"local function f()\n  local z\n  return z.q\nend\nf()", "c:3: attempt to index local 'z' (a nil value)"},
	})
}

// TestTypeErrorLocalScopes: a register is named after the local variable
// that holds it at the failing instruction, so the names follow blocks,
// loops and the locals declared after them.
func TestTypeErrorLocalScopes(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`do local a = 1 end local b; return b.x`, "c:1: attempt to index local 'b' (a nil value)"},
		{`do local a, c = 1, 2 end local b; b()`, "c:1: attempt to call local 'b' (a nil value)"},
		{`local x = 1 do local y; y.z = 1 end`, "c:1: attempt to index local 'y' (a nil value)"},
		{`local function f(a, b) return a + b end return f(1)`, "c:1: attempt to perform arithmetic on local 'b' (a nil value)"},
		{`local function f(...) local t = ...; return t.x end return f()`, "c:1: attempt to index local 't' (a nil value)"},
		{`local t = {} for i = 1, 2 do t[i].x = 1 end`, "c:1: attempt to index field '?' (a nil value)"},
		{`for k, v in pairs({a = 1}) do local z = k + {} end`, "c:1: attempt to perform arithmetic on local 'k' (a string value)"},
		{`local i = 0 while i < 3 do i = i + 1; local q; if i == 2 then q.x = 1 end end`, "c:1: attempt to index local 'q' (a nil value)"},
		{`local i = 0 repeat local r; i = i + 1 until r.x`, "c:1: attempt to index local 'r' (a nil value)"},
		{`local t = {} local v = t.a or t.b; return v.c`, "c:1: attempt to index local 'v' (a nil value)"},
		{`local x; if x then return 1 end return x.y`, "c:1: attempt to index local 'x' (a nil value)"},
		{`local a = {} local b = a.n if b then return 1 end return b.m`, "c:1: attempt to index local 'b' (a nil value)"},
		{`local a, b, c, d = 1, 2, 3; local e, f, g = b, c, d; return g.x`, "c:1: attempt to index local 'g' (a nil value)"},
		{`local up1 local function f() local function g() return up1.x end return g() end f()`, "c:1: attempt to index upvalue 'up1' (a nil value)"},
		{`aaa={}; (aaa or aaa)()`, "c:1: attempt to call a table value"},
	})
}

// TestCompareErrors: as Lua 5.1's luaG_ordererror, two values of one type
// are "two <type> values".
func TestCompareErrors(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`return 1 < {}`, "c:1: attempt to compare number with table"},
		{`return "a" < 1`, "c:1: attempt to compare string with number"},
		{`return 1 <= {}`, "c:1: attempt to compare number with table"},
		{`return {} < {}`, "c:1: attempt to compare two table values"},
		{`return {} <= {}`, "c:1: attempt to compare two table values"},
		{`return true < false`, "c:1: attempt to compare two boolean values"},
		{`return nil > nil`, "c:1: attempt to compare two nil values"},
		{`return print < print`, "c:1: attempt to compare two function values"},
	})
}

// TestTypeErrorsFromGo: a value that a Go function, not an instruction,
// fails on has no name.
func TestTypeErrorsFromGo(t *testing.T) {
	L := NewState()
	defer L.Close()
	L.SetGlobal("getx", L.NewFunction(func(L *LState) int {
		L.Push(L.GetField(L.Get(1), "x"))
		return 1
	}))
	if err := L.DoString(`local t; ok, msg = pcall(getx, t); ok2, msg2 = pcall(nil)`); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"msg":  "attempt to index a nil value",
		"msg2": "attempt to call a nil value",
	} {
		if got := L.GetGlobal(name).String(); !strings.HasSuffix(got, want) || strings.Contains(got, "'") {
			t.Errorf("%s=%q, want %q", name, got, want)
		}
	}
}

// TestLocalNamesAfterBlocks: the debug information of a local declared
// after a block names its register, as in Lua 5.1, so debug.getlocal finds
// it.
func TestLocalNamesAfterBlocks(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`(function() do local a = 1 end local b = 2 return debug.getlocal(1, 1) end)()`, `"b", 2`, ""},
		{`(function() do local a = 1 end local b, c = 2, 3 return debug.getlocal(1, 2) end)()`, `"c", 3`, ""},
		{`(function() local a = 1 return debug.getlocal(1, 1) end)()`, `"a", 1`, ""},
		{`(function() for i = 7, 7 do return debug.getlocal(1, 4) end end)()`, `"i", 7`, ""},
	})
}

// BenchmarkInstructions runs loops of the instructions whose error branches
// name variables, to compare their speed with upstream's.
func BenchmarkInstructions(b *testing.B) {
	for _, bc := range []struct{ name, code string }{
		{"fields", `local t = {a = {b = 1}} local s = 0 for i = 1, 1000 do t.a.b = t.a.b + i; s = s + t.a.b end`},
		{"calls", `local o = {n = 0} function o:inc(k) self.n = self.n + k end local function f(x) return x end for i = 1, 1000 do o:inc(f(i)) end`},
		{"arith", `local s, x = 0, 1.5 for i = 1, 1000 do s = (s + i * x - i / 2) % 1000; s = -s end`},
		{"concat", `local p = "k" for i = 1, 1000 do local s = p .. i .. "x" end`},
		{"compare", `local n = 0 for i = 1, 1000 do if i < 500 then n = n + 1 end if "a" <= "b" then n = n + 1 end end`},
		{"globals", `g = 0 for i = 1, 1000 do g = g + #"abc" end`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			L := NewState()
			defer L.Close()
			fn, err := L.LoadString(bc.code)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				L.Push(fn)
				if err := L.PCall(0, 0, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
