package lua

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// lua51Case is a Lua expression and what Lua 5.1 gives for it: its values
// joined by ", ", a string in double quotes and others through tostring (""
// for no values), or a fragment of the error it raises.
type lua51Case struct {
	expr, want, err string
}

func runLua51Cases(t *testing.T, tests []lua51Case) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			L := NewState()
			defer L.Close()
			err := L.DoString(`local r = { n = select("#", ` + tc.expr + `), ` + tc.expr + ` }
				for i = 1, r.n do r[i] = type(r[i]) == "string" and '"' .. r[i] .. '"' or tostring(r[i]) end
				got = table.concat(r, ", ", 1, r.n)`)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err=%v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := L.GetGlobal("got").String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFindAndMatchInit: string.find and string.match read init as Lua 5.1's
// str_find_aux does: a negative one counts from the end, one before the
// start is 1, one past the end is #s + 1, and an empty pattern matches at
// init. A match that fails is one nil.
func TestFindAndMatchInit(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`string.find("abc", "")`, "1, 0", ""},
		{`string.find("abc", "", 2)`, "2, 1", ""},
		{`string.find("abc", "", 4)`, "4, 3", ""},
		{`string.find("abc", "", 10)`, "4, 3", ""},
		{`string.find("abc", "", -1)`, "3, 2", ""},
		{`string.find("abc", "", -10)`, "1, 0", ""},
		{`string.find("abc", "", 0)`, "1, 0", ""},
		{`string.find("", "")`, "1, 0", ""},
		{`string.find("", "", 5)`, "1, 0", ""},
		{`string.find("abc", "", 2, true)`, "2, 1", ""},
		{`string.find("abc", "x*", 5)`, "4, 3", ""},
		{`string.find("abc", "x*", 4)`, "4, 3", ""},
		{`string.find("abc", "()", 10)`, "4, 3, 4", ""},
		{`string.find("abc", "^", 10)`, "4, 3", ""},
		{`string.find("abc", "$", 10)`, "4, 3", ""},
		{`string.find("abc", "b", 10)`, "nil", ""},
		{`string.find("abc", "b", 10, true)`, "nil", ""},
		{`string.find("abc", "c", 3, true)`, "3, 3", ""},
		{`string.find("abc", "c", -1, true)`, "3, 3", ""},
		{`string.find("abc", "b", -10)`, "2, 2", ""},
		{`string.find("abc", "b", 3)`, "nil", ""},
		{`string.match("abc", "()", 5)`, "4", ""},
		{`string.match("abc", "()", 4)`, "4", ""},
		{`string.match("abc", "()", -1)`, "3", ""},
		{`string.match("abc", "", 10)`, `""`, ""},
		{`string.match("abc", ".", 10)`, "nil", ""},
		{`string.match("abc", "x")`, "nil", ""},
		{`string.match("abc", "(x)(y)")`, "nil", ""},
		{`string.match("abc", "b")`, `"b"`, ""},
		{`string.match("abc", "(b)(c)")`, `"b", "c"`, ""},
		{`("abc"):match("c", 10)`, "nil", ""},
	})
}

// TestMalformedPatterns: a pattern that ends with '%', a set without its ']'
// and a %b without its two characters raise Lua 5.1's errors. They are
// raised when the pattern is read, before any matching, as this copy's
// other pattern errors are.
func TestMalformedPatterns(t *testing.T) {
	const endsWithPercent, missingBracket, unbalanced = "malformed pattern (ends with '%')", "malformed pattern (missing ']')", "unbalanced pattern"
	runLua51Cases(t, []lua51Case{
		{`string.find("abc", "%")`, "", endsWithPercent},
		{`string.find("", "%")`, "", endsWithPercent},
		{`string.find("abc", "a%")`, "", endsWithPercent},
		{`string.match("abc", "%")`, "", endsWithPercent},
		{`(function() for _ in string.gmatch("abc", "%") do end end)()`, "", endsWithPercent},
		{`string.gsub("abc", "%", "x")`, "", endsWithPercent},
		{`string.find("abc", "[a")`, "", missingBracket},
		{`string.find("abc", "[%")`, "", missingBracket},
		{`string.find("abc", "[^")`, "", missingBracket},
		{`string.find("abc", "[]")`, "", missingBracket},
		{`string.find("abc", "[a-")`, "", missingBracket},
		{`string.find("abc", "%b")`, "", unbalanced},
		{`string.find("abc", "%ba")`, "", unbalanced},
		{`string.find("a%", "%%")`, "2, 2", ""},
		{`string.find("a]", "]")`, "2, 2", ""},
		{`string.find("x]", "[]]")`, "2, 2", ""},
		{`string.find("x-", "[a-]")`, "2, 2", ""},
		{`string.find("x%", "[%%]")`, "2, 2", ""},
		{`string.find("a(b)", "%b()")`, "2, 4", ""},
		{`string.find("a.", "%.")`, "2, 2", ""},
	})
}

// TestMathRandomArguments: math.random checks its interval as Lua 5.1's
// math_random does, instead of failing with Go's "invalid argument to Intn".
func TestMathRandomArguments(t *testing.T) {
	const inRange = `(function() for i = 1, 200 do local r = math.random(%s) if r < %s or r > %s or r %% 1 ~= 0 then return r end end return true end)()`
	within := func(args, lo, hi string) string { return fmt.Sprintf(inRange, args, lo, hi) }
	runLua51Cases(t, []lua51Case{
		{`math.random(0)`, "", "bad argument #1 to 'random' (interval is empty)"},
		{`math.random(-1)`, "", "bad argument #1 to 'random' (interval is empty)"},
		{`math.random(3, 2)`, "", "bad argument #2 to 'random' (interval is empty)"},
		{`math.random(1, 2, 3)`, "", "wrong number of arguments"},
		{`math.random(1)`, "1", ""},
		{`math.random(3, 3)`, "3", ""},
		{`math.random(-3, -3)`, "-3", ""},
		{within("5", "1", "5"), "true", ""},
		{within("-2, 2", "-2", "2"), "true", ""},
		{within("-2^62, 2^62", "-2^62", "2^62"), "true", ""},
		{`(function() local r = math.random() return r >= 0 and r < 1 end)()`, "true", ""},
	})
}

