package phases

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// FuzzDecodeJSON feeds request bodies through CheckBody and decodeJSON, as a
// request's req.body does. It must never panic; a body nested deeper than
// MaxJSONDepth must be refused with a 400 before any decoding; and a body
// that decodes must encode back (encodeJSON) to equivalent JSON.
//
// Equivalent means equal after dropping nulls: Lua tables cannot hold nil,
// so an object member that is null is absent and a null array element is
// dropped (the elements after it move down).
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"a":[1,2.5,"x",true,false,null],"b":{"c":{}}}`,
		`[]`, `{}`, `null`, `"text"`, `-0`, `1e300`, `1e400`, `12345678901234567890`,
		`{"1":"a","2":"b"}`, `[1,null,3]`, `{"a":null}`, `{"a":1,"a":2}`,
		`"\u00e9\ud83d\ude00\u0000"`, "\"\xff\xfe\"", `{"k":"\"\\\/\b\f\n\r\t"}`,
		strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth),
		strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1),
		strings.Repeat(`{"a":`, MaxJSONDepth+1) + "1" + strings.Repeat("}", MaxJSONDepth+1),
		strings.Repeat("[", 100000),
		`["]]]]]]]]]]"]`, `{"a":`, `[1,]`, ``, ` `,
		`"\ud800"`, `"\ud800\u0041"`, `"\udc00\udc00"`, `"\ud83d\ude00x"`, `"\u00"`, `01`, `-`, `1.`, `1e`, `-0.5e-3`,
		`123456789012345`, `1234567890123456`, `{"a" 1}`, `[1 2]`, "\"\x01\"", `tru`, `nulll`,
	} {
		f.Add([]byte(seed))
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	f.Cleanup(L.Close)
	L.SetField(L.Get(lua.RegistryIndex), arrayMeta, L.NewTable())
	header := http.Header{"Content-Type": {"application/json"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		// decodeJSON accepts exactly the valid JSON, short of its limits.
		if _, err := decodeJSON(L, body); err == nil && !validJSON(body) {
			t.Fatalf("decodeJSON(%q) accepted invalid JSON", body)
		} else if err != nil && validJSON(body) && !errors.Is(err, errNumberRange) && !errors.Is(err, errJSONDepth) {
			t.Fatalf("decodeJSON(%q)=%v for valid JSON", body, err)
		}
		err := CheckBody(header, body)
		depth, valid := nesting(body)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest || !errors.Is(err, ErrBadBody) {
				t.Fatalf("CheckBody(%q)=%v, want a 400 ErrBadBody", body, err)
			}
			if valid && depth <= MaxJSONDepth && !strings.Contains(err.Error(), errNumberRange.Error()) {
				t.Fatalf("CheckBody(%q)=%v for valid JSON %d deep, want nil", body, err, depth)
			}
			return
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return // no body: req.body is nil
		}
		if !valid || depth > MaxJSONDepth {
			t.Fatalf("CheckBody(%q)=nil, want a 400 (valid=%v, depth %d)", body, valid, depth)
		}
		v, err := decodeJSON(L, body)
		if err != nil {
			t.Fatalf("decodeJSON(%q)=%v after CheckBody accepted it", body, err)
		}
		out, err := encodeJSON(L, nil, v)
		if err != nil {
			t.Fatalf("encodeJSON(decodeJSON(%q))=%v", body, err)
		}
		var want, got any
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("json.Unmarshal(%q)=%v after decodeJSON accepted it", body, err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("encodeJSON gave invalid JSON %q for %q: %v", out, body, err)
		}
		if !reflect.DeepEqual(dropNulls(want), got) {
			t.Fatalf("round trip of %q gave %s, want %v", body, out, dropNulls(want))
		}
		// fromLua converts without JSON; it must give what the JSON round trip gives.
		direct, err := fromLua(L, v)
		if err != nil {
			t.Fatalf("fromLua(decodeJSON(%q))=%v", body, err)
		}
		if !reflect.DeepEqual(direct, got) {
			t.Fatalf("fromLua of %q gave %v, want %v (as through JSON)", body, direct, got)
		}
	})
}

// validJSON is json.Valid, and RFC 8259's requirement that JSON text be
// UTF-8, which json.Valid does not check.
func validJSON(data []byte) bool { return json.Valid(data) && utf8.Valid(data) }

// nesting reports whether data is one valid JSON value and how deeply its
// arrays and objects nest, reading tokens without recursion.
func nesting(data []byte) (int, bool) {
	if !validJSON(data) {
		return 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest, true
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// dropNulls removes what Lua cannot hold: null members and trailing null elements.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if x != nil {
				out[k] = dropNulls(x)
			}
		}
		return out
	case []any:
		// A null inside an array keeps its place; trailing nulls are not
		// kept, as a Lua table has no length past its last value.
		end := len(v)
		for end > 0 && v[end-1] == nil {
			end--
		}
		out := []any{}
		for _, x := range v[:end] {
			out = append(out, dropNulls(x))
		}
		return out
	}
	return v
}
