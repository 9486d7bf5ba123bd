package phases

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// luaCase is a Lua expression and the JSON of its value, or a fragment of
// the error it raises.
type luaCase struct {
	name, expr string
	want       string // JSON of {v = expr}
	err        string
}

// runCases evaluates each case in a handler on one engine.
func runCases(t *testing.T, tests []luaCase) {
	t.Helper()
	files := map[string]string{}
	for i, tc := range tests {
		files[fmt.Sprintf("c%d/c%d.execute.lua", i, i)] = handlerOf("res:json({ v = " + tc.expr + " })")
	}
	e := load(t, files, Options{ScriptTimeout: 10 * time.Second})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := run(t, e, "GET", fmt.Sprintf("/c%d", i), "")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s: err=%v, want one containing %q", tc.expr, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: err=%v", tc.expr, err)
			}
			if got := string(resp.Body); got != tc.want {
				t.Errorf("%s=%s, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestStringRep(t *testing.T) {
	max := fmt.Sprint(MaxStringBytes)
	runCases(t, []luaCase{
		{name: "small", expr: `string.rep("ab", 3)`, want: `{"v":"ababab"}`},
		{name: "zero", expr: `string.rep("x", 0)`, want: `{"v":""}`},
		{name: "negative", expr: `string.rep("x", -5)`, want: `{"v":""}`},
		{name: "empty string", expr: `#string.rep("", 1e9)`, want: `{"v":0}`},
		{name: "at the limit", expr: `#string.rep("x", ` + max + `)`, want: `{"v":` + max + `}`},
		{name: "past the limit", expr: `string.rep("x", ` + max + ` + 1)`, err: "string.rep: the result would be longer than"},
		{name: "huge", expr: `string.rep("xx", 1e9)`, err: "string.rep"},
		{name: "method call", expr: `("x"):rep(1e9)`, err: "string.rep"},
	})
}

func TestStringGsub(t *testing.T) {
	runCases(t, []luaCase{
		{name: "plain", expr: `{string.gsub("hello world", "o", "0")}`, want: `{"v":["hell0 w0rld",2]}`},
		{name: "capture", expr: `string.gsub("hello world", "(o)", "[%1]")`, want: `{"v":"hell[o] w[o]rld"}`},
		{name: "whole match", expr: `string.gsub("abc", "%w", "%0%0")`, want: `{"v":"aabbcc"}`},
		{name: "percent", expr: `string.gsub("abc", "%w", "%%")`, want: `{"v":"%%%"}`},
		{name: "%1 without captures", expr: `string.gsub("hi you", "%w+", "<%1>")`, want: `{"v":"<hi> <you>"}`},
		{name: "swap", expr: `string.gsub("hello world", "(%w+) (%w+)", "%2 %1")`, want: `{"v":"world hello"}`},
		{name: "empty pattern", expr: `{string.gsub("abc", "", "-")}`, want: `{"v":["-a-b-c-",4]}`},
		{name: "position captures", expr: `string.gsub("abc", "()", "%1")`, want: `{"v":"1a2b3c4"}`},
		{name: "limit", expr: `{string.gsub("hello", "l", "L", 1)}`, want: `{"v":["heLlo",1]}`},
		{name: "limit zero", expr: `{string.gsub("hello", "l", "L", 0)}`, want: `{"v":["hello",0]}`},
		{name: "limit below zero", expr: `{string.gsub("hello", "l", "L", -1)}`, want: `{"v":["hello",0]}`},
		{name: "limit nil", expr: `{string.gsub("hello", "l", "L", nil)}`, want: `{"v":["heLLo",2]}`},
		{name: "limit not a number", expr: `string.gsub("hello", "l", "L", {})`, err: "number expected"},
		{name: "a function sees matches in order, as they are found", expr: `(function() local seen = {} string.gsub("abc", "%w", function(c) seen[#seen + 1] = c end) return table.concat(seen) end)()`, want: `{"v":"abc"}`},
		{name: "anchored", expr: `{string.gsub("hello hello", "^hello", "x")}`, want: `{"v":["x hello",1]}`},
		{name: "back reference", expr: `{string.gsub("aabb", "(.)%1", "%1")}`, want: `{"v":["ab",2]}`},
		{name: "back reference to a position capture", expr: `{string.gsub("ab", "()%1", "-")}`, want: `{"v":["ab",0]}`},
		{name: "back reference to an open capture", expr: `string.gsub("xa", "((a)%1)", "-")`, err: "invalid capture index"},
		{name: "no match", expr: `{string.gsub("abc", "z", "y")}`, want: `{"v":["abc",0]}`},
		{name: "table", expr: `string.gsub("$name is $age", "%$(%w+)", {name = "ada", age = 36})`, want: `{"v":"ada is 36"}`},
		{name: "table miss keeps", expr: `string.gsub("$x $name", "%$(%w+)", {name = "ada"})`, want: `{"v":"$x ada"}`},
		{name: "function", expr: `string.gsub("a b", "%w", string.upper)`, want: `{"v":"A B"}`},
		{name: "function false keeps", expr: `string.gsub("a b", "%w", function(c) if c == "a" then return false end return "Z" end)`, want: `{"v":"a Z"}`},
		{name: "function captures", expr: `string.gsub("k=v, x=y", "(%w)=(%w)", function(a, b) return b .. "=" .. a end)`, want: `{"v":"v=k, y=x"}`},
		{name: "bad capture index", expr: `string.gsub("abc", "b", "%2")`, err: "invalid capture index"},
		{name: "bad replacement value", expr: `string.gsub("abc", "b", function() return {} end)`, err: "invalid replacement value (a table)"},
		{name: "bad pattern", expr: `string.gsub("abc", "[a", "")`, err: "malformed pattern (missing ']')"},
		{name: "pattern ending with %", expr: `string.gsub("abc", "%", "")`, err: "malformed pattern (ends with '%')"},
		{name: "linear on a large input", expr: `#string.gsub(string.rep("a", 1000000), "a", "bc")`, want: `{"v":2000000}`},
		{name: "result past the limit", expr: `string.gsub(string.rep("a", 200000), "a", string.rep("b", 100))`, err: "string.gsub: the result would be longer than"},
		{name: "function results past the limit", expr: `string.gsub(string.rep("a", 100000), "a", function() return string.rep("b", 1000) end)`, err: "string.gsub"},
	})
}

func TestStringFormat(t *testing.T) {
	runCases(t, []luaCase{
		{name: "float", expr: `string.format("%5.2f", 3.14159)`, want: `{"v":" 3.14"}`},
		{name: "mixed", expr: `string.format("%d %s%%", 3, "x")`, want: `{"v":"3 x%"}`},
		{name: "flags", expr: `string.format("%-4d|%04d", 7, 7)`, want: `{"v":"7   |0007"}`},
		{name: "two-digit width", expr: `#string.format("%99d", 1)`, want: `{"v":99}`},
		{name: "three-digit width", expr: `string.format("%100d", 1)`, err: "width or precision too long"},
		{name: "three-digit precision", expr: `string.format("%.100f", 1)`, err: "width or precision too long"},
		{name: "star width", expr: `string.format("%*d", 5, 1)`, err: "invalid option '%*' to 'format'"},
		{name: "argument index", expr: `string.format("%[1]s%[1]s", "x")`, err: "invalid option '%[' to 'format'"},
		{name: "result past the limit", expr: `string.format("%s%s", string.rep("x", 10000000), string.rep("x", 10000000))`, err: "string.format: the result would be longer than"},
		// %q writes up to four bytes for one: NULs as \000.
		{name: "quoted past the limit", expr: `#string.format("%q", string.rep("\0", 5000000))`, err: "string.format: the result would be longer than"},
		{name: "quoted within the limit", expr: `#string.format("%q", string.rep("\0", 4000000))`, want: `{"v":16000002}`},
	})
}

// TestStringFormatAsLua51: each directive gives what Lua 5.1 gives.
func TestStringFormatAsLua51(t *testing.T) {
	runCases(t, []luaCase{
		{name: "d of a fraction", expr: `string.format("%d %d %i", 3.7, -3.7, 2^31)`, want: `{"v":"3 -3 2147483648"}`},
		{name: "d of a numeral", expr: `string.format("%d %d", "10", " 0x10 ")`, want: `{"v":"10 16"}`},
		{name: "d of a word", expr: `string.format("%d", "abc")`, err: "bad argument #2 to 'format' (number expected, got string)"},
		{name: "d of nil", expr: `string.format("%d", nil)`, err: "bad argument #2 to 'format' (number expected, got nil)"},
		{name: "missing argument", expr: `string.format("%d %s", 1)`, err: "bad argument #3 to 'format' (no value)"},
		{name: "u", expr: `string.format("%u %u", 42, 3.9)`, want: `{"v":"42 3"}`},
		{name: "x of a negative number", expr: `string.format("%x %X %o", -1, -255, -8)`,
			want: `{"v":"ffffffffffffffff FFFFFFFFFFFFFF01 1777777777777777777770"}`},
		{name: "x of a numeral", expr: `string.format("%x %#x %08x", "255", 255, 255)`, want: `{"v":"ff 0xff 000000ff"}`},
		{name: "x ignores + and space", expr: `string.format("%+x|% x", 255, 255)`, want: `{"v":"ff|ff"}`},
		{name: "c", expr: `string.format("%c%c%c|%3c|%-3c|", 76, 117, 97, 65, 66)`, want: `{"v":"Lua|  A|B  |"}`},
		{name: "g has six digits", expr: `string.format("%g %g %g %G", 1/3, 2^63, 1e20, 1e-10)`, want: `{"v":"0.333333 9.22337e+18 1e+20 1E-10"}`},
		{name: "e and f", expr: `string.format("%e %.2E %f %.0f %5.1f|", 12345.678, 0.5, 1/3, 2.5, -0.05)`,
			want: `{"v":"1.234568e+04 5.00E-01 0.333333 2  -0.1|"}`},
		{name: "f of a numeral", expr: `string.format("%.1f", "1.25e1")`, want: `{"v":"12.5"}`},
		{name: "inf and nan", expr: `string.format("%f %e %5g|%-5G|%+f", 1/0, -1/0, 1/0, 1/0, 1/0)`,
			want: `{"v":"inf -inf   inf|INF  |+inf"}`},
		{name: "s of numbers", expr: `string.format("%s %s %s", 1, 1/3, 1e15)`, want: `{"v":"1 0.33333333333333 1e+15"}`},
		{name: "s pads with spaces", expr: `string.format("[%5s][%-5s][%05s][%.2s][%5.1s]", "ab", "ab", "a", "abc", "xyz")`,
			want: `{"v":"[   ab][ab   ][    a][ab][    x]"}`},
		{name: "s counts bytes", expr: `{string.format("[%4s]", "é"), #string.format("%.1s", "é")}`, want: `{"v":["[  é]",1]}`},
		{name: "s of any value", expr: `string.format("%s %s %s", nil, true, setmetatable({}, { __tostring = function() return "T" end }))`,
			want: `{"v":"nil true T"}`},
		{name: "q", expr: `string.format("%q", 'a"b\\c\nd\re\0f\1\t')`, want: `{"v":"\"a\\\"b\\\\c\\\nd\\re\\000f\u0001\t\""}`},
		{name: "q of a number", expr: `string.format("%q", 1/3)`, want: `{"v":"\"0.33333333333333\""}`},
		{name: "percent", expr: `string.format("%d%%", 50)`, want: `{"v":"50%"}`},
		{name: "bad option", expr: `string.format("%z", 1)`, err: "invalid option '%z' to 'format'"},
		{name: "percent with a width", expr: `string.format("%5%", 1)`, err: "invalid option '%%' to 'format'"},
		{name: "repeated flags", expr: `string.format("%------d", 1)`, err: "invalid format (repeated flags)"},
	})
}

func TestTableConcat(t *testing.T) {
	runCases(t, []luaCase{
		{name: "numbers", expr: `table.concat({1, 2.5, 3}, ",")`, want: `{"v":"1,2.5,3"}`},
		{name: "no separator", expr: `table.concat({"a", "b"})`, want: `{"v":"ab"}`},
		{name: "number separator", expr: `table.concat({1, 2, 3}, 0)`, want: `{"v":"10203"}`},
		{name: "fraction separator", expr: `table.concat({"a", "b"}, 0.5)`, want: `{"v":"a0.5b"}`},
		{name: "nil separator", expr: `table.concat({"a", "b"}, nil)`, want: `{"v":"ab"}`},
		{name: "bad separator", expr: `table.concat({"a", "b"}, {})`, err: "bad argument #2 to 'concat' (string expected, got table)"},
		{name: "empty", expr: `table.concat({}, ",")`, want: `{"v":""}`},
		{name: "from i", expr: `table.concat({1, 2, 3}, "-", 2)`, want: `{"v":"2-3"}`},
		{name: "i to j", expr: `table.concat({1, 2, 3}, "-", 2, 2)`, want: `{"v":"2"}`},
		{name: "i after j", expr: `table.concat({1, 2, 3}, "-", 3, 2)`, want: `{"v":""}`},
		{name: "bad value", expr: `table.concat({1, {}, 3})`, err: "invalid value (table) at index 2"},
		{name: "past the end", expr: `table.concat({1, 2}, "", 1, 1e9)`, err: "invalid value (nil) at index 3"},
		{name: "many elements", expr: `(function() local t = {} for i = 1, 200000 do t[i] = "x" end return #table.concat(t) end)()`, want: `{"v":200000}`},
		{name: "result past the limit", expr: `(function() local t = {} for i = 1, 100 do t[i] = string.rep("x", 1048576) end return table.concat(t) end)()`, err: "table.concat: the result would be longer than"},
		{name: "separator past the limit", expr: `(function() local t = {} for i = 1, 100000 do t[i] = "" end return table.concat(t, string.rep("x", 1000)) end)()`, err: "table.concat"},
	})
}

func TestConcatLimit(t *testing.T) {
	max := fmt.Sprint(MaxStringBytes)
	runCases(t, []luaCase{
		{name: "small", expr: `"a" .. 1 .. "b"`, want: `{"v":"a1b"}`},
		{name: "at the limit", expr: `#(string.rep("x", ` + max + ` - 1) .. "x")`, want: `{"v":` + max + `}`},
		{name: "past the limit", expr: `string.rep("x", ` + max + `) .. "x"`, err: "string concatenation: the result would be longer than " + max + " bytes"},
		{name: "doubling", expr: `(function() local s = "x" while true do s = s .. s end end)()`, err: "string concatenation"},
		{name: "docs/lua.md", expr: `(function() local s = "x" local ok = pcall(function() while true do s = s .. s end end) return { ok = ok, bytes = #s } end)()`,
			want: `{"v":{"bytes":16777216,"ok":false}}`},
		{name: "caught", expr: `{pcall(function() return string.rep("x", ` + max + `) .. "x" end)}`,
			want: `{"v":[false,"endpoints/c5/c5.execute.lua:2: string concatenation: the result would be longer than ` + max + ` bytes"]}`},
	})
}

func TestDeepRecursion(t *testing.T) {
	tests := []struct{ name, body string }{
		{"plain", `local function f(n) return 1 + f(n + 1) end f(1)`},
		{"through a metamethod", `local t = setmetatable({}, { __index = function(t, k) return t[k .. "x"] end }) local _ = t.a`},
		{"through a library callback", `local function f(s) return (string.gsub(s, "a", f)) end f("a")`},
		{"through tostring", `local mt = {} mt.__tostring = function(v) return tostring(setmetatable({}, mt)) end tostring(setmetatable({}, mt))`},
	}
	files := map[string]string{"ok/ok.execute.lua": handlerOf(`res:send("ok")`)}
	for i, tc := range tests {
		files[fmt.Sprintf("r%d/r%d.execute.lua", i, i)] = handlerOf(tc.body)
	}
	e := load(t, files, Options{ScriptTimeout: 10 * time.Second})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, e, "GET", fmt.Sprintf("/r%d", i), "")
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 500 || !strings.Contains(err.Error(), "stack overflow") {
				t.Errorf("err=%v, want a 500 saying stack overflow", err)
			}
			if resp, err := run(t, e, "GET", "/ok", ""); err != nil || string(resp.Body) != "ok" {
				t.Errorf("next request=%v %v, want ok", resp, err)
			}
		})
	}
	t.Run("caught by pcall", func(t *testing.T) {
		got := eval(t, Options{}, `local caught
			local function f() local ok, err = pcall(f) if not ok and not caught then caught = err end end
			f()
			res:json({ caught = tostring(caught) })`)
		if !strings.Contains(fmt.Sprint(got["caught"]), "stack overflow") {
			t.Errorf("pcall caught %v, want stack overflow", got["caught"])
		}
	})
}