// TestGmatchIsLazy: string.gmatch finds one match per call, so a loop that
// stops at the first match of a long subject allocates next to nothing
// (Lua 5.1's gmatch keeps only its position).
func TestGmatchIsLazy(t *testing.T) {
	L := NewState()
	defer L.Close()
	if err := L.DoString(`s = string.rep("a", 1000000)`); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := L.DoString(`for c in s:gmatch("a") do first = c break end`); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := L.GetGlobal("first").String(); got != "a" {
		t.Fatalf("first match=%q, want a", got)
	}
	if n := after.Mallocs - before.Mallocs; n > 10000 {
		t.Errorf("the first match of a 1,000,000-byte subject took %d allocations, want a few", n)
	}
}

// TestGsubLimit: string.gsub's fourth argument caps the replacements as in
// Lua 5.1: none for 0 or less, all for nil.
func TestGsubLimit(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`string.gsub("abc", "%w", "x")`, `"xxx", 3`, ""},
		{`string.gsub("abc", "%w", "x", nil)`, `"xxx", 3`, ""},
		{`string.gsub("abc", "%w", "x", 2)`, `"xxc", 2`, ""},
		{`string.gsub("abc", "%w", "x", 0)`, `"abc", 0`, ""},
		{`string.gsub("abc", "%w", "x", -1)`, `"abc", 0`, ""},
		{`string.gsub("abc", "%w", "x", "2")`, `"xxc", 2`, ""},
		{`string.gsub("abc", "%w", "x", {})`, "", "number expected"},
	})
}

// TestGmatchIsAClosure: string.gmatch returns one function, which can be
// called directly as well as from a for loop, as in Lua 5.1.
func TestGmatchIsAClosure(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`select("#", string.gmatch("abc", "."))`, "1", ""},
		{`type(string.gmatch("abc", "."))`, `"function"`, ""},
		{`(function() local it = string.gmatch("a b", "%a") return it(), it(), it() end)()`, `"a", "b"`, ""},
		{`(function() local it = string.gmatch("a b", "%a") it() it() it() return select("#", it()) end)()`, "0", ""},
		{`(function() local it = ("k=v"):gmatch("(%w)=(%w)") return it() end)()`, `"k", "v"`, ""},
		{`(function() local t = {} for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do t[#t + 1] = k .. v end return table.concat(t, " ") end)()`, `"a1 b2"`, ""},
		{`(function() local n = 0 for p in string.gmatch("abc", "()") do n = n + p end return n end)()`, "10", ""},
		{`(function() local a, b = string.gmatch("xy", "."), string.gmatch("xy", ".") return a() .. b() .. a() .. b() end)()`, `"xxyy"`, ""},
	})
}

// TestBackReferences: a back reference %n matches what capture n matched,
// as in Lua 5.1. One to a position capture never matches (Lua compares the
// position capture's length, -2, as an unsigned size), and one to a
// capture that is still open where it stands, or not yet opened, raises
// "invalid capture index" when the matcher gets there. Both sliced the
// subject out of range, a Go runtime error, on subjects of every length once
// gmatch read the subject in place.
func TestBackReferences(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`string.find("aa", "(a)%1")`, `1, 2, "a"`, ""},
		{`string.find("xyxy", "(x)(y)%1%2")`, `1, 4, "x", "y"`, ""},
		{`string.find("xaa", "((a)%2)")`, `2, 3, "aa", "a"`, ""},
		{`string.find("a", "(a)%1")`, "nil", ""},
		{`string.find("a", "()%1")`, "nil", ""},
		{`string.find("ab", "()%1", 3)`, "nil", ""},
		{`string.match("ab", "b()%1")`, "nil", ""},
		{`string.gsub("ab", "()%1", "-")`, `"ab", 0`, ""},
		{`(function() local n = 0 for p in string.gmatch("ab", "()%1") do n = n + 1 end return n end)()`, "0", ""},
		{`(function() local t = {} for p in string.gmatch("aabb", "(.)%1") do t[#t + 1] = p end return table.concat(t) end)()`, `"ab"`, ""},
		{`string.find("b", "x((a)%1)")`, "nil", ""},
		{`string.find("aa", "((a)%1)")`, "", "invalid capture index"},
		{`string.find("xa", "((a)%1)")`, "", "invalid capture index"},
		{`string.gsub("xa", "((a)%1)", "-")`, "", "invalid capture index"},
		{`string.gmatch("xa", "(a%1)")()`, "", "invalid capture index"},
		{`string.find("xa", "(a)%2")`, "", "invalid capture index"},
	})
}

// TestGmatchCaret: as in Lua 5.1, a '^' at the start of a gmatch pattern is
// a plain character, not an anchor (which would stop the iteration after
// one try); string.find, match and gsub still anchor with it.
func TestGmatchCaret(t *testing.T) {
	all := func(s, p string) string {
		return `(function() local t = {} for m in string.gmatch("` + s + `", "` + p + `") do t[#t + 1] = m end return #t, table.concat(t, ",") end)()`
	}
	runLua51Cases(t, []lua51Case{
		{all("aaa", "^a"), `0, ""`, ""},
		{all("^a^a", "^a"), `2, "^a,^a"`, ""},
		{all("^^a", "^*"), `3, "^^,,"`, ""},
		{all("a^b", "^?b"), `1, "^b"`, ""},
		{all("^x^y", "^(%a)"), `2, "x,y"`, ""},
		{all("", "^"), `0, ""`, ""},
		{`string.find("aa", "^a", 2)`, "2, 2", ""},
		{`string.gsub("aaa", "^a", "b")`, `"baa", 1`, ""},
		{`string.match("^a", "^^")`, `"^"`, ""},
	})
}

