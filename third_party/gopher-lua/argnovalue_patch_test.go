package lua

import "testing"

// TestArgErrorNoValue: an argument that was not given is "no value" in a
// bad-argument message, as Lua 5.1's luaL_typename writes it, and one given
// as nil is "nil".
func TestArgErrorNoValue(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`math.sin()`, "c:1: bad argument #1 to 'sin' (number expected, got no value)"},
		{`string.rep()`, "c:1: bad argument #1 to 'rep' (string expected, got no value)"},
		{`string.rep("x")`, "c:1: bad argument #2 to 'rep' (number expected, got no value)"},
		{`("x"):rep()`, "c:1: bad argument #1 to 'rep' (number expected, got no value)"},
		{`math.floor()`, "c:1: bad argument #1 to 'floor' (number expected, got no value)"},
		{`table.insert()`, "c:1: bad argument #1 to 'insert' (table expected, got no value)"},
		{`select()`, "c:1: bad argument #1 to 'select' (number expected, got no value)"},
		{`string.format()`, "c:1: bad argument #1 to 'format' (string expected, got no value)"},
		{`ipairs()`, "c:1: bad argument #1 to 'ipairs' (table expected, got no value)"},
		{`next()`, "c:1: bad argument #1 to 'next' (table expected, got no value)"},
		{`unpack()`, "c:1: bad argument #1 to 'unpack' (table expected, got no value)"},
		{`loadstring()`, "c:1: bad argument #1 to 'loadstring' (string expected, got no value)"},
		{`local f = function(...) return string.rep(...) end return f()`, "c:1: bad argument #1 to 'rep' (string expected, got no value)"},
		{`string.sub("x", 1, {})`, "c:1: bad argument #3 to 'sub' (number expected, got table)"},
		{`math.sin(nil)`, "c:1: bad argument #1 to 'sin' (number expected, got nil)"},
		{`tonumber(nil, 16)`, "c:1: bad argument #1 to 'tonumber' (string expected, got nil)"},
	})
}