func TestStackLimits(t *testing.T) {
	fill := `local t = {} for i = 1, 8000 do t[i] = i end `
	runCases(t, []luaCase{
		{name: "unpack", expr: `select("#", unpack({1, 2, 3}))`, want: `{"v":3}`},
		{name: "unpack range", expr: `{unpack({1, 2, 3}, 2)}`, want: `{"v":[2,3]}`},
		{name: "unpack at the limit", expr: `(function() ` + fill + ` return select("#", unpack(t)) end)()`, want: `{"v":8000}`},
		{name: "unpack past the limit", expr: `unpack({}, 1, 8001)`, err: "unpack: too many results (8001, at most 8000)"},
		{name: "unpack huge", expr: `unpack({}, 1, 1e9)`, err: "unpack: too many results"},
		{name: "unpack overflowing range", expr: `unpack({}, -2^62, 2^62)`, err: "unpack: too many results"},
		{name: "unpack from NaN", expr: `{unpack({[0] = "z", "a", "b"}, 0/0)}`, want: `{"v":["z","a","b"]}`},
		{name: "unpack to NaN", expr: `select("#", unpack({"a", "b"}, 1, 0/0))`, want: `{"v":0}`},
		{name: "unpack from NaN to NaN", expr: `select("#", unpack({}, 0/0, 0/0))`, want: `{"v":1}`},
		{name: "string.byte", expr: `{string.byte("abc", 1, -1)}`, want: `{"v":[97,98,99]}`},
		{name: "string.byte one", expr: `string.byte("abc")`, want: `{"v":97}`},
		{name: "string.byte of a long string", expr: `string.byte(string.rep("a", 1000000), -1)`, want: `{"v":97}`},
		{name: "string.byte of a long string from its start", expr: `{string.byte(string.rep("a", 100000))}`, want: `{"v":[97]}`},
		{name: "string.byte of a long string at i", expr: `{string.byte(string.rep("a", 100000), 5)}`, want: `{"v":[97]}`},
		{name: "string.byte past the limit", expr: `string.byte(string.rep("a", 100000), 1, -1)`, err: "string.byte: too many results"},
		{name: "varargs through recursion", expr: `(function() ` + fill +
			` local function f(n, ...) if n == 0 then return select("#", ...) end return 1 + f(n - 1, ...) end return f(20, unpack(t)) end)()`,
			err: "registry overflow"},
		{name: "overflow caught by pcall", expr: `(function() ` + fill +
			` local function f(n, ...) if n == 0 then return 0 end return 1 + f(n - 1, ...) end local ok, err = pcall(f, 20, unpack(t)) return not ok and string.find(err, "registry overflow") ~= nil end)()`,
			want: `{"v":true}`},
		{name: "xpcall", expr: `{xpcall(function() error("x", 0) end, function(e) return "handled " .. e end)}`, want: `{"v":[false,"handled x"]}`},
		{name: "xpcall success", expr: `{xpcall(function() return 1, 2 end, tostring)}`, want: `{"v":[true,1,2]}`},
		{name: "xpcall handler fails", expr: `select(1, xpcall(function() error("x") end, function(e) error("y", 0) end))`, want: `{"v":false}`},
		{name: "xpcall overflow", expr: `(function() ` + fill +
			` local function f(n, ...) if n == 0 then return 0 end return 1 + f(n - 1, ...) end
			return select(2, xpcall(function() return f(20, unpack(t)) end, function(e) return "handled" end)) end)()`,
			want: `{"v":"handled"}`},
	})
}