// TestNumberText: a number becomes text as in Lua 5.1, with C's "%.14g":
// 14 significant digits, an exponent from 1e14 on and below 1e-4, "-0", and
// C's inf and nan.
func TestNumberText(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`tostring(100)`, `"100"`, ""},
		{`tostring(-7)`, `"-7"`, ""},
		{`tostring(12.5)`, `"12.5"`, ""},
		{`tostring(0.1 + 0.2)`, `"0.3"`, ""},
		{`tostring(1/3)`, `"0.33333333333333"`, ""},
		{`tostring(99999999999999)`, `"99999999999999"`, ""},
		{`tostring(123456789012345)`, `"1.2345678901234e+14"`, ""},
		{`tostring(1e15)`, `"1e+15"`, ""},
		{`tostring(2^53)`, `"9.007199254741e+15"`, ""},
		{`tostring(2^63)`, `"9.2233720368548e+18"`, ""},
		{`tostring(1e100)`, `"1e+100"`, ""},
		{`tostring(1e-4)`, `"0.0001"`, ""},
		{`tostring(1e-5)`, `"1e-05"`, ""},
		{`tostring(-0.0)`, `"-0"`, ""},
		{`tostring(1/0)`, `"inf"`, ""},
		{`tostring(-1/0)`, `"-inf"`, ""},
		{`tostring(0/0):match("nan")`, `"nan"`, ""},
		{`1/3 .. ""`, `"0.33333333333333"`, ""},
		{`"x" .. 1e15`, `"x1e+15"`, ""},
		{`string.rep(0.5, 2)`, `"0.50.5"`, ""},
		{`table.concat({1, 2.5, 1/3}, " ")`, `"1 2.5 0.33333333333333"`, ""},
	})
}

// TestStringBytesAndCase: string.byte's j is i when missing, string.char
// takes bytes only, and string.upper and string.lower change the letters
// of ASCII and keep every other byte, as Lua 5.1 does in C's default locale.
func TestStringBytesAndCase(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`string.byte("ABC")`, "65", ""},
		{`string.byte("ABC", 2)`, "66", ""},
		{`string.byte("ABC", -1)`, "67", ""},
		{`string.byte("ABC", 1, 3)`, "65, 66, 67", ""},
		{`string.byte("ABC", 2, -1)`, "66, 67", ""},
		{`string.byte("ABC", -10, 10)`, "65, 66, 67", ""},
		{`string.byte("ABC", 0)`, "", ""},
		{`string.byte("ABC", 4)`, "", ""},
		{`string.byte("ABC", 3, 1)`, "", ""},
		{`string.byte("")`, "", ""},
		{`string.byte(65)`, "54", ""},
		{`("x"):byte()`, "120", ""},
		{`string.char(72, 105, 0, 255)`, "\"Hi\x00\xff\"", ""},
		{`string.char()`, `""`, ""},
		{`string.char(256)`, "", "bad argument #1 to 'char' (invalid value)"},
		{`string.char(65, -1)`, "", "bad argument #2 to 'char' (invalid value)"},
		{`string.upper("aBc1 é\255z")`, "\"ABC1 é\xffZ\"", ""},
		{`string.lower("AbC1 É\200Z")`, "\"abc1 É\xc8z\"", ""},
		{`string.upper(12.5)`, `"12.5"`, ""},
	})
}

// TestToNumberInBase: tonumber(s, base) reads an integer as Lua 5.1's
// strtoul does, "0x" in base 16 included, reads a number given as its
// text, and refuses a base outside 2..36.
func TestToNumberInBase(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`tonumber("ff", 16)`, "255", ""},
		{`tonumber("0xff", 16)`, "255", ""},
		{`tonumber(" 0XFF\n", 16)`, "255", ""},
		{`tonumber("0x", 16)`, "nil", ""},
		{`tonumber("1010", 2)`, "10", ""},
		{`tonumber("+12", 3)`, "5", ""},
		{`tonumber("-ff", 16)`, "-255", ""},
		{`tonumber("zz", 36)`, "1295", ""},
		{`tonumber("1.5", 16)`, "nil", ""},
		{`tonumber("12", 2)`, "nil", ""},
		{`tonumber("", 16)`, "nil", ""},
		{`tonumber("- 1", 16)`, "nil", ""},
		{`tonumber("ffffffffffffffffff", 16)`, "1.844674407371e+19", ""},
		{`tonumber(10, 16)`, "16", ""},
		{`tonumber(" 10 ", 10)`, "10", ""},
		{`tonumber(nil, 16)`, "", "bad argument #1 to 'tonumber' (string expected, got nil)"},
		{`tonumber("10", 1)`, "", "bad argument #2 to 'tonumber' (base out of range)"},
		{`tonumber("10", 37)`, "", "bad argument #2 to 'tonumber' (base out of range)"},
	})
}

// TestTableRemoveAndSort: table.remove removes nothing and returns nothing
// for a position outside 1..#t, as Lua 5.1's tremove, and table.sort takes
// a nil comparator as none.
func TestTableRemoveAndSort(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`table.remove({1, 2, 3})`, "3", ""},
		{`table.remove({1, 2, 3}, 1)`, "1", ""},
		{`table.remove({1, 2, 3}, 3)`, "3", ""},
		{`table.remove({1, 2, 3}, nil)`, "3", ""},
		{`table.remove({1, 2, 3}, "2")`, "2", ""},
		{`table.remove({1, 2, 3}, 0)`, "", ""},
		{`table.remove({1, 2, 3}, -1)`, "", ""},
		{`table.remove({1, 2, 3}, 4)`, "", ""},
		{`table.remove({})`, "", ""},
		{`table.remove({}, 1)`, "", ""},
		{`(function() local t = {1, 2, 3} table.remove(t, 0) table.remove(t, -1) table.remove(t, 4) return #t, t[3] end)()`, "3, 3", ""},
		{`(function() local t = {1, 2, 3} table.remove(t, 2) return #t, t[1], t[2], t[3] end)()`, "2, 1, 3, nil", ""},
		{`table.remove({1}, "x")`, "", "bad argument #2 to 'remove' (number expected, got string)"},
		{`(function() local t = {3, 1, 2} table.sort(t, nil) return t[1], t[2], t[3] end)()`, "1, 2, 3", ""},
		{`(function() local t = {1, 3, 2} table.sort(t, function(a, b) return a > b end) return t[1], t[2], t[3] end)()`, "3, 2, 1", ""},
		{`table.sort({2, 1}, false)`, "", "bad argument #2 to 'sort' (function expected, got boolean)"},
	})
}

