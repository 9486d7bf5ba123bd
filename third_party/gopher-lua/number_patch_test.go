package lua

import (
	"math"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64 // NaN: not a numeral
	}{
		{"12", 12},
		{"  12  ", 12},
		{"\t\n\v\f\r12\r\n", 12},
		{"-12", -12},
		{"+12", 12},
		{"1e5", 1e5},
		{"1E2", 100},
		{"1.5e-3", 1.5e-3},
		{"+1.23E30", 1.23e30},
		{".5", 0.5},
		{"5.", 5},
		{"010", 10},
		{"0x10", 16},
		{"  0x10  ", 16},
		{"0XfF", 255},
		{"-0x10", -16},
		{"0xFFFFFFFFFFFFFFFF", 18446744073709551615},
		{"9223372036854775807", 9223372036854775807},
		{"9223372036854775808", 9223372036854775808},
		{"123456789012345678901234567890", 1.2345678901234568e29},
		{"1e400", math.Inf(1)},
		{"-1e400", math.Inf(-1)},
		{"1e-400", 0},
		{"", math.NaN()},
		{"  ", math.NaN()},
		{".", math.NaN()},
		{"e1", math.NaN()},
		{"1e", math.NaN()},
		{"1.0e+", math.NaN()},
		{"+.e1", math.NaN()},
		{"+ 1", math.NaN()},
		{"--1", math.NaN()},
		{"+-1", math.NaN()},
		{"12a", math.NaN()},
		{"1 2", math.NaN()},
		{"3.4.5", math.NaN()},
		{"0x", math.NaN()},
		{"0x1p4", math.NaN()},
		{"0x1.8", math.NaN()},
		{"0xg", math.NaN()},
		{"0b11", math.NaN()},
		{"0o17", math.NaN()},
		{"1_000", math.NaN()},
		{"inf", math.NaN()},
		{"-Inf", math.NaN()},
		{"infinity", math.NaN()},
		{"nan", math.NaN()},
		{"NaN", math.NaN()},
	}
	for _, tc := range tests {
		got, err := parseNumber(tc.in)
		switch {
		case math.IsNaN(tc.want):
			if err == nil {
				t.Errorf("parseNumber(%q)=%v, want an error", tc.in, got)
			}
		case err != nil || float64(got) != tc.want:
			t.Errorf("parseNumber(%q)=%v, %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestNumbersFromStrings: tonumber, arithmetic on strings, library
// arguments and literals read numerals alike.
func TestNumbersFromStrings(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		assert(tonumber("1e5") == 100000)
		assert(tonumber("1E2") == 100)
		assert(tonumber("  0x10  ") == 16)
		assert(tonumber("9223372036854775808") == 2^63)
		assert(tonumber("1e400") == 1/0)
		assert(tonumber(".5") == 0.5 and tonumber("5.") == 5)
		assert(tonumber("  12  ") == 12)
		assert(tonumber("12a") == nil and tonumber("") == nil)
		assert(tonumber("0x1p4") == nil)
		assert(tonumber("nan") == nil and tonumber("inf") == nil)
		assert(tonumber("1e5", 10) == 100000 and tonumber("0x10", 10) == 16)
		assert(tonumber("ff", 16) == 255 and tonumber("  1010  ", 2) == 10 and tonumber("12", 2) == nil)
		assert("10" + 1 == 11 and "1e2" * 1 == 100 and "010" + 0 == 10)
		assert(" 0x10 " + 0 == 16 and "9223372036854775808" + 0 == 2^63)
		assert("1e400" + 0 == 1/0)
		assert(not pcall(function() return "inf" + 0 end))
		assert(not pcall(function() return "1_000" + 0 end))
		assert(math.floor("2.5e1") == 25 and math.max("0x10", 1) == 16)
		assert(1e400 == 1/0 and 0x10 == 16 and 010 == 10)
	`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestIntegerArgumentsFromStrings: a library function that takes an
// integer takes a string that reads as a number, as Lua 5.1's
// luaL_checkinteger does, and refuses one that does not.
func TestIntegerArgumentsFromStrings(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		assert(string.rep("x", "3") == "xxx")
		assert(string.sub("hello", "2", " 3 ") == "el")
		assert(string.byte("AB", "2") == 66)
		assert(table.concat({1, 2, 3}, ",", "2") == "2,3")
		assert(string.char("65") == "A")
		local ok, err = pcall(string.rep, "x", "three")
		assert(not ok and err:find("number expected, got string"), err)
		ok, err = pcall(string.sub, "hello", {})
		assert(not ok and err:find("number expected, got table"), err)
	`)
	if err != nil {
		t.Fatal(err)
	}
}
