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