// TestMathModf: math.modf of an infinity has the fraction 0 with its sign,
// as C's modf gives Lua 5.1, not Go's NaN.
func TestMathModf(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`math.modf(2.5)`, "2, 0.5", ""},
		{`math.modf(-2.5)`, "-2, -0.5", ""},
		{`math.modf(3)`, "3, 0", ""},
		{`math.modf(1/0)`, "inf, 0", ""},
		{`math.modf(-1/0)`, "-inf, -0", ""},
	})
}

// TestSelectAndRawset: select reads a numeral string as its index, as Lua
// 5.1's luaL_checkint, and counts its arguments for any string that starts
// with '#'; rawset returns its table.
func TestSelectAndRawset(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`select(2, "a", "b", "c")`, `"b", "c"`, ""},
		{`select("2", "a", "b", "c")`, `"b", "c"`, ""},
		{`select("-1", "a", "b")`, `"b"`, ""},
		{`select(" 0x2 ", "a", "b", "c")`, `"b", "c"`, ""},
		{`select("#", "a", "b")`, "2", ""},
		{`select("#x", "a", "b")`, "2", ""},
		{`select("x", 1)`, "", "bad argument #1 to 'select' (number expected, got string)"},
		{`select(nil)`, "", "bad argument #1 to 'select' (number expected, got nil)"},
		{`select("0", 1)`, "", "bad argument #1 to 'select' (index out of range)"},
		{`(function() local t = {} return rawset(t, 1, 2) == t, t[1] end)()`, "true, 2", ""},
		{`select("#", rawset({}, "k", nil))`, "1", ""},
	})
}

// TestErrorValue: error() raises nil, and error(n) with a number adds the
// position to it as to a string, as Lua 5.1's luaB_error does.
func TestErrorValue(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`pcall(error)`, "false, nil", ""},
		{`pcall(error, nil)`, "false, nil", ""},
		{`pcall(function() error() end)`, "false, nil", ""},
		{`pcall(function() error(42) end)`, `false, "<string>:1: 42"`, ""},
		{`pcall(function() error(1.5) end)`, `false, "<string>:1: 1.5"`, ""},
		{`pcall(error, 42, 0)`, "false, 42", ""},
		{`pcall(function() error("x") end)`, `false, "<string>:1: x"`, ""},
		{`pcall(function() error(true) end)`, "false, true", ""},
	})
}

// TestErrorLevel: error(msg, level) adds the position of the function at
// that level, as Lua 5.1's luaL_where: 2 is the caller of the function that
// raised, and a Go function there (pcall) adds none. The results are Lua
// 5.1's for the same chunk.
func TestErrorLevel(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`local out = {}
local function add(...) out[#out + 1] = select(2, ...) end
add(pcall(error, "x"))
add(pcall(function() error("y") end))
local function f() error("lvl2", 2) end
add(pcall(function() f() end))
add(pcall(f))
add(pcall(error, "w", 2))
add(pcall(function() error("n0", 0) end))
add(pcall(error, 42))
got = table.concat(out, "|")`)
	if err != nil {
		t.Fatal(err)
	}
	want := `x|<string>:4: y|<string>:6: lvl2|lvl2|<string>:8: w|n0|42`
	if got := L.GetGlobal("got").String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestSetMetatableTablesOnly: setmetatable takes a table only, as in Lua
// 5.1; a string's or a number's metatable, shared by every value of its
// type in the state, cannot be replaced from Lua.
func TestSetMetatableTablesOnly(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`setmetatable(1, {})`, "", "table expected, got number"},
		{`setmetatable("s", { __index = { upper = function() return "X" end } })`, "", "table expected, got string"},
		{`setmetatable(nil, {})`, "", "table expected, got nil"},
		{`setmetatable({}, 1)`, "", "nil or table expected"},
		{`(function() setmetatable({}, nil) return "ok" end)()`, `"ok"`, ""},
		{`getmetatable(setmetatable({}, { __metatable = "locked" }))`, `"locked"`, ""},
		{`(function() pcall(setmetatable, "", { __index = {} }) return ("x"):upper() end)()`, `"X"`, ""},
	})
}

// TestAssertArguments: assert checks its arguments as Lua 5.1's luaB_assert
// does: assert() is a bad argument, a message is read as luaL_optstring
// reads it, so a number is its text, and a true value returns every
// argument. The message gets the position of the calling line.
func TestAssertArguments(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`assert()`, "c:1: bad argument #1 to 'assert' (value expected)"},
		{`assert(nil)`, "c:1: assertion failed!"},
		{`assert(false)`, "c:1: assertion failed!"},
		{`assert(false, nil)`, "c:1: assertion failed!"},
		{`assert(nil, "msg")`, "c:1: msg"},
		{`assert(false, 42)`, "c:1: 42"},
		{`assert(false, 0.1)`, "c:1: 0.1"},
		{`assert(false, "100%d")`, "c:1: 100%d"},
		{`assert(false, "a", "b")`, "c:1: a"},
		{`assert(false, {})`, "c:1: bad argument #2 to 'assert' (string expected, got table)"},
	})
	runLua51Cases(t, []lua51Case{
		{`assert(1, 2, 3)`, "1, 2, 3", ""},
		{`assert(true)`, "true", ""},
		{`assert(0)`, "0", ""},
		{`assert("", nil, nil)`, `"", nil, nil`, ""},
		{`pcall(assert)`, `false, "bad argument #1 to '?' (value expected)"`, ""},
		{`pcall(assert, false, 42)`, `false, "42"`, ""},
	})
}

