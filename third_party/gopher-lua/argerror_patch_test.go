package lua

import (
	"strings"
	"testing"
)

// TestMethodArgErrors: as Lua 5.1's luaL_argerror does, a function called
// as obj:name(...) does not count self in its bad-argument messages, and a
// bad self is named as such; a plain call counts every argument.
func TestMethodArgErrors(t *testing.T) {
	L := NewState()
	defer L.Close()
	L.SetGlobal("check", L.NewFunction(func(L *LState) int {
		L.CheckTable(1)
		L.CheckNumber(2)
		return 0
	}))
	tests := []struct{ code, want string }{
		{`("x"):rep({})`, "bad argument #1 to 'rep' (number expected, got table)"},
		{`string.rep("x", {})`, "bad argument #2 to 'rep' (number expected, got table)"},
		{`local s = "hello" s:sub({})`, "bad argument #1 to 'sub' (number expected, got table)"},
		{`local o = { check = check } o:check("n")`, "bad argument #1 to 'check' (number expected, got string)"},
		{`local o = { check = check } o.check(o, "n")`, "bad argument #2 to 'check' (number expected, got string)"},
		{`local o = setmetatable({}, { __index = { check = check } }) o.check("self", 1)`, "bad argument #1 to 'check' (table expected, got string)"},
		{`local s = "x" local o = { check = check } o.check(s, 1)`, "bad argument #1 to 'check' (table expected, got string)"},
		{`string.check = check; ("x"):check(1)`, "calling 'check' on bad self (table expected, got string)"},
	}
	for _, tc := range tests {
		err := L.DoString(tc.code)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err=%v, want %q", tc.code, err, tc.want)
		}
	}
}