// TestXPCallHandler: as in Lua 5.1, xpcall takes any value as its handler,
// and a handler that fails, or is not a function, gives "error in error
// handling".
func TestXPCallHandler(t *testing.T) {
	runCases(t, []luaCase{
		{name: "nil handler, success", expr: `{xpcall(function() return 1, 2 end, nil)}`, want: `{"v":[true,1,2]}`},
		{name: "number handler, success", expr: `{xpcall(function() return "ok" end, 42)}`, want: `{"v":[true,"ok"]}`},
		{name: "nil handler, error", expr: `{xpcall(function() error("x") end, nil)}`, want: `{"v":[false,"error in error handling"]}`},
		{name: "handler fails", expr: `{xpcall(function() error("x") end, function(e) error("y") end)}`, want: `{"v":[false,"error in error handling"]}`},
		{name: "no handler", expr: `xpcall(function() end)`, err: "bad argument #2 to 'xpcall' (value expected)"},
		{name: "f not a function", expr: `{xpcall(nil, function(e) return "handled" end)}`, want: `{"v":[false,"handled"]}`},
		{name: "f a table", expr: `select("#", xpcall({}, function(e) return type(e) end))`, want: `{"v":2}`},
	})
}

// TestMemoryWatchdog runs scripts that grow the heap without bound, under a
// limit a little above the current heap: the watchdog must stop them well
// before their loops end (each would reach gigabytes) and the time budget.
func TestMemoryWatchdog(t *testing.T) {
	runtime.GC()
	limit := readHeap() + 48<<20
	e := load(t, map[string]string{
		"str/str.execute.lua": handlerOf(`local t = {}
			for i = 1, 1000 do t[i] = string.rep(tostring(i), 4194304) end
			res:json({ n = #t })`),
		"tbl/tbl.execute.lua": handlerOf(`local t = {}
			for i = 1, 20000000 do t[i] = { i } end
			res:json({ n = #t })`),
		"ok/ok.execute.lua": handlerOf(`res:send("ok")`),
	}, Options{ScriptTimeout: time.Minute, HeapLimit: limit})
	for _, url := range []string{"/str", "/tbl"} {
		t.Run(url, func(t *testing.T) {
			_, err := run(t, e, "GET", url, "")
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 503 || !errors.Is(err, ErrMemoryLimit) {
				t.Fatalf("err=%v, want 503 ErrMemoryLimit", err)
			}
			if pe.Title != "Script Memory Limit" || pe.Internal {
				t.Errorf("title=%q internal=%v, want a clear public title", pe.Title, pe.Internal)
			}
			if resp, err := run(t, e, "GET", "/ok", ""); err != nil || string(resp.Body) != "ok" {
				t.Errorf("next request=%v %v, want ok", resp, err)
			}
		})
	}
}

