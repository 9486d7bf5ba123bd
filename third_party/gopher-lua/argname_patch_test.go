package lua

import "testing"

// TestArgErrorNames: a bad-argument message names the function in quotes, as
// Lua 5.1's luaL_argerror does, by the name the calling instruction gives it
// (a global, a field, a local or a method), and "?" when there is none.
func TestArgErrorNames(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`math.sin(nil)`, "c:1: bad argument #1 to 'sin' (number expected, got nil)"},
		{`string.rep("x", {})`, "c:1: bad argument #2 to 'rep' (number expected, got table)"},
		{`("x"):rep({})`, "c:1: bad argument #1 to 'rep' (number expected, got table)"},
		{`local s = "x" s:sub({})`, "c:1: bad argument #1 to 'sub' (number expected, got table)"},
		{`return (function() return ("x"):rep({}) end)()`, "c:1: bad argument #1 to 'rep' (number expected, got table)"},
		{`math.floor({})`, "c:1: bad argument #1 to 'floor' (number expected, got table)"},
		{`table.insert(1, 2)`, "c:1: bad argument #1 to 'insert' (table expected, got number)"},
		{`tostring()`, "c:1: bad argument #1 to 'tostring' (value expected)"},
		{`setmetatable(1, {})`, "c:1: bad argument #1 to 'setmetatable' (table expected, got number)"},
		{`select("x")`, "c:1: bad argument #1 to 'select' (number expected, got string)"},
		{`string.format({})`, "c:1: bad argument #1 to 'format' (string expected, got table)"},
		{`string.char(256)`, "c:1: bad argument #1 to 'char' (invalid value)"},
		{`table.sort({2, 1}, false)`, "c:1: bad argument #2 to 'sort' (function expected, got boolean)"},
		{`local rep = string.rep rep(nil)`, "c:1: bad argument #1 to 'rep' (string expected, got nil)"},
		{`local t = {f = string.rep} t.f(nil)`, "c:1: bad argument #1 to 'f' (string expected, got nil)"},
		{`return ({string.rep})[1](nil)`, "c:1: bad argument #1 to '?' (string expected, got nil)"},
		{`local t = setmetatable({}, {__index = string.rep}) return t.x`, "c:1: bad argument #1 to '?' (string expected, got table)"},
		{`local o = {rep = string.rep} o:rep(1)`, "c:1: calling 'rep' on bad self (string expected, got table)"},
		{`table.concat({{}})`, "c:1: invalid value (table) at index 1 in table for 'concat'"},
	})
}
