package phases

import (
	"fmt"
	"math"
	"strings"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// formatFlags are the flags a string.format directive may have, as in Lua
// 5.1: at most five of them.
const formatFlags = "-+ #0"

// directive is one %... of a string.format format, less its '%'.
type directive struct {
	flags       string
	width, prec string // digits, at most two each
	hasPrec     bool   // a '.' was there, with or without digits
	verb        byte   // 0 when the format ends first
	length      int    // bytes of the format it takes, its verb included
}

// strFormat is string.format(f, ...) as Lua 5.1's str_format, building its
// result in a boundedBuilder: %d %i %c %o %u %x %X %e %E %f %g %G %q %s
// and %%, with C's flags, a width and a precision of at most two digits
// each. A number is read as C does when it is converted: %d of 3.7 is 3,
// %x of -1 is ffffffffffffffff. An argument that is not a number (or a
// numeral, for the numeric directives) is an error, except for %s, which
// writes any value as tostring does, as in Lua 5.2 and later.
func strFormat(L *lua.LState) int {
	f := L.CheckString(1)
	top := L.GetTop()
	bb := boundedBuilder{L: L, fn: "string.format"}
	arg := 1
	for i := 0; i < len(f); {
		if f[i] != '%' {
			j := strings.IndexByte(f[i:], '%')
			if j < 0 {
				j = len(f) - i
			}
			bb.add(f[i : i+j])
			i += j
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			bb.add("%")
			i++
			continue
		}
		arg++
		if arg > top {
			L.ArgError(arg, "no value")
		}
		d := scanDirective(L, f[i:])
		i += d.length
		formatArg(L, &bb, d, arg)
	}
	L.Push(lua.LString(bb.b.String()))
	return 1
}

// scanDirective reads the flags, width, precision and verb at the start
// of f, as Lua 5.1's scanformat.
func scanDirective(L *lua.LState, f string) directive {
	var d directive
	i := 0
	for i < len(f) && strings.IndexByte(formatFlags, f[i]) >= 0 {
		i++
	}
	if i > len(formatFlags) {
		L.RaiseError("invalid format (repeated flags)")
	}
	d.flags = f[:i]
	start := i
	i = skipTwoDigits(f, i)
	d.width = f[start:i]
	if i < len(f) && f[i] == '.' {
		i++
		start = i
		i = skipTwoDigits(f, i)
		d.prec, d.hasPrec = f[start:i], true
	}
	if i < len(f) && f[i] >= '0' && f[i] <= '9' {
		L.RaiseError("invalid format (width or precision too long)")
	}
	if i < len(f) {
		d.verb = f[i]
		i++
	}
	d.length = i
	return d
}

// skipTwoDigits skips at most two digits of f from i.
func skipTwoDigits(f string, i int) int {
	for k := 0; k < 2 && i < len(f) && f[i] >= '0' && f[i] <= '9'; k++ {
		i++
	}
	return i
}

// formatArg adds argument arg formatted by d.
func formatArg(L *lua.LState, bb *boundedBuilder, d directive, arg int) {
	switch d.verb {
	case 'c':
		d.hasPrec = false // C ignores it
		bb.add(pad(string([]byte{byte(cInt64(float64(L.CheckNumber(arg))))}), d))
	case 'd', 'i':
		bb.add(fmt.Sprintf(d.goFormat(d.flags, 'd'), cInt64(float64(L.CheckNumber(arg)))))
	case 'o', 'u', 'x', 'X':
		n := cUint64(float64(L.CheckNumber(arg)))
		// C ignores + and space for unsigned numbers, and # for a zero.
		flags := strings.NewReplacer("+", "", " ", "").Replace(d.flags)
		if n == 0 {
			flags = strings.ReplaceAll(flags, "#", "")
		}
		verb := d.verb
		if verb == 'u' {
			verb = 'd'
		}
		bb.add(fmt.Sprintf(d.goFormat(flags, verb), n))
	case 'e', 'E', 'f', 'g', 'G':
		bb.add(formatFloat(d, float64(L.CheckNumber(arg))))
	case 'q':
		addQuoted(bb, L.CheckString(arg))
	case 's':
		s := L.ToStringMeta(L.Get(arg)).String()
		if !d.hasPrec && len(s) >= 100 {
			bb.add(s) // as Lua: no padding can apply, and no copy is made
			return
		}
		bb.add(pad(s, d))
	default:
		verb := ""
		if d.verb != 0 {
			verb = string([]byte{d.verb})
		}
		L.RaiseError("invalid option '%%%s' to 'format'", verb)
	}
}

// goFormat is d as a format of Go's fmt with the given flags and verb.
func (d directive) goFormat(flags string, verb byte) string {
	f := "%" + flags + d.width
	if d.hasPrec {
		f += "." + d.prec
	}
	return f + string(verb)
}

// formatFloat writes n for %e %E %f %g %G: Go's fmt with C's precision of 6
// when there is none, and C's inf and nan, which no zero pads.
func formatFloat(d directive, n float64) string {
	if !math.IsInf(n, 0) && !math.IsNaN(n) {
		if !d.hasPrec {
			d.prec, d.hasPrec = "6", true
		}
		return fmt.Sprintf(d.goFormat(d.flags, d.verb), n)
	}
	s := "inf"
	if math.IsNaN(n) {
		s = "nan"
	}
	switch {
	case math.Signbit(n):
		s = "-" + s
	case strings.Contains(d.flags, "+"):
		s = "+" + s
	case strings.Contains(d.flags, " "):
		s = " " + s
	}
	if d.verb == 'E' || d.verb == 'G' {
		s = strings.ToUpper(s)
	}
	d.prec, d.hasPrec = "", false
	return pad(s, d)
}

// pad truncates s to d's precision and pads it with spaces to d's width,
// on the right for the flag '-', as C's %s does with bytes.
func pad(s string, d directive) string {
	if d.hasPrec {
		if p := atoi2(d.prec); p < len(s) {
			s = s[:p]
		}
	}
	w := atoi2(d.width)
	if len(s) >= w {
		return s
	}
	if strings.Contains(d.flags, "-") {
		return s + strings.Repeat(" ", w-len(s))
	}
	return strings.Repeat(" ", w-len(s)) + s
}

// atoi2 reads the at most two digits of a width or precision; "" is 0.
func atoi2(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = 10*n + int(s[i]-'0')
	}
	return n
}