// slowPatterns are handlers whose pattern matching backtracks for far longer
// than any test runs: only a matcher that stops with the call's budget ends
// them. gsub is MiniMi's own.
var slowPatterns = []struct{ name, body string }{
	{"find", `local s = string.rep("a", 40) string.find(s .. "b", string.rep("a*", 40) .. "c")`},
	{"match", `string.match(string.rep("a", 2000), string.rep(".-", 8) .. "b")`},
	{"gmatch", `for m in string.gmatch(string.rep("a", 40) .. "b", string.rep("a*", 40) .. "c") do end`},
	{"gsub", `string.gsub(string.rep("a", 40) .. "b", string.rep("a*", 40) .. "c", "x")`},
	{"caught", `local ok = pcall(string.find, string.rep("a", 40) .. "b", string.rep("a*", 40) .. "c")
		res:json({ caught = not ok })`},
}

// TestPatternsStopAtTheBudget: a pattern that backtracks past the time
// budget ends the request with 503 Script Timeout, as an endless loop does,
// also when the script catches the error.
func TestPatternsStopAtTheBudget(t *testing.T) {
	files := map[string]string{"ok/ok.execute.lua": handlerOf(`res:send("ok")`)}
	for _, p := range slowPatterns {
		files[p.name+"/"+p.name+".execute.lua"] = handlerOf(p.body)
	}
	e := load(t, files, Options{ScriptTimeout: 100 * time.Millisecond})
	for _, p := range slowPatterns {
		t.Run(p.name, func(t *testing.T) {
			_, err := run(t, e, "GET", "/"+p.name, "")
			if !isStatus(err, 503) || !errors.Is(err, ErrScriptTimeout) {
				t.Fatalf("err=%v, want 503 ErrScriptTimeout", err)
			}
			if resp, err := run(t, e, "GET", "/ok", ""); err != nil || string(resp.Body) != "ok" {
				t.Errorf("next request=%v %v, want ok", resp, err)
			}
		})
	}
}

