package phases

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// decodeJSON decodes data into a Lua value, as encoding/json's Unmarshal into
// an any followed by toLua would, without building the Go values between:
// objects become tables, arrays become tables marked as arrays (a null keeps
// its position), null becomes nil, numbers out of float64's range and
// nesting deeper than MaxJSONDepth are errors, invalid UTF-8 is an error
// (errNotUTF8: RFC 8259 requires UTF-8), and an escaped lone surrogate
// ("\ud800") becomes U+FFFD, as in encoding/json. The fuzz test holds it to
// encoding/json.
func decodeJSON(L *lua.LState, data []byte) (lua.LValue, error) {
	d := decoders.Get().(*jsonDecoder)
	defer d.release()
	d.L, d.data, d.arrayMT = L, data, L.GetField(L.Get(lua.RegistryIndex), arrayMeta)
	d.space()
	v, err := d.value(0)
	if err != nil {
		return lua.LNil, err
	}
	if d.space(); d.i < len(d.data) {
		return lua.LNil, d.syntax("after the top-level value")
	}
	return v, nil
}

// decoders keep their stacks and scratch between decodings.
var decoders = sync.Pool{New: func() any { return new(jsonDecoder) }}

// popped notes how deep the stacks are before a container pops its
// members, so that release clears no more than was used.
func (d *jsonDecoder) popped() {
	d.deepK, d.deepV = max(d.deepK, len(d.keys)), max(d.deepV, len(d.vals))
}

// maxPooledStack is the longest stack a pooled decoder keeps: a document
// with a huge array or object should not make every later decoding carry
// its memory.
const maxPooledStack = 4096

// release forgets the decoding, keeping the stacks' memory but none of
// the values on them, and puts d back in decoders.
func (d *jsonDecoder) release() {
	if cap(d.vals) > maxPooledStack || cap(d.keys) > maxPooledStack || cap(d.buf) > 64*maxPooledStack {
		return
	}
	d.popped() // a failed decoding leaves its values on the stacks
	clear(d.keys[:d.deepK])
	clear(d.vals[:d.deepV])
	*d = jsonDecoder{keys: d.keys[:0], vals: d.vals[:0], buf: d.buf[:0], names: d.names}
	decoders.Put(d)
}

// jsonDecoder is one decoding. Members and elements wait on a stack until
// their container closes, so that each table is made at its final size:
// gopher-lua gives a table that starts empty a 32-slot map on its first
// string key.
type jsonDecoder struct {
	L       *lua.LState
	data    []byte
	i       int
	arrayMT lua.LValue
	keys    []string     // keys of the objects being decoded
	vals    []lua.LValue // their values, and the elements of the arrays being decoded
	deepK   int          // the most keys and values on the stacks so far, for release
	deepV   int
	buf     []byte            // scratch for unescaping strings
	names   map[string]string // short object keys decoded before, to share their strings (see key)
}

// A pooled decoder keeps the strings of up to maxNames object keys of up to
// maxNameLen bytes.
const (
	maxNames   = 256
	maxNameLen = 32
)

var (
	errNumberRange = errors.New("a number is out of range")
	errNotUTF8     = errors.New("invalid UTF-8")
)

func (d *jsonDecoder) syntax(what string) error {
	if d.i >= len(d.data) {
		return fmt.Errorf("unexpected end of JSON input %s", what)
	}
	return fmt.Errorf("invalid character %q at offset %d %s", d.data[d.i], d.i, what)
}

func (d *jsonDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (lua.LValue, error) {
	if depth > MaxJSONDepth {
		return lua.LNil, errJSONDepth
	}
	if d.i >= len(d.data) {
		return lua.LNil, d.syntax("looking for a value")
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.str()
		return lua.LString(s), err
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case d.literal("true"):
		return lua.LTrue, nil
	case d.literal("false"):
		return lua.LFalse, nil
	case d.literal("null"):
		return lua.LNil, nil
	}
	return lua.LNil, d.syntax("looking for a value")
}

func (d *jsonDecoder) literal(word string) bool {
	if len(d.data)-d.i >= len(word) && string(d.data[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return true
	}
	return false
}

func (d *jsonDecoder) object(depth int) (lua.LValue, error) {
	d.i++ // {
	base := len(d.keys)
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return d.L.CreateTable(0, 0), nil
	}
	for {
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return lua.LNil, d.syntax("looking for an object key")
		}
		k, err := d.key()
		if err != nil {
			return lua.LNil, err
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return lua.LNil, d.syntax("after an object key")
		}
		d.i++
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return lua.LNil, err
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
		more, err := d.next('}', "after an object member")
		if err != nil {
			return lua.LNil, err
		}
		if !more {
			break
		}
	}
	keys, vals := d.keys[base:], d.vals[len(d.vals)-(len(d.keys)-base):]
	t := d.L.CreateTable(0, len(keys))
	for i, k := range keys {
		t.RawSetString(k, vals[i]) // a later duplicate key wins, null or not, as in encoding/json
	}
	d.popped()
	d.keys, d.vals = d.keys[:base], d.vals[:len(d.vals)-len(keys)]
	return t, nil
}

