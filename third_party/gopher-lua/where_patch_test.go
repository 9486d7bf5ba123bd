package lua

import "testing"

// TestGoErrorPosition: an error a Go function raises names the line of the
// Lua function that called it, and no line when a Go function called it, as
// Lua 5.1's luaL_error does; an operation a Go function makes (a comparison
// in table.sort) fails without a position, as luaG_runerror outside Lua code.
func TestGoErrorPosition(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{"local function f()\n return string.rep()\nend\n\nf()", "c:2: bad argument #1 to 'rep' (string expected, got no value)"},
		{"local function f()\n return string.rep()\nend\n\nreturn f()", "c:2: bad argument #1 to 'rep' (string expected, got no value)"},
		{`table.sort({1, "x"})`, "attempt to compare string with number"},
		{`table.sort({{}, {}})`, "attempt to compare two table values"},
		{`table.sort({3, 2, 1}, function(a, b) error("cmp") end)`, "c:1: cmp"},
		{`table.sort({3, 2, 1}, function(a, b) error("cmp", 2) end)`, "cmp"},
		{`local t = setmetatable({}, {__index = string.rep}) return t.x`, "c:1: bad argument #1 to '?' (string expected, got table)"},
		{"local t = setmetatable({}, {__add = function() error('meta', 2) end})\nreturn t + 1", "c:2: meta"},
		{`local t = {} t[nil] = 1`, "c:1: table index is nil"},
		{`local t = {} t[0/0] = 1`, "c:1: table index is NaN"},
		{`("x"):bad()`, "c:1: attempt to call method 'bad' (a nil value)"},
		{`string.find("x", "%")`, "c:1: malformed pattern (ends with '%')"},
	})
	runLua51Cases(t, []lua51Case{
		{`pcall(string.rep)`, `false, "bad argument #1 to '?' (string expected, got no value)"`, ""},
		{`pcall(string.rep, "x", {})`, `false, "bad argument #2 to '?' (number expected, got table)"`, ""},
		{`pcall(setmetatable, 1)`, `false, "bad argument #1 to '?' (table expected, got number)"`, ""},
		{`pcall(tostring)`, `false, "bad argument #1 to '?' (value expected)"`, ""},
		{`pcall(pcall, string.rep)`, `true, false, "bad argument #1 to '?' (string expected, got no value)"`, ""},
		{`xpcall(string.rep, function(m) return m end)`, `false, "bad argument #1 to '?' (string expected, got no value)"`, ""},
		{`pcall(string.find, "x", "%")`, `false, "malformed pattern (ends with '%')"`, ""},
	})
}
