package stash

import (
	"encoding/binary"
	"encoding/json"
	"math"
)

// Index keys are encodeValue(value) followed by the record id. encodeValue is
// order-preserving within a type (null < false < true < numbers < strings <
// arrays and objects) and ends with the separator 0x00 0x01; a 0x00 inside
// the value is escaped as 0x00 0xFF, so the separator is unambiguous and all
// keys of one value are one contiguous, id-ordered range.

const (
	tagNull   = 0x01
	tagFalse  = 0x02
	tagTrue   = 0x03
	tagNumber = 0x04
	tagString = 0x05
	tagOther  = 0x06 // arrays and objects: canonical JSON, equality only
)

// encodeValue returns the index encoding of a JSON value (as decoded by
// encoding/json into any, or a Go number).
func encodeValue(v any) []byte {
	switch x := v.(type) {
	case nil:
		return []byte{tagNull, 0x00, 0x01}
	case bool:
		if x {
			return []byte{tagTrue, 0x00, 0x01}
		}
		return []byte{tagFalse, 0x00, 0x01}
	case string:
		return escapeValue(tagString, []byte(x))
	}
	if f, ok := toFloat(v); ok {
		return escapeValue(tagNumber, floatKey(f))
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = nil
	}
	return escapeValue(tagOther, b)
}

// escapeValue writes tag, body with 0x00 escaped as 0x00 0xFF, then 0x00 0x01.
func escapeValue(tag byte, body []byte) []byte {
	out := make([]byte, 0, len(body)+3)
	out = append(out, tag)
	for _, c := range body {
		out = append(out, c)
		if c == 0x00 {
			out = append(out, 0xFF)
		}
	}
	return append(out, 0x00, 0x01)
}

// floatKey maps f to 8 bytes whose byte order is the numeric order.
func floatKey(f float64) []byte {
	if f == 0 {
		f = 0 // -0 sorts and compares as 0
	}
	bits := math.Float64bits(f)
	if bits&(1<<63) != 0 {
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(nil, bits)
}

// toFloat returns v as a float64 if it is a number.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// indexKey is the key of id's entry for an encoded value.
func indexKey(enc []byte, id string) []byte {
	k := make([]byte, 0, len(enc)+len(id))
	k = append(k, enc...)
	return append(k, id...)
}

// sameValue reports whether two JSON values are equal as index values.
func sameValue(a, b any) bool {
	return string(encodeValue(a)) == string(encodeValue(b))
}