// TestNestedPcallsStopAtTheBudget: a script stopped by its time budget deep
// in nested pcalls or xpcalls ends with 503 Script Timeout, as an endless
// loop does. pcall and xpcall do not catch the stop: when each caught it and
// the next instruction raised it again one level up, 1600 levels took 12.8s
// past the budget, and tens of thousands minutes.
func TestNestedPcallsStopAtTheBudget(t *testing.T) {
	bodies := []struct{ name, body string }{
		{"pcall", `local function f(d) if d < 45000 then pcall(f, d + 1) else while true do end end end
			f(1)
			res:json({ unreachable = true })`},
		{"xpcall", `local function f(d)
				if d < 30000 then xpcall(function() f(d + 1) end, function(e) return e end) else while true do end end
			end
			f(1)
			res:json({ unreachable = true })`},
		{"endless", `local function f() pcall(f) end
			while true do f() end`},
	}
	files := map[string]string{"ok/ok.execute.lua": handlerOf(`res:send("ok")`)}
	for _, b := range bodies {
		files[b.name+"/"+b.name+".execute.lua"] = handlerOf(b.body)
	}
	e := load(t, files, Options{ScriptTimeout: 200 * time.Millisecond, CallStackSize: 100000, RegistrySize: 1 << 20})
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := run(t, e, "GET", "/"+b.name, "")
				done <- err
			}()
			select {
			case err := <-done:
				if !isStatus(err, 503) || !errors.Is(err, ErrScriptTimeout) {
					t.Fatalf("err=%v, want 503 ErrScriptTimeout", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no reply 10s after a budget of 200ms")
			}
			if resp, err := run(t, e, "GET", "/ok", ""); err != nil || string(resp.Body) != "ok" {
				t.Errorf("next request=%v %v, want ok", resp, err)
			}
		})
	}
}