// TestMathMaxMinNoValue: math.max() and math.min() raise Lua 5.1's
// bad-argument message for their missing first argument.
func TestMathMaxMinNoValue(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`math.max()`, "c:1: bad argument #1 to 'max' (number expected, got no value)"},
		{`math.min()`, "c:1: bad argument #1 to 'min' (number expected, got no value)"},
		{`math.max(nil)`, "c:1: bad argument #1 to 'max' (number expected, got nil)"},
		{`math.min(1, nil)`, "c:1: bad argument #2 to 'min' (number expected, got nil)"},
	})
	runLua51Cases(t, []lua51Case{
		{`math.max(1)`, "1", ""},
		{`math.min(3, 7, 2)`, "2", ""},
		{`math.max("5", 3)`, "5", ""},
		{`pcall(math.max)`, `false, "bad argument #1 to '?' (number expected, got no value)"`, ""},
	})
}

// TestTableInsertArguments: table.insert takes two or three arguments, as
// Lua 5.1's tinsert does, and places a value at any position as tinsert
// does: past #t + 1 without moving anything, below 1 after moving t[pos]
// to t[#t] up by one.
func TestTableInsertArguments(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`table.insert({})`, "c:1: wrong number of arguments to 'insert'"},
		{`table.insert({}, 1, 2, 3)`, "c:1: wrong number of arguments to 'insert'"},
		{`table.insert({}, 1, 2, 3, 4)`, "c:1: wrong number of arguments to 'insert'"},
		{`table.insert({}, "x", 1)`, "c:1: bad argument #2 to 'insert' (number expected, got string)"},
		{`table.insert({}, nil, 1)`, "c:1: bad argument #2 to 'insert' (number expected, got nil)"},
		{`table.insert(1, 2)`, "c:1: bad argument #1 to 'insert' (table expected, got number)"},
	})
	runLua51Cases(t, []lua51Case{
		{`pcall(table.insert, {})`, `false, "wrong number of arguments to 'insert'"`, ""},
		{`select("#", table.insert({}, 1))`, "0", ""},
		{`(function() local t = {} table.insert(t, "1", "v") return t[1], #t end)()`, `"v", 1`, ""},
		{`(function() local t = {1, 2, 3} table.insert(t, 2, "v") return t[1], t[2], t[3], t[4] end)()`, `1, "v", 2, 3`, ""},
		{`(function() local t = {1, 2, 3} table.insert(t, 4, "v") return t[4], #t end)()`, `"v", 4`, ""},
		{`(function() local t = {1, 2, 3} table.insert(t, 10, "v") return t[4], t[10] end)()`, `nil, "v"`, ""},
		{`(function() local t = {1, 2, 3} table.insert(t, 1.5, "v") return t[1], t[2], #t end)()`, `"v", 1, 4`, ""},
		{`(function() local t = {1, 2, 3} table.insert(t, 2, nil) return t[2], t[3], t[4] end)()`, `nil, 2, 3`, ""},
		{`(function() local t = {1, 2, 3} table.insert(t, 0, "v") return t[0], t[1], t[2], t[4] end)()`, `"v", nil, 1, 3`, ""},
		{`(function() local t = {1, 2, 3} table.insert(t, -1, "v") return t[-1], t[0], t[1], t[2], t[4] end)()`, `"v", nil, nil, 1, 3`, ""},
		{`(function() local t = {1, 2, 3} t[0] = 0 t[-1] = -1 t[-3] = -3 table.insert(t, -2, "v")
			return t[-3], t[-2], t[-1], t[0], t[1], t[2], t[4] end)()`, `-3, "v", nil, -1, 0, 1, 3`, ""},
		{`(function() local t = {1, 2} t[0] = 0 t[-5] = -5 t.x = "x" t[0.5] = "h" table.insert(t, -3, "v")
			return t[-5], t[-4], t[-3], t[0], t[1], t[2], t[3], t.x, t[0.5] end)()`, `-5, nil, "v", nil, 0, 1, 2, "x", "h"`, ""},
		// Lua 5.1 takes 34 s for this one, a step per position from -2^30 to 3.
		{`(function() local t = {1, 2, 3} table.insert(t, -2^30, "v") return t[-2^30], t[0], t[1], t[2], t[4] end)()`, `"v", nil, nil, 1, 3`, ""},
	})
}

// TestSetMetatableSecondArgument: setmetatable's second argument must be
// given, as nil or a table, with luaB_setmetatable's message, which names
// no type; a protected metatable is neither read nor replaced.
func TestSetMetatableSecondArgument(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`setmetatable({}, 1)`, "c:1: bad argument #2 to 'setmetatable' (nil or table expected)"},
		{`setmetatable({}, "x")`, "c:1: bad argument #2 to 'setmetatable' (nil or table expected)"},
		{`setmetatable({})`, "c:1: bad argument #2 to 'setmetatable' (nil or table expected)"},
		{`setmetatable()`, "c:1: bad argument #1 to 'setmetatable' (table expected, got no value)"},
		{`setmetatable(1)`, "c:1: bad argument #1 to 'setmetatable' (table expected, got number)"},
		{`setmetatable(setmetatable({}, { __metatable = "locked" }), {})`, "c:1: cannot change a protected metatable"},
		{`setmetatable(setmetatable({}, { __metatable = "locked" }), nil)`, "c:1: cannot change a protected metatable"},
		{`setmetatable(setmetatable({}, { __metatable = false }), {})`, "c:1: cannot change a protected metatable"},
		{`getmetatable()`, "c:1: bad argument #1 to 'getmetatable' (value expected)"},
	})
	runLua51Cases(t, []lua51Case{
		{`pcall(setmetatable, {}, 1)`, `false, "bad argument #2 to '?' (nil or table expected)"`, ""},
		{`(function() local t = {} return setmetatable(t, nil) == t, setmetatable(t, {}, 3) == t end)()`, "true, true", ""},
		{`getmetatable(setmetatable({}, { __metatable = false }))`, "false", ""},
		{`getmetatable(nil)`, "nil", ""},
		{`getmetatable(1)`, "nil", ""},
		{`getmetatable({})`, "nil", ""},
	})
}

