package stash

import (
	"bytes"
	"cmp"
	"math"
	"testing"
)

func TestEncodeValueOrder(t *testing.T) {
	ordered := []any{nil, false, true, math.Inf(-1), -1e300, -2.5, -1.0, 0.0, 1e-300, 1.0, 2.0, 1e300, math.Inf(1),
		"", "\x00", "\x00\x00", "\x00a", "a", "a\x00", "a\x00b", "ab", "b", "é"}
	for i := 1; i < len(ordered); i++ {
		a, b := encodeValue(ordered[i-1]), encodeValue(ordered[i])
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("encodeValue(%q)=%x >= encodeValue(%q)=%x, want <", ordered[i-1], a, ordered[i], b)
		}
	}
	same := [][2]any{{0.0, math.Copysign(0, -1)}, {3, 3.0}, {int64(7), 7.0}, {map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"b": 2.0, "a": 1.0}}}
	for _, p := range same {
		if !sameValue(p[0], p[1]) {
			t.Errorf("sameValue(%v, %v)=false, want true", p[0], p[1])
		}
	}
	if sameValue("1", 1.0) || sameValue([]any{"a"}, "a") {
		t.Errorf("sameValue() matched values of different types")
	}
}

// FuzzEncodeValue checks that index keys keep the order of their values and
// that the value part of a key is never a prefix of another value's key.
func FuzzEncodeValue(f *testing.F) {
	f.Add("a", "a\x00", 1.5, -2.0, "id1")
	f.Add("", "\x00\x01", 0.0, math.Copysign(0, -1), "")
	f.Add("x\x00\xff", "x\x00", math.MaxFloat64, math.SmallestNonzeroFloat64, "\x00")
	f.Fuzz(func(t *testing.T, s1, s2 string, f1, f2 float64, id string) {
		if math.IsNaN(f1) || math.IsNaN(f2) {
			return
		}
		if got, want := bytes.Compare(encodeValue(s1), encodeValue(s2)), cmp.Compare(s1, s2); got != want {
			t.Errorf("compare(encode(%q), encode(%q))=%d, want %d", s1, s2, got, want)
		}
		if got, want := bytes.Compare(encodeValue(f1), encodeValue(f2)), cmp.Compare(f1, f2); got != want && !(f1 == 0 && f2 == 0) {
			t.Errorf("compare(encode(%v), encode(%v))=%d, want %d", f1, f2, got, want)
		}
		e1, e2 := encodeValue(s1), encodeValue(s2)
		if s1 != s2 && bytes.HasPrefix(indexKey(e1, id), e2) {
			t.Errorf("indexKey(%q, %q) has the prefix of value %q", s1, id, s2)
		}
	})
}