// TestPatternsStopForMemory: the watchdog stops a call busy matching a
// pattern as it stops any other. The heap is always past a limit of one
// byte, so the call is stopped at the watchdog's first look.
func TestPatternsStopForMemory(t *testing.T) {
	e := load(t, map[string]string{"find/find.execute.lua": handlerOf(slowPatterns[0].body)},
		Options{ScriptTimeout: time.Hour})
	e.opts.HeapLimit = 1 // after Load, whose own chunks the limit would stop too
	_, err := run(t, e, "GET", "/find", "")
	if !isStatus(err, 503) || !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("err=%v, want 503 ErrMemoryLimit", err)
	}
}

// add registers b with m and starts a call on it, as newVM and begin do;
// remove ends it.
func (m *memWatch) add(b *budget) {
	m.register(b)
	b.mu.Lock()
	b.active = true
	b.mu.Unlock()
	m.started()
}

func (m *memWatch) remove(b *budget) {
	b.end()
	m.unregister(b)
}

func TestMemWatchStopsOnlyCallsOverTheirLimit(t *testing.T) {
	var heap atomic.Uint64
	m := newMemWatch(time.Hour, heap.Load) // the loop never ticks: check is called here
	watch := func(limit uint64) *budget {
		b := newBudget()
		b.parent, b.deadline, b.limit = t.Context(), time.Now().Add(time.Hour), limit
		m.add(b)
		return b
	}
	low, high := watch(100), watch(1000)
	heap.Store(50)
	if !m.check() || low.Err() != nil || high.Err() != nil {
		t.Fatalf("check() under every limit stopped a call or reported none running")
	}
	heap.Store(500)
	go func() { time.Sleep(10 * time.Millisecond); m.remove(low) }() // as Run does once its call ends
	m.check()
	if !low.stoppedForMemory() || low.Err() == nil {
		t.Errorf("the call whose limit the heap passed was not stopped")
	}
	if high.Err() != nil {
		t.Errorf("the call under its limit was stopped")
	}
	m.remove(high)
	if m.check() {
		t.Errorf("check()=true with no call running, want false")
	}
}