// TestOptStringNumber: an optional string argument takes a number as its
// text, as Lua 5.1's luaL_optlstring does (through luaL_checklstring), and
// still refuses other types: table.concat's separator, and the chunk names
// of loadstring and load.
func TestOptStringNumber(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`table.concat({1, 2}, 0)`, `"102"`, ""},
		{`table.concat({1, 2}, 1.5)`, `"11.52"`, ""},
		{`table.concat({1, 2}, 1e100)`, `"11e+1002"`, ""},
		{`table.concat({1, 2}, -0.5)`, `"1-0.52"`, ""},
		{`table.concat({1, 2}, nil)`, `"12"`, ""},
		{`table.concat({1, 2}, "0")`, `"102"`, ""},
		{`pcall(table.concat, {1, 2}, true)`, `false, "bad argument #2 to '?' (string expected, got boolean)"`, ""},
		{`pcall(table.concat, {1, 2}, {})`, `false, "bad argument #2 to '?' (string expected, got table)"`, ""},
		{`loadstring("return 7", 42)()`, "7", ""},
		{`debug.getinfo(loadstring("return 7", 42), "S").source`, `"42"`, ""},
		{`debug.getinfo(load(function() return nil end, 42), "S").source`, `"42"`, ""},
		{`pcall(loadstring, "x", {})`, `false, "bad argument #2 to '?' (string expected, got table)"`, ""},
		{`pcall(load, function() end, true)`, `false, "bad argument #2 to '?' (string expected, got boolean)"`, ""},
	})
}

// TestDebugGetInfoOptions: debug.getinfo raises bad argument #2 (invalid
// option) for an option it does not know, a number's digits among them, as
// Lua 5.1's db_getinfo does when lua_getinfo refuses one, after it has found
// the level; 'L' gives the lines that hold code, nil for a Go function.
func TestDebugGetInfoOptions(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`debug.getinfo(1, "x")`, "c:1: bad argument #2 to 'getinfo' (invalid option)"},
		{`debug.getinfo(print, 42)`, "c:1: bad argument #2 to 'getinfo' (invalid option)"},
		{`debug.getinfo(print, "Sx")`, "c:1: bad argument #2 to 'getinfo' (invalid option)"},
		{`debug.getinfo(print, ">S")`, "c:1: bad argument #2 to 'getinfo' (invalid option)"},
	})
	runLua51Cases(t, []lua51Case{
		{`pcall(debug.getinfo, 1, "x")`, `false, "bad argument #2 to '?' (invalid option)"`, ""},
		{`debug.getinfo(100, "x")`, "nil", ""},
		{`debug.getinfo(print, "L").activelines`, "nil", ""},
		{`debug.getinfo(1, "L").activelines[1]`, "true", ""},
		{`(function() local t, r = debug.getinfo(loadstring("return function()\n local x = 1\n\n return x\n end")(), "L").activelines, {} for k in pairs(t) do r[#r + 1] = k end table.sort(r) return table.concat(r, " ") end)()`, `"2 4 5"`, ""},
		{`debug.getinfo(1, "Sl").currentline`, "1", ""},
	})
}

// TestChunkNames: loadstring and load take a chunk name as Lua 5.1 does, and
// messages name the chunk as luaO_chunkid does: "=name" is name, "@file" is
// file, and any other source is [string "…"], cut to its first line and to
// LUA_IDSIZE; loadstring's default name is the string itself, load's
// "=(load)". debug.getinfo's source is the name as given. A chunk Go loads
// keeps its name as it is, so file names stay as MiniMi gives them.
func TestChunkNames(t *testing.T) {
	runLua51Cases(t, []lua51Case{
		{`pcall(loadstring("error('x')", "=mychunk"))`, `false, "mychunk:1: x"`, ""},
		{`pcall(loadstring("error('x')", "@mychunk.lua"))`, `false, "mychunk.lua:1: x"`, ""},
		{`pcall(loadstring("error('x')", "name"))`, `false, "[string "name"]:1: x"`, ""},
		{`pcall(loadstring("error('x')"))`, `false, "[string "error('x')"]:1: x"`, ""},
		{`pcall(loadstring("\n\nerror('x')"))`, `false, "[string "..."]:3: x"`, ""},
		{`pcall(loadstring("error('x')", ""))`, `false, "[string ""]:1: x"`, ""},
		{`pcall(loadstring("error('x')", "="))`, `false, ":1: x"`, ""},
		{`pcall(loadstring("error('x')", "@"))`, `false, ":1: x"`, ""},
		{`pcall(loadstring("error('x')", "line1\nline2"))`, `false, "[string "line1..."]:1: x"`, ""},
		{`pcall(loadstring("error('x')", "line1\rline2"))`, `false, "[string "line1..."]:1: x"`, ""},
		{`pcall(loadstring("error('x')", "a\0b"))`, `false, "[string "a"]:1: x"`, ""},
		{`pcall(loadstring("error('x')", "=a\0b"))`, `false, "a:1: x"`, ""},
		{`pcall(loadstring("error('x')", string.rep("a", 43)))`, `false, "[string "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]:1: x"`, ""},
		{`pcall(loadstring("error('x')", string.rep("a", 44)))`, `false, "[string "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."]:1: x"`, ""},
		{`pcall(loadstring("error('x')", "=" .. string.rep("b", 59)))`, `false, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:1: x"`, ""},
		{`pcall(loadstring("error('x')", "=" .. string.rep("b", 60) .. "c"))`, `false, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:1: x"`, ""},
		{`pcall(loadstring("error('x')", "@" .. string.rep("c", 52)))`, `false, "cccccccccccccccccccccccccccccccccccccccccccccccccccc:1: x"`, ""},
		{`pcall(loadstring("error('x')", "@a" .. string.rep("c", 52)))`, `false, "...cccccccccccccccccccccccccccccccccccccccccccccccccccc:1: x"`, ""},
		{`pcall(loadstring("local t = nil; t.x = 1", "=m"))`, `false, "m:1: attempt to index local 't' (a nil value)"`, ""},
		{`pcall(loadstring("string.rep()", "@m"))`, `false, "m:1: bad argument #1 to 'rep' (string expected, got no value)"`, ""},
		{`pcall(loadstring("local function f() error('in f') end f()", "=m"))`, `false, "m:1: in f"`, ""},
		{`pcall(loadstring("error('lvl', 2)", "=m"))`, `false, "lvl"`, ""},
		{`pcall(loadstring("error(42)", "@m"))`, `false, "m:1: 42"`, ""},
		{`pcall(load(function() return nil end))`, `true`, ""},
		{`pcall(load((function() local i = 0 return function() i = i + 1 if i == 1 then return "error('y')" end end end)()))`, `false, "(load):1: y"`, ""},
		{`pcall(load((function() local i = 0 return function() i = i + 1 if i == 1 then return "error('y')" end end end)(), "=q"))`, `false, "q:1: y"`, ""},
		{`debug.getinfo(loadstring("return 1", "=m"), "S").source`, `"=m"`, ""},
		{`debug.getinfo(loadstring("return 1", "@m"), "S").source`, `"@m"`, ""},
		{`debug.getinfo(loadstring("return 1", "m"), "S").source`, `"m"`, ""},
		{`debug.getinfo(loadstring("return 1"), "S").source`, `"return 1"`, ""},
		{`debug.getinfo(loadstring("return 1", "a\0b"), "S").source`, `"a"`, ""},
		{`debug.getinfo(loadstring("return function() end", "=m")(), "S").source`, `"=m"`, ""},
		{`debug.getinfo(load(function() return nil end), "S").source`, `"=(load)"`, ""},
	})
	L := NewState()
	defer L.Close()
	for _, name := range []string{"endpoints/foo/foo.execute.lua", "=c", "@c", ""} {
		fn, err := L.Load(strings.NewReader("\n\nerror('x')"), name)
		if err != nil {
			t.Fatal(err)
		}
		L.Push(fn)
		if err := L.PCall(0, 0, nil); err == nil || err.(*ApiError).Object.String() != name+":3: x" {
			t.Errorf("Load(%q): err=%v, want %s:3: x", name, err, name)
		}
	}
}

