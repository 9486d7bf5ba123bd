package lua

import "testing"

// TestForLoopErrors: a numeric for loop checks its initial value, limit and
// step in that order and raises Lua 5.1's messages for them.
func TestForLoopErrors(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`for i = nil, 2 do end`, "c:1: 'for' initial value must be a number"},
		{`for i = 1, nil do end`, "c:1: 'for' limit must be a number"},
		{`for i = 1, 2, nil do end`, "c:1: 'for' step must be a number"},
		{`for i = 1, nil, nil do end`, "c:1: 'for' limit must be a number"},
		{`for i = {}, nil, nil do end`, "c:1: 'for' initial value must be a number"},
		{`for i = "x", 3 do end`, "c:1: 'for' initial value must be a number"},
		{`for i = 1, "y" do end`, "c:1: 'for' limit must be a number"},
		{`for i = 1, 2, "0x" do end`, "c:1: 'for' step must be a number"},
		{`local function f() for i = 1, f do end end f()`, "c:1: 'for' limit must be a number"},
	})
}

// TestForLoopNumerals: as in Lua 5.1, a numeric for loop takes strings that
// read as numbers and loops over numbers.
func TestForLoopNumerals(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`(function() local n = 0 for i = "1", " 3 " do n = n + i end return n end)()`, "6", ""},
		{`(function() local n = 0 for i = 1, 3, "1" do n = n + i end return n end)()`, "6", ""},
		{`(function() local t = {} for i = "0x10", 17 do t[#t+1] = i end return type(t[1]), t[1], #t end)()`, `"number", 16, 2`, ""},
	})
}

// TestForLoopHeaderLines: a for loop whose header spans lines names the
// lines Lua 5.1 names: the check of a numeric loop's values the line of its
// "do", and the call of a generic loop's generator the line of the first
// expression after "in".
func TestForLoopHeaderLines(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{"for i = 1,\n nil\n do end", "c:3: 'for' limit must be a number"},
		{"for i = 1,\n 2, {}\n\n do end", "c:4: 'for' step must be a number"},
		{"for i = {},\n 2\n do end", "c:3: 'for' initial value must be a number"},
		{"for i = 1, 2 do end for j = 1,\n\n nil do end", "c:3: 'for' limit must be a number"},
		{"for i = 1,\n 2\n do\n local x = nil + 1 end", "c:4: attempt to perform arithmetic on a nil value"},
		{"for i = 1,\n 3\n do if i == 2 then error('two') end end", "c:3: two"},
		{"for k, v in\n nil\n do end", "c:2: attempt to call a nil value"},
		{"for k, v in (\n nil\n) do end", "c:1: attempt to call a nil value"},
		{"local f\nfor k, v in f\n or\n nil do end", "c:2: attempt to call a nil value"},
		{"local function it() error('in it', 2) end\nfor k in\n it\n do end", "c:3: in it"},
		{"local t = nil\nfor k, v in\n pairs(t)\n do end", "c:3: bad argument #1 to 'pairs' (table expected, got nil)"},
	})
}