// addQuoted adds s between double quotes as Lua 5.1's %q: a backslash
// before ", \ and a newline, \r for a carriage return and \000 for a NUL.
func addQuoted(bb *boundedBuilder, s string) {
	bb.add(`"`)
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '"', '\\', '\n':
			esc = `\` + s[i:i+1]
		case '\r':
			esc = `\r`
		case 0:
			esc = `\000`
		default:
			continue
		}
		bb.add(s[last:i])
		bb.add(esc)
		last = i + 1
	}
	bb.add(s[last:])
	bb.add(`"`)
}

// cInt64 is the C conversion of n to a 64-bit integer that Lua 5.1 makes for
// %d: toward zero, and the smallest integer for NaN and a number out of range,
// as x86-64 gives.
func cInt64(n float64) int64 {
	if n >= -0x1p63 && n < 0x1p63 {
		return int64(n)
	}
	return math.MinInt64
}

// cUint64 is the C conversion of n to an unsigned 64-bit integer that Lua
// 5.1 makes for %o %u %x %X, as x86-64 compilers make it: a negative n
// wraps around (-1 is 0xffffffffffffffff).
func cUint64(n float64) uint64 {
	if n >= 0x1p63 {
		return uint64(cInt64(n-0x1p63)) ^ 1<<63
	}
	return uint64(cInt64(n))
}
