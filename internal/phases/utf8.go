package phases

import (
	"unicode/utf8"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// utf8CharPattern matches one UTF-8 sequence, as Lua 5.3's utf8.charpattern.
const utf8CharPattern = "[\x00-\x7F\xC2-\xFD][\x80-\xBF]*"

// openUTF8 installs the utf8 library as a global table.
func openUTF8(L *lua.LState) {
	t := L.CreateTable(0, len(utf8Module)+2)
	for name, fn := range utf8Module {
		t.RawSetString(name, L.NewFunction(fn))
	}
	// utf8.codes hands out one iterator function, made once per state.
	next := L.NewFunction(utf8Next)
	t.RawSetString("codes", L.NewFunction(func(L *lua.LState) int {
		L.CheckString(1)
		L.Push(next)
		L.Push(L.Get(1))
		L.Push(lua.LNumber(0))
		return 3
	}))
	t.RawSetString("charpattern", lua.LString(utf8CharPattern))
	L.SetGlobal("utf8", t)
}

// utf8Module is Lua 5.4's utf8 library (which the Lua 5.1 of gopher-lua
// lacks), strict like 5.4's: surrogates and code points past U+10FFFF are
// invalid. Positions are byte positions, 1-based, negative from the end.
var utf8Module = map[string]lua.LGFunction{
	"char":      utf8Char,
	"codepoint": utf8Codepoint,
	"len":       utf8Len,
	"offset":    utf8Offset,
}

// relPos turns a position that may count from the end (-1 is the last
// byte) into one from the start; a position before the start is 0.
func relPos(pos, n int) int {
	switch {
	case pos >= 0:
		return pos
	case -pos > n:
		return 0
	}
	return n + pos + 1
}

// decodeAt decodes the sequence at byte offset i of s; ok is false when it
// is not valid UTF-8.
func decodeAt(s string, i int) (r rune, size int, ok bool) {
	r, size = utf8.DecodeRuneInString(s[i:])
	return r, size, r != utf8.RuneError || size > 1
}

func isCont(s string, i int) bool { return i < len(s) && s[i]&0xC0 == 0x80 }

// utf8.char(...) returns the string of the given code points.
func utf8Char(L *lua.LState) int {
	n := L.GetTop()
	buf := make([]byte, 0, n)
	for i := 1; i <= n; i++ {
		c := L.CheckInt(i)
		if c < 0 || c > utf8.MaxRune || !utf8.ValidRune(rune(c)) {
			L.ArgError(i, "value out of range")
		}
		buf = utf8.AppendRune(buf, rune(c))
	}
	L.Push(lua.LString(buf))
	return 1
}

// utf8.codepoint(s [, i [, j]]) returns the code points of the sequences
// that start between byte i (default 1) and j (default i).
func utf8Codepoint(L *lua.LState) int {
	s := L.CheckString(1)
	i := relPos(L.OptInt(2, 1), len(s))
	j := relPos(L.OptInt(3, i), len(s))
	if i < 1 {
		L.ArgError(2, "out of bounds")
	}
	if j > len(s) {
		L.ArgError(3, "out of bounds")
	}
	if i > j {
		return 0
	}
	reserve(L, "utf8.codepoint", utf8.RuneCountInString(s[i-1:j]))
	n := 0
	for p := i - 1; p < j; {
		r, size, ok := decodeAt(s, p)
		if !ok {
			L.RaiseError("invalid UTF-8 code")
		}
		L.Push(lua.LNumber(r))
		n++
		p += size
	}
	return n
}

// utf8.len(s [, i [, j]]) counts the sequences that start between bytes i
// (default 1) and j (default -1). On an invalid byte it returns nil and the
// byte's position.
func utf8Len(L *lua.LState) int {
	s := L.CheckString(1)
	i := relPos(L.OptInt(2, 1), len(s))
	j := relPos(L.OptInt(3, -1), len(s))
	if i < 1 || i-1 > len(s) {
		L.ArgError(2, "initial position out of bounds")
	}
	if j-1 >= len(s) {
		L.ArgError(3, "final position out of bounds")
	}
	n := 0
	for p := i - 1; p < j; n++ {
		_, size, ok := decodeAt(s, p)
		if !ok {
			L.Push(lua.LNil)
			L.Push(lua.LNumber(p + 1))
			return 2
		}
		p += size
	}
	L.Push(lua.LNumber(n))
	return 1
}

// utf8.offset(s, n [, i]) returns the byte position where the n-th sequence
// counted from byte i starts (n = 0: the sequence that holds byte i), or
// nil when there is none.
func utf8Offset(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	def := 1
	if n < 0 {
		def = len(s) + 1
	}
	p := relPos(L.OptInt(3, def), len(s)) - 1
	if p < 0 || p > len(s) {
		L.ArgError(3, "position out of bounds")
	}
	if n == 0 {
		for p > 0 && isCont(s, p) {
			p--
		}
		L.Push(lua.LNumber(p + 1))
		return 1
	}
	if isCont(s, p) {
		L.RaiseError("initial position is a continuation byte")
	}
	if n < 0 {
		for ; n < 0 && p > 0; n++ {
			p--
			for p > 0 && isCont(s, p) {
				p--
			}
		}
	} else {
		for n--; n > 0 && p < len(s); n-- {
			p++
			for isCont(s, p) {
				p++
			}
		}
	}
	if n != 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(p + 1))
	return 1
}

// utf8Next is the iterator of utf8.codes(s): for p, c in utf8.codes(s)
// gives each sequence's byte position and code point.
func utf8Next(L *lua.LState) int {
	s := L.CheckString(1)
	p := L.CheckInt(2) - 1
	if p < 0 {
		p = 0
	} else if p < len(s) {
		p++
		for isCont(s, p) {
			p++
		}
	}
	if p >= len(s) {
		return 0
	}
	r, size, ok := decodeAt(s, p)
	if !ok || isCont(s, p+size) { // a stray continuation byte after it, as Lua 5.4 checks
		L.RaiseError("invalid UTF-8 code")
	}
	L.Push(lua.LNumber(p + 1))
	L.Push(lua.LNumber(r))
	return 2
}