func TestMemWatchEndsLateAndCanceledCalls(t *testing.T) {
	m := newMemWatch(time.Hour, func() uint64 { return 0 })
	late, live, gone := newBudget(), newBudget(), newBudget()
	parent, cancel := context.WithCancel(t.Context())
	cancel()
	late.parent, late.deadline, late.limit = t.Context(), time.Now().Add(-time.Millisecond), math.MaxUint64
	live.parent, live.deadline, live.limit = t.Context(), time.Now().Add(time.Hour), math.MaxUint64
	gone.parent, gone.deadline, gone.limit = parent, time.Now().Add(time.Hour), math.MaxUint64
	for _, b := range []*budget{late, live, gone} {
		m.add(b)
	}
	m.check()
	if !errors.Is(late.Err(), context.DeadlineExceeded) {
		t.Errorf("past its deadline: Err()=%v, want DeadlineExceeded", late.Err())
	}
	if !errors.Is(gone.Err(), context.Canceled) || gone.stoppedForMemory() {
		t.Errorf("request gone: Err()=%v memory=%v, want Canceled, not memory", gone.Err(), gone.stoppedForMemory())
	}
	if live.Err() != nil {
		t.Errorf("a live call was stopped: %v", live.Err())
	}
	select {
	case <-late.Done():
	default:
		t.Errorf("Done() of a stopped call is not closed")
	}
}

func TestBudgetIsReused(t *testing.T) {
	b := newBudget()
	b.begin(t.Context(), time.Hour, math.MaxUint64)
	first := b.gen
	b.stop(first, context.DeadlineExceeded, false)
	b.end()
	b.begin(t.Context(), time.Hour, math.MaxUint64)
	defer b.end()
	if b.Err() != nil {
		t.Fatalf("a new call starts with Err()=%v, want nil", b.Err())
	}
	b.stop(first, context.DeadlineExceeded, false) // a stale stop must not end the new call
	if b.Err() != nil {
		t.Errorf("a stop for the previous call ended the new one")
	}
	if memoryError(b, "") != nil {
		t.Errorf("memoryError() on a live budget, want nil")
	}
	b.stop(b.gen, context.Canceled, true)
	if err := memoryError(b, "f.lua:1"); !errors.Is(err, ErrMemoryLimit) || !isStatus(err, 503) {
		t.Errorf("stopped by the watchdog: memoryError()=%v, want 503 ErrMemoryLimit", err)
	}
}

// BenchmarkBudget is the cost the time budget and the memory watchdog add
// to each call.
func BenchmarkBudget(b *testing.B) {
	bud := newBudget()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bud.begin(ctx, time.Second, math.MaxUint64)
		bud.end()
	}
}

// TestCloseStopsWatchingStatesInFlight: a state running a request when its
// engine is closed is not left registered with the watchdog once the request
// ends (the watchdog is the process's: a state left there is never dropped,
// and every tick walks it).
func TestCloseStopsWatchingStatesInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e := load(t, map[string]string{
		"a/a.execute.lua": handlerOf(`local _ = req.config res:send("ok")`),
	}, Options{EndpointConfig: func(string) map[string]any {
		once.Do(func() { close(entered) })
		<-release
		return nil
	}})
	done := make(chan error, 1)
	go func() {
		_, err := run(t, e, "GET", "/a", "")
		done <- err
	}()
	<-entered
	e.Close() // as a reload or a shutdown does while a request runs
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case v := <-e.pool:
			watchdog.mu.Lock()
			_, registered := watchdog.budgets[v.budget]
			watchdog.mu.Unlock()
			if registered {
				t.Errorf("a state of a closed engine is still registered with the watchdog")
			}
		default:
			return
		}
	}
}

// TestMemWatchSleepsAndWakes: the watchdog goes to sleep when no call runs
// and a call that starts later is still stopped at its deadline.
func TestMemWatchSleepsAndWakes(t *testing.T) {
	m := newMemWatch(time.Millisecond, func() uint64 { return 0 })
	b := newBudget()
	m.register(b)
	defer m.unregister(b)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for start := time.Now(); !cond(); time.Sleep(time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("still waiting for %s", what)
			}
		}
	}
	for call := range 3 {
		b.begin(t.Context(), 20*time.Millisecond, math.MaxUint64)
		waitFor("the watchdog to stop a call past its deadline", func() bool { return b.Err() != nil })
		if !errors.Is(b.Err(), context.DeadlineExceeded) {
			t.Fatalf("call %d ended with %v, want a deadline", call+1, b.Err())
		}
		b.end()
		waitFor("the watchdog to sleep", m.asleep.Load)
	}
}

