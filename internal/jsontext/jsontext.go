// Package jsontext writes JSON text by appending to byte slices, for the hot
// paths that cannot afford encoding/json's reflection: script replies,
// stored records, events and the request log.
package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaping what JSON requires and
// replacing invalid UTF-8 with U+FFFD.
func AppendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// ErrUnsupported is a value that has no JSON encoding: NaN, an infinity.
var ErrUnsupported = errors.New("jsontext: unsupported value")

// AppendFloat appends f as encoding/json writes a float64 (which is how
// JavaScript writes numbers): integers without a fraction, plain decimals
// from 1e-6 up to 1e21, exponents beyond.
func AppendFloat(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return buf, fmt.Errorf("%w: %v", ErrUnsupported, f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 && (f != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(buf, int64(f), 10), nil
	}
	if a := math.Abs(f); a == 0 || a >= 1e-6 && a < 1e21 { // -0 too
		return strconv.AppendFloat(buf, f, 'f', -1, 64), nil
	}
	buf = strconv.AppendFloat(buf, f, 'e', -1, 64)
	// e-07 → e-7, as encoding/json and JavaScript write it.
	if n := len(buf); n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
		buf[n-2] = buf[n-1]
		buf = buf[:n-1]
	}
	return buf, nil
}

// AppendValue appends the JSON encoding of v, a value of the kinds
// encoding/json decodes into an any (nil, bool, float64, string, []any,
// map[string]any) or json.Number, json.RawMessage (appended as is), int,
// int64 or map[string]string. Object keys are sorted, as encoding/json sorts
// map keys. Other types go through encoding/json.
func AppendValue(buf []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		return strconv.AppendBool(buf, v), nil
	case float64:
		return AppendFloat(buf, v)
	case int:
		return strconv.AppendInt(buf, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case string:
		return AppendString(buf, v), nil
	case json.Number:
		if v == "" {
			return append(buf, '0'), nil // as encoding/json writes it
		}
		if !validNumber(string(v)) {
			return buf, fmt.Errorf("jsontext: invalid number %q", string(v))
		}
		return append(buf, v...), nil
	case json.RawMessage:
		if v == nil {
			return append(buf, "null"...), nil
		}
		out := bytes.NewBuffer(buf)
		if err := json.Compact(out, v); err != nil { // one line, and valid
			return buf, err
		}
		return out.Bytes(), nil
	case []any:
		if v == nil {
			return append(buf, "null"...), nil
		}
		buf = append(buf, '[')
		var err error
		for i, e := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = AppendValue(buf, e); err != nil {
				return buf, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		return appendMap(buf, v, AppendValue)
	case map[string]string:
		return appendMap(buf, v, func(b []byte, s string) ([]byte, error) { return AppendString(b, s), nil })
	}
	b, err := json.Marshal(v)
	if err != nil {
		return buf, err
	}
	return append(buf, b...), nil
}

// appendMap appends m as an object, its keys sorted, each value by value.
func appendMap[V any](buf []byte, m map[string]V, value func([]byte, V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(buf, "null"...), nil
	}
	buf = append(buf, '{')
	var err error
	for i, k := range sortedKeys(m) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(AppendString(buf, k), ':')
		if buf, err = value(buf, m[k]); err != nil {
			return buf, err
		}
	}
	return append(buf, '}'), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	if i = digits(s, i); i == start || i-start > 1 && s[start] == '0' {
		return false
	}
	if i < len(s) && s[i] == '.' {
		frac := i + 1
		if i = digits(s, frac); i == frac {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := i
		if i = digits(s, exp); i == exp {
			return false
		}
	}
	return i == len(s)
}

// digits returns the index after the run of ASCII digits of s at i.
func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// IsMediaType reports whether a Content-Type value says JSON:
// application/json or any type ending in +json, in any case, parameters
// ignored. It reads the type without mime.ParseMediaType's allocations.
func IsMediaType(contentType string) bool {
	ct := contentType
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	slash := strings.IndexByte(ct, '/')
	if slash <= 0 || !isToken(ct[:slash]) || !isToken(ct[slash+1:]) {
		return false
	}
	return strings.EqualFold(ct, "application/json") ||
		len(ct) > slash+5 && strings.EqualFold(ct[len(ct)-5:], "+json")
}

// isToken reports whether s is an RFC 9110 token, as a media type's type
// and subtype must be.
func isToken(s string) bool {
	return httpguts.ValidHeaderFieldName(s)
}