func (d *jsonDecoder) array(depth int) (lua.LValue, error) {
	d.i++ // [
	base := len(d.vals)
	d.space()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
	} else {
		for {
			d.space()
			v, err := d.value(depth + 1)
			if err != nil {
				return lua.LNil, err
			}
			d.vals = append(d.vals, v)
			more, err := d.next(']', "after an array element")
			if err != nil {
				return lua.LNil, err
			}
			if !more {
				break
			}
		}
	}
	elems := d.vals[base:]
	t := d.L.CreateTable(len(elems), 0)
	for i, v := range elems {
		t.RawSetInt(i+1, v) // a null keeps its position: [1,null,2] has 2 at [3]
	}
	t.Metatable = d.arrayMT
	d.popped()
	d.vals = d.vals[:base]
	return t, nil
}

// next reads what follows a member or an element: a comma, when more
// follow, or the container's closing byte.
func (d *jsonDecoder) next(closing byte, where string) (more bool, err error) {
	d.space()
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case ',':
			d.i++
			return true, nil
		case closing:
			d.i++
			return false, nil
		}
	}
	return false, d.syntax(where)
}

// number reads a JSON number. Integers of up to 15 digits are exact in a
// float64 and are converted without strconv.
func (d *jsonDecoder) number() (lua.LValue, error) {
	start := d.i
	if d.data[d.i] == '-' {
		d.i++
	}
	digits := d.digits()
	if digits == 0 || digits > 1 && d.data[d.i-digits] == '0' {
		return lua.LNil, d.syntax("in a number")
	}
	simple := digits <= 15
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return lua.LNil, d.syntax("after a decimal point")
		}
		simple = false
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return lua.LNil, d.syntax("in an exponent")
		}
		simple = false
	}
	text := d.data[start:d.i]
	if simple {
		var n int64
		neg := text[0] == '-'
		if neg {
			text = text[1:]
		}
		for _, c := range text {
			n = n*10 + int64(c-'0')
		}
		if neg {
			return lua.LNumber(-float64(n)), nil
		}
		return lua.LNumber(float64(n)), nil
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return lua.LNil, fmt.Errorf("%w: %s", errNumberRange, text)
	}
	return lua.LNumber(f), nil
}

func (d *jsonDecoder) digits() int {
	n := 0
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

// str reads a JSON string. Most strings have no escapes and are ASCII:
// those are one copy.
func (d *jsonDecoder) str() (string, error) {
	b, start, ok := d.plainStr()
	if !ok {
		return d.restStr(start)
	}
	return string(b), nil
}

// key reads an object key. The records of a collection have the same
// fields, and the bodies sent to an endpoint mostly do: a short plain key
// seen before is not copied again but shared from d.names.
func (d *jsonDecoder) key() (string, error) {
	b, start, ok := d.plainStr()
	if !ok {
		return d.restStr(start)
	}
	if k, ok := d.names[string(b)]; ok {
		return k, nil
	}
	k := string(b)
	if len(k) <= maxNameLen && len(d.names) < maxNames {
		if d.names == nil {
			d.names = make(map[string]string)
		}
		d.names[k] = k
	}
	return k, nil
}

// plainStr reads a string without escapes or non-ASCII bytes and returns
// its bytes, which are d.data's. Any other string makes it stop where it
// finds out, with ok false and start where the string's content begins.
func (d *jsonDecoder) plainStr() (b []byte, start int, ok bool) {
	d.i++ // "
	start = d.i
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case c == '"':
			d.i++
			return d.data[start : d.i-1], start, true
		case c == '\\' || c >= utf8.RuneSelf || c < 0x20:
			return nil, start, false
		}
		d.i++
	}
	return nil, start, false
}

// restStr finishes a string where plainStr stopped.
func (d *jsonDecoder) restStr(start int) (string, error) {
	if d.i >= len(d.data) || d.data[d.i] < 0x20 {
		return "", d.syntax("in a string")
	}
	return d.slowStr(start)
}

// slowStr finishes a string that has escapes or non-ASCII bytes.
func (d *jsonDecoder) slowStr(start int) (string, error) {
	b := append(d.buf[:0], d.data[start:d.i]...)
	defer func() { d.buf = b[:0] }()
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), nil
		case c < 0x20:
			return "", d.syntax("in a string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[d.i:])
			if r == utf8.RuneError && size == 1 {
				return "", fmt.Errorf("%w at offset %d in a string", errNotUTF8, d.i)
			}
			b = append(b, d.data[d.i:d.i+size]...)
			d.i += size
		case c != '\\':
			b = append(b, c)
			d.i++
		default:
			d.i++
			if d.i >= len(d.data) {
				return "", d.syntax("in a string escape")
			}
			e := d.data[d.i]
			d.i++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.syntax("in a \\u escape")
				}
				if utf16.IsSurrogate(r) {
					hi := r
					r = utf8.RuneError
					if hi < 0xdc00 { // a high surrogate: a low one must follow
						if lo, ok := d.lowSurrogate(); ok {
							r = utf16.DecodeRune(hi, lo)
						}
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				d.i--
				return "", d.syntax("in a string escape")
			}
		}
	}
	return "", d.syntax("in a string")
}

// lowSurrogate reads a \uXXXX low surrogate, if one comes next.
func (d *jsonDecoder) lowSurrogate() (rune, bool) {
	if d.i+6 > len(d.data) || d.data[d.i] != '\\' || d.data[d.i+1] != 'u' {
		return 0, false
	}
	lo, ok := parseHex4(d.data[d.i+2 : d.i+6])
	if !ok || lo < 0xdc00 || lo > 0xdfff {
		return 0, false
	}
	d.i += 6
	return lo, true
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.data) {
		return 0, false
	}
	r, ok := parseHex4(d.data[d.i : d.i+4])
	if ok {
		d.i += 4
	}
	return r, ok
}

func parseHex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