// TestLoadStopsRunawayTopLevel: a processor's top level (and its routes())
// runs when it is loaded, within the budget a request gets. One that never
// returns or grows the heap without bound stops Load with its file and line
// instead of hanging start-up, and the other files are still checked.
func TestLoadStopsRunawayTopLevel(t *testing.T) {
	runtime.GC()
	limit := readHeap() + 48<<20
	tests := []struct {
		name, src string
		opts      Options
		want      error
		line      int
	}{
		{"loop", "local n = 0\nwhile true do n = n + 1 end\nreturn {}", Options{ScriptTimeout: 50 * time.Millisecond}, ErrScriptTimeout, 2},
		{"routes", "return { routes = function()\n  while true do end\nend }", Options{ScriptTimeout: 50 * time.Millisecond}, ErrScriptTimeout, 2},
		{"pattern", "string.find(string.rep('a', 40) .. 'b', string.rep('a*', 40) .. 'c')\nreturn {}", Options{ScriptTimeout: 50 * time.Millisecond}, ErrScriptTimeout, 1},
		{"memory", "local t = {}\nfor i = 1, 20000000 do t[i] = { i } end\nreturn {}", Options{ScriptTimeout: time.Minute, HeapLimit: limit}, ErrMemoryLimit, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := tryLoad(map[string]string{
				"spin/spin.execute.lua": tc.src,
				"ok/ok.execute.lua":     `return { GET = function(req, res) res:send("ok") end }`,
				"bad/bad.execute.lua":   "return 42",
			}, tc.opts)
			if err == nil {
				t.Fatal("Load()=nil, want an error")
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("Load took %v", took)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Load()=%v, want %v", err, tc.want)
			}
			var se *ScriptError
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				if errors.As(e, &se) && se.File == "endpoints/spin/spin.execute.lua" {
					break
				}
				se = nil
			}
			if se == nil {
				t.Fatalf("Load()=%v, want a ScriptError of spin.execute.lua", err)
			}
			if tc.line > 0 && se.Line != tc.line {
				t.Errorf("line=%d, want %d (%v)", se.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), "endpoints/bad/bad.execute.lua:1: must return a table") {
				t.Errorf("Load()=%v, want the other file's error too", err)
			}
		})
	}
}

// TestPatternCaptureLimit: a pattern of millions of nested captures, which
// once overflowed the Go stack and crashed the process, is an error a
// script can catch (Lua 5.1's limit of 32 captures).
func TestPatternCaptureLimit(t *testing.T) {
	e := load(t, map[string]string{"p/p.execute.lua": handlerOf(`
		local ok, err = pcall(string.find, "a", string.rep("(", 8388608))
		local ok32 = pcall(string.find, "a", string.rep("()", 32))
		res:json({ ok = ok, err = tostring(err), ok32 = ok32 })`)}, Options{})
	resp, err := run(t, e, "GET", "/p", "")
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, resp)
	if got["ok"] != false || !strings.Contains(got["err"].(string), "too many captures") || got["ok32"] != true {
		t.Errorf("got %v, want too many captures caught, 32 captures fine", got)
	}
}

// TestSparseJSONArrays: a table marked as an array with one key far past the
// others is refused as too long a JSON, not walked hole by hole (the
// encoding grew by gigabytes) nor allocated in one slice (a fatal out of
// memory that ended the process), while a sparse array of a sensible length
// still encodes its holes as null.
func TestSparseJSONArrays(t *testing.T) {
	runCases(t, []luaCase{
		{name: "holes", expr: `json.encode(json.array({ [1] = 1, [4] = 4 }))`, want: `{"v":"[1,null,null,4]"}`},
		{name: "hole in a reply", expr: `json.array({ [3] = true })`, want: `{"v":[null,null,true]}`},
		{name: "encode", expr: `json.encode(json.array({ [2^40] = 1 }))`, err: "json encoding longer than"},
		{name: "reply", expr: `json.array({ [1] = 1, [1e12] = 1 })`, err: "json encoding longer than"},
		{name: "nested", expr: `json.encode({ a = { b = json.array({ [2^50] = 1 }) } })`, err: "json encoding longer than"},
		{name: "log", expr: `log.info("sparse", { a = json.array({ [1e12] = 1 }) })`, want: `{}`},
		{name: "token", expr: `pcall(auth.sign, { a = json.array({ [1e12] = 1 }) }, 60)`, want: `{"v":false}`},
	})
	e := load(t, map[string]string{"e/e.execute.lua": `return { POST = function(req, res)
		emit("sparse", json.array({ [1e12] = 1 }))
	end }`}, Options{})
	_, err := run(t, e, "POST", "/e", "")
	if !isStatus(err, 500) || !strings.Contains(err.Error(), "json encoding longer than") {
		t.Errorf("emit: err=%v, want a 500 naming the json size limit", err)
	}
}