// TestCoroutineCreateLuaFunction: coroutine.create and coroutine.wrap take a
// Lua function only, as Lua 5.1's luaB_cocreate checks, with its message,
// which names no type.
func TestCoroutineCreateLuaFunction(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`coroutine.create(print)`, "c:1: bad argument #1 to 'create' (Lua function expected)"},
		{`coroutine.wrap(string.rep)`, "c:1: bad argument #1 to 'wrap' (Lua function expected)"},
		{`coroutine.create({})`, "c:1: bad argument #1 to 'create' (Lua function expected)"},
		{`coroutine.wrap()`, "c:1: bad argument #1 to 'wrap' (Lua function expected)"},
	})
	runLua51Cases(t, []lua51Case{
		{`pcall(coroutine.create, print)`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.create)`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.create, nil)`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.create, 1)`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.create, {})`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.wrap, print)`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.wrap)`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.wrap, string.rep)`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`pcall(coroutine.create, setmetatable({}, {__call = function() end}))`, `false, "bad argument #1 to '?' (Lua function expected)"`, ""},
		{`coroutine.resume(coroutine.create(function(a, b) return a + b end), 1, 2)`, `true, 3`, ""},
		{`coroutine.wrap(function(a) return a .. "!" end)("x")`, `"x!"`, ""},
		{`type(coroutine.create(function() end))`, `"thread"`, ""},
	})
}

// TestTableInsertPositionCInt: table.insert reads its position as Lua 5.1's
// luaL_checkint does on a 64-bit machine, keeping the low 32 bits of the
// integer: -2^40 is 0, 2^32 + 2 is 2 and 2^31 is -2^31, and a value past
// 2^63 or NaN is 0.
func TestTableInsertPositionCInt(t *testing.T) {
	const insert = `(function() local t = {"a", "b", "c"} table.insert(t, %s, "v") local ks = {} for k, v in pairs(t) do ks[#ks + 1] = k .. "=" .. v end table.sort(ks) return table.concat(ks, " ") end)()`
	var cases []lua51Case
	for _, tc := range []struct{ pos, want string }{
		{`-2^40`, `"0=v 2=a 3=b 4=c"`},
		{`2^40`, `"0=v 2=a 3=b 4=c"`},
		{`2^32 + 2`, `"1=a 2=v 3=b 4=c"`},
		{`-2^32 + 2`, `"1=a 2=v 3=b 4=c"`},
		{`2^32 - 1`, `"-1=v 2=a 3=b 4=c"`},
		{`2^31`, `"-2147483648=v 2=a 3=b 4=c"`},
		{`-2^31`, `"-2147483648=v 2=a 3=b 4=c"`},
		{`-2^31 - 1`, `"1=a 2147483647=v 2=b 3=c"`},
		{`2^31 - 1`, `"1=a 2147483647=v 2=b 3=c"`},
		{`1.5`, `"1=v 2=a 3=b 4=c"`},
		{`-0.5`, `"0=v 2=a 3=b 4=c"`},
		{`2^53`, `"0=v 2=a 3=b 4=c"`},
		{`2^63`, `"0=v 2=a 3=b 4=c"`},
		{`-2^63`, `"0=v 2=a 3=b 4=c"`},
		{`2^64`, `"0=v 2=a 3=b 4=c"`},
		{`1/0`, `"0=v 2=a 3=b 4=c"`},
		{`-1/0`, `"0=v 2=a 3=b 4=c"`},
		{`0/0`, `"0=v 2=a 3=b 4=c"`},
		{`1e300`, `"0=v 2=a 3=b 4=c"`},
		{`2^32 + 1.5`, `"1=v 2=a 3=b 4=c"`},
		{`-2^33 - 1`, `"-1=v 2=a 3=b 4=c"`},
		{`"4294967298"`, `"1=a 2=v 3=b 4=c"`},
	} {
		cases = append(cases, lua51Case{fmt.Sprintf(insert, tc.pos), tc.want, ""})
	}
	runLua51Cases(t, cases)
}

// TestCoroutineWrapErrors: an error raised in a coroutine that
// coroutine.wrap made goes on with the position of the function that called
// the wrap function, when that is a Lua function, and a number becomes a
// string, as Lua 5.1's auxwrap does; the coroutine is dead after it, and the
// caller is the running coroutine again.
func TestCoroutineWrapErrors(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`local co = coroutine.wrap(function() error("e") end) co()`, "c:1: c:1: e"},
		{"local co = coroutine.wrap(function()\n error('e')\nend)\n\nco()", "c:5: c:2: e"},
		{`coroutine.wrap(function() error("e", 0) end)()`, "c:1: e"},
		{`coroutine.wrap(function() error(42) end)()`, "c:1: c:1: 42"},
		{`coroutine.wrap(function() string.rep() end)()`, "c:1: c:1: bad argument #1 to 'rep' (string expected, got no value)"},
		{`coroutine.wrap(function() coroutine.wrap(function() error("deep") end)() end)()`, "c:1: c:1: c:1: deep"},
		{`local t = nil; coroutine.wrap(function() return t.x end)()`, "c:1: c:1: attempt to index upvalue 't' (a nil value)"},
		{`coroutine.wrap(function() coroutine.yield() end)() error("after")`, "c:1: after"},
	})
	runLua51Cases(t, []lua51Case{
		{`pcall(coroutine.wrap(function() error("e", 0) end))`, `false, "e"`, ""},
		{`pcall(coroutine.wrap(function() error(42, 0) end))`, `false, "42"`, ""},
		{`select(2, pcall(coroutine.wrap(function() error({code = 7}) end))).code`, `7`, ""},
		{`(function() local co local f = coroutine.wrap(function() co = coroutine.running() error("e", 0) end) pcall(f) return coroutine.status(co) end)()`, `"dead"`, ""},
		{`coroutine.wrap(function() local me = coroutine.running() pcall(coroutine.wrap(function() error("e", 0) end)) return coroutine.running() == me end)()`, `true`, ""},
		{`(function() local co local f = coroutine.wrap(function() co = coroutine.running() local x = nil + 1 end) pcall(f) return coroutine.status(co) end)()`, `"dead"`, ""},
	})
}

