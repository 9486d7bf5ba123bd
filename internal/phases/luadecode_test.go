package phases

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// TestDecoderReleaseKeepsNoValues: a decoder goes back to the pool without
// the values of its decoding, whether it succeeded or failed halfway, so
// that no Lua value outlives its request in the pool.
func TestDecoderReleaseKeepsNoValues(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for _, doc := range []string{
		`{"a":[1,2,{"b":"x"}],"c":"y","d":{"e":[true,null]}}`,
		`{"a":[1,2,{"b":"x"},`, // fails with values on the stacks
		`{"k":[1,2,3,`,         // fails before any container closed
		`[` + strings.Repeat(`"v",`, 100) + `"w"]`,
	} {
		d := &jsonDecoder{L: L, data: []byte(doc), arrayMT: L.GetField(L.Get(lua.RegistryIndex), arrayMeta)}
		_, err := d.value(0)
		if strings.HasSuffix(doc, ",") != (err != nil) {
			t.Fatalf("%s: err=%v", doc, err)
		}
		d.release()
		for i, k := range d.keys[:cap(d.keys)] {
			if k != "" {
				t.Errorf("%s: key %d %q kept", doc, i, k)
			}
		}
		for i, v := range d.vals[:cap(d.vals)] {
			if v != nil {
				t.Errorf("%s: value %d %v kept", doc, i, v)
			}
		}
		if d.L != nil || d.data != nil || d.i != 0 {
			t.Errorf("%s: the decoding's state kept", doc)
		}
	}
}

// TestBodyUTF8: RFC 8259 requires JSON text to be UTF-8, so a JSON body
// with other bytes is malformed (400) whether CheckBody or req.body reads
// it, while an escaped lone surrogate is valid JSON and becomes U+FFFD.
func TestBodyUTF8(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": `return { POST = function(req, res)
		res:json({ title = req.body.title, len = #req.body.title })
	end }`}, Options{})
	tests := []struct {
		name, body string
		status     int
		want       string // the reply body, for a 200
	}{
		{"ascii", `{"title":"a"}`, 200, `{"len":1,"title":"a"}`},
		{"utf-8", `{"title":"café 😀"}`, 200, `{"len":10,"title":"café 😀"}`},
		{"escaped pair", `{"title":"\ud83d\ude00"}`, 200, `{"len":4,"title":"😀"}`},
		{"lone surrogate", `{"title":"\ud800"}`, 200, `{"len":3,"title":"` + "\ufffd" + `"}`},
		{"invalid bytes", "{\"title\":\"\xff\xfe\"}", 400, ""},
		{"truncated sequence", "{\"title\":\"caf\xc3\"}", 400, ""},
		{"encoded surrogate", "{\"title\":\"\xed\xa0\x80\"}", 400, ""},
		{"invalid after an escape", "{\"title\":\"\\n\xff\"}", 400, ""},
		{"invalid in a key", "{\"\xff\":1,\"title\":\"a\"}", 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckBody(http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
			if tc.status == http.StatusOK && err != nil || tc.status != http.StatusOK && !isBadUTF8(err) {
				t.Errorf("CheckBody=%v, want %d", err, tc.status)
			}
			resp, err := run(t, e, "POST", "/t", tc.body)
			if tc.status != http.StatusOK {
				if !isBadUTF8(err) {
					t.Errorf("req.body err=%v, want a 400 invalid UTF-8", err)
				}
				return
			}
			if err != nil || string(resp.Body) != tc.want {
				t.Errorf("reply %q, %v, want %s", respBody(resp), err, tc.want)
			}
		})
	}
}

// TestBodyNumberRange: a JSON body with a number no float64 holds is a
// 400 before any phase runs, as it would be when a script read req.body, so
// that no handler runs first and no pcall can turn it into a 200.
func TestBodyNumberRange(t *testing.T) {
	tests := []struct {
		body string
		bad  bool
	}{
		{`{"n": 1e400}`, true},
		{`[1, [-1e999]]`, true},
		{`{"n": 179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368}`, false}, // the largest float64
		{`{"n": 18e307}`, true},
		{`{"n": 1e308, "m": -1e-400, "s": "1e400", "k": 12345678901234567890123}`, false},
		{`{"1e400": "a key, not a number"}`, false},
	}
	for _, tc := range tests {
		err := CheckBody(http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
		var pe *Error
		switch {
		case tc.bad && (!errors.As(err, &pe) || pe.Status != http.StatusBadRequest || !strings.Contains(err.Error(), "a number is out of range")):
			t.Errorf("CheckBody(%s)=%v, want a 400 naming the number", tc.body, err)
		case !tc.bad && err != nil:
			t.Errorf("CheckBody(%s)=%v, want nil", tc.body, err)
		}
	}
}

// TestBodySyntaxDetail: a malformed JSON body's 400 says where it goes
// wrong and why, as one that is not UTF-8 does.
func TestBodySyntaxDetail(t *testing.T) {
	tests := []struct{ body, detail string }{
		{`{"title":`, "body is not valid json: unexpected end of JSON input at offset 9"},
		{`{"title": "a",}`, "body is not valid json: invalid character '}' looking for beginning of object key string at offset 15"},
		{`{"n": 01}`, "body is not valid json: invalid character '1' after object key:value pair at offset 8"},
		{"   ", "body is not valid json: unexpected end of JSON input at offset 3"},
		{`{"n": 1e400}`, "body is not valid json: a number is out of range: 1e400"},
	}
	for _, tc := range tests {
		err := CheckBody(http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
		var pe *Error
		if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest || pe.Detail != tc.detail {
			t.Errorf("CheckBody(%s)=%v, want a 400 with the detail %q", tc.body, err, tc.detail)
		}
	}
}

// TestJSONDecodeUTF8: json.decode refuses text that is not UTF-8.
func TestJSONDecodeUTF8(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(`
		local ok, err = pcall(json.decode, '"\255"')
		res:json({ ok = ok, err = tostring(err) })`)}, Options{})
	resp, err := run(t, e, "GET", "/t", "")
	if err != nil {
		t.Fatal(err)
	}
	if m := decode(t, resp); m["ok"] != false || !strings.Contains(m["err"].(string), "invalid UTF-8 at offset 1") {
		t.Errorf("json.decode of \\255 gave %v, want an invalid UTF-8 error", m)
	}
}

func isBadUTF8(err error) bool {
	return isStatus(err, http.StatusBadRequest) && errors.Is(err, ErrBadBody) && strings.Contains(err.Error(), "invalid UTF-8 at offset")
}

func respBody(r *Response) string {
	if r == nil {
		return ""
	}
	return string(r.Body)
}
