package jsontext

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

func FuzzAppendFloat(f *testing.F) {
	for _, seed := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 1e-6, 9.99e-7, 1e-7, 1e14, 1e15, 123456789012345678, 1e20, 1e21, 1.7976931348623157e308, 5e-324, -2.5e-10} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		got, err := AppendFloat(nil, x)
		want, jerr := json.Marshal(x)
		if (err != nil) != (jerr != nil) {
			t.Fatalf("AppendFloat(%v) err=%v, encoding/json err=%v", x, err, jerr)
		}
		if err == nil && string(got) != string(want) {
			t.Fatalf("AppendFloat(%v)=%s, encoding/json writes %s", x, got, want)
		}
	})
}

func TestAppendFloatUnsupported(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := AppendFloat(nil, x); !errors.Is(err, ErrUnsupported) {
			t.Errorf("AppendFloat(%v) err=%v, want ErrUnsupported", x, err)
		}
	}
}

// TestAppendValue holds AppendValue to encoding/json: the same document,
// with keys in the same (sorted) order.
func TestAppendValue(t *testing.T) {
	values := []any{
		nil, true, false, 0.0, -3.25, 1e300, "plain", "quote\" back\\ nl\n tab\t nul\x00 é 😀",
		[]any{}, []any{1.0, "two", nil, []any{map[string]any{}}},
		map[string]any{"b": 1.0, "a": []any{"x"}, "c": map[string]any{"z": nil, "y": false}, "": "empty key"},
		map[string]string{"id": "42", "name": "ada"},
		json.Number("12.50"), json.Number(""), json.RawMessage(`{"raw":[1,2]}`), json.RawMessage("{ \"spaced\" :\n [ 1 ] }"), 7, int64(-9),
		map[string]any(nil), []any(nil), map[string]string(nil), math.Copysign(0, -1), []any{math.Copysign(0, -1)},
		struct {
			A int `json:"a"`
		}{3},
	}
	for _, v := range values {
		got, err := AppendValue(nil, v)
		if err != nil {
			t.Fatalf("AppendValue(%#v): %v", v, err)
		}
		want, _ := json.Marshal(v)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("AppendValue(%#v)=%s, not JSON: %v", v, got, err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("AppendValue(%#v)=%s, want %s", v, got, want)
		}
		if string(got) != string(want) { // none of these holds what encoding/json escapes for HTML
			t.Errorf("AppendValue(%#v)=%s, encoding/json writes %s", v, got, want)
		}
	}
	if _, err := AppendValue(nil, map[string]any{"n": math.NaN()}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("NaN inside a map: err=%v, want ErrUnsupported", err)
	}
	for _, n := range []string{"1x", "[1]", "01", "-", "1.", "1e", ".5", "+1", "0x10"} {
		if _, err := AppendValue(nil, json.Number(n)); err == nil {
			t.Errorf("the invalid json.Number %q was accepted", n)
		}
	}
	if _, err := AppendValue(nil, json.RawMessage(`{"a":`)); err == nil {
		t.Error("invalid raw JSON was accepted")
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "abc", "\"\\/\b\f\n\r\t\x01\x1f", "é😀", "bad \xff\xfe utf8"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendString(%q)=%s: %v", s, got, err)
		}
		var want string
		b, _ := json.Marshal(s)
		_ = json.Unmarshal(b, &want)
		if back != want {
			t.Errorf("AppendString(%q) decodes to %q, want %q", s, back, want)
		}
	}
}