// TestCoroutineResumeStatus: coroutine.resume and a wrap function resume a
// suspended coroutine only, and refuse the running one, a dead one and a
// normal one (which resumed another and waits for it) with Lua 5.1's
// messages; coroutine.status names every coroutine that waits as normal.
// Resuming a normal coroutine recursed until Go's stack overflowed.
func TestCoroutineResumeStatus(t *testing.T) {
	runErrorCases(t, []struct{ code, want string }{
		{`local f = coroutine.wrap(function() end) f() f()`, "c:1: cannot resume dead coroutine"},
		{`local f f = coroutine.wrap(function() f() end) f()`, "c:1: c:1: cannot resume running coroutine"},
		{`local a, b a = coroutine.wrap(function() b() end) b = coroutine.wrap(function() a() end) a()`, "c:1: c:1: c:1: cannot resume normal coroutine"},
	})
	runLua51Cases(t, []lua51Case{
		{`(function() local co = coroutine.create(function() end) coroutine.resume(co) return coroutine.resume(co) end)()`, `false, "cannot resume dead coroutine"`, ""},
		{`(function() local co co = coroutine.create(function() return coroutine.resume(co) end) return coroutine.resume(co) end)()`, `true, false, "cannot resume running coroutine"`, ""},
		{`(function() local a, b a = coroutine.create(function() return coroutine.resume(b) end) b = coroutine.create(function() return coroutine.resume(a) end) return coroutine.resume(a) end)()`, `true, true, false, "cannot resume normal coroutine"`, ""},
		{`(function() local a, b, c a = coroutine.create(function() return coroutine.resume(b) end) b = coroutine.create(function() return coroutine.resume(c) end) c = coroutine.create(function() return coroutine.status(a), coroutine.status(b), coroutine.status(c), coroutine.resume(a) end) return coroutine.resume(a) end)()`, `true, true, true, "normal", "normal", "running", false, "cannot resume normal coroutine"`, ""},
		{`(function() local a, b a = coroutine.create(function() coroutine.resume(b) return coroutine.status(b) end) b = coroutine.create(function() coroutine.yield() end) return coroutine.resume(a) end)()`, `true, "suspended"`, ""},
		{`(function() local co = coroutine.create(function() error("x", 0) end) coroutine.resume(co) return coroutine.status(co), coroutine.resume(co) end)()`, `"dead", false, "cannot resume dead coroutine"`, ""},
		{`(function() local co = coroutine.create(function() coroutine.yield(1) return 2 end) return coroutine.resume(co), coroutine.resume(co), coroutine.status(co) end)()`, `true, true, "dead"`, ""},
		{`pcall(coroutine.wrap(function() end)) and pcall(coroutine.wrap(function() end))`, `true`, ""},
		{`(function() local f = coroutine.wrap(function() end) f() return pcall(f) end)()`, `false, "cannot resume dead coroutine"`, ""},
		{`(function() local f f = coroutine.wrap(function() return pcall(f) end) return f() end)()`, `false, "cannot resume running coroutine"`, ""},
		{`(function() local a, b a = coroutine.wrap(function() return pcall(b) end) b = coroutine.wrap(function() return pcall(a) end) return a() end)()`, `true, false, "cannot resume normal coroutine"`, ""},
	})
}
