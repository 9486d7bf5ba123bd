package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBodyRules(t *testing.T) {
	tests := []struct {
		name, contentType string
		data              []byte
		wantBody          string // the JSON of the "body" field, "" when absent
		wantBase64        bool
	}{
		{"empty", "application/json", nil, "", false},
		{"json", "application/json", []byte(`{ "a": [1, 2] }`), `{"a":[1,2]}`, false},
		{"problem json", "application/problem+json", []byte(`{"status":404}`), `{"status":404}`, false},
		{"no type, json", "", []byte(`[1]`), `[1]`, false},
		{"no type, text", "", []byte(`hello`), "", true},
		{"text", "text/plain; charset=utf-8", []byte("hi \"there\"\n"), `"hi \"there\"\n"`, false},
		{"json type, not json", "application/json", []byte(`{"a":`), "", true},
		{"binary", "application/octet-stream", []byte{0xff, 0x00, 0xfe}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b body
			b.setBody(tc.contentType, tc.data)
			if string(b.Body) != tc.wantBody || (b.BodyBase64 != nil) != tc.wantBase64 {
				t.Fatalf("setBody()=body %s base64 %v, want body %s base64 %v", b.Body, b.BodyBase64 != nil, tc.wantBody, tc.wantBase64)
			}
			enc, err := json.Marshal(&b)
			if err != nil {
				t.Fatal(err)
			}
			var back body
			if err := json.Unmarshal(enc, &back); err != nil {
				t.Fatal(err)
			}
			got, err := back.bytes(tc.contentType)
			if err != nil {
				t.Fatalf("bytes()=%v", err)
			}
			want := tc.data
			if tc.wantBody != "" && tc.wantBody[0] != '"' {
				want = []byte(tc.wantBody) // JSON comes back compacted
			}
			if !bytes.Equal(got, want) {
				t.Errorf("bytes()=%q, want %q", got, want)
			}
		})
	}
}

func TestBodyNotAStringForText(t *testing.T) {
	b := body{Body: json.RawMessage(`{"a":1}`)}
	if _, err := b.bytes("text/plain"); !errors.Is(err, ErrBadEnvelope) {
		t.Fatalf("bytes(text/plain) of an object=%v, want ErrBadEnvelope", err)
	}
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name, data string
		check      func(t *testing.T, r *request)
		err        error
	}{
		{"empty is GET", "", func(t *testing.T, r *request) {
			if r.Method != "GET" || r.Query != "" || r.Headers != nil {
				t.Errorf("decodeRequest(\"\")=%+v, want a bare GET", r)
			}
		}, nil},
		{"full", `{"method":"POST","query":"a=1","headers":{"x-one":"1","X-Many":["a","b"]},"body":{"k":true},"timeout_ms":50}`,
			func(t *testing.T, r *request) {
				h := http.Header(r.Headers)
				if r.Method != "POST" || r.Query != "a=1" || h.Get("X-One") != "1" || len(h["X-Many"]) != 2 ||
					string(r.Body) != `{"k":true}` || r.TimeoutMS != 50 {
					t.Errorf("decodeRequest()=%+v", r)
				}
			}, nil},
		{"base64", `{"method":"PUT","body_base64":"/wD+"}`, func(t *testing.T, r *request) {
			if !bytes.Equal(r.BodyBase64, []byte{0xff, 0x00, 0xfe}) {
				t.Errorf("BodyBase64=%v", r.BodyBase64)
			}
		}, nil},
		{"not json", `{"method":`, nil, ErrBadEnvelope},
		{"unknown field", `{"methd":"GET"}`, nil, ErrBadEnvelope},
		{"bad header", `{"headers":{"a":1}}`, nil, ErrBadEnvelope},
		{"negative timeout", `{"timeout_ms":-1}`, nil, ErrBadEnvelope},
		{"trailing garbage", `{"method":"GET"} x`, nil, ErrBadEnvelope},
		{"two envelopes", `{"method":"POST"}{"method":"DELETE"}`, nil, ErrBadEnvelope},
		{"trailing space", "{\"method\":\"POST\"} \n", func(t *testing.T, r *request) {
			if r.Method != "POST" {
				t.Errorf("Method=%q, want POST", r.Method)
			}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeRequest([]byte(tc.data))
			if !errors.Is(err, tc.err) {
				t.Fatalf("decodeRequest(%s)=%v, want %v", tc.data, err, tc.err)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestDecodeReply(t *testing.T) {
	tests := []struct {
		name, data string
		status     int
		body       string
		err        error
	}{
		{"json", `{"status":201,"headers":{"Content-Type":["application/json"]},"body":{"id":"1"}}`, 201, `{"id":"1"}`, nil},
		{"text", `{"status":200,"headers":{"Content-Type":"text/plain"},"body":"hi"}`, 200, "hi", nil},
		{"no body", `{"status":204}`, 204, "", nil},
		{"no status", `{"body":1}`, 0, "", ErrBadEnvelope},
		{"not json", `hello`, 0, "", ErrBadEnvelope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := decodeReply([]byte(tc.data))
			if !errors.Is(err, tc.err) {
				t.Fatalf("decodeReply()=%v, want %v", err, tc.err)
			}
			if err == nil && (rep.Status != tc.status || string(rep.Body) != tc.body) {
				t.Errorf("decodeReply()=%d %q, want %d %q", rep.Status, rep.Body, tc.status, tc.body)
			}
		})
	}
}

func TestEncodeCall(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	data, err := encodeCall(ctx, Call{Method: "post", Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"a": 1}`)}, "x=1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeRequest(data)
	if err != nil {
		t.Fatalf("decodeRequest(encodeCall())=%v", err)
	}
	if r.Method != "POST" || r.Query != "x=1" || string(r.Body) != `{"a":1}` || r.TimeoutMS <= 0 || r.TimeoutMS > 3600_000 {
		t.Errorf("encodeCall() decoded=%+v", r)
	}
}

func TestRecorderReply(t *testing.T) {
	w := newRecorder()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(201)
	w.WriteHeader(500) // ignored, as by net/http
	_, _ = w.Write([]byte(`{"ok":true}`))
	rep := w.reply()
	if rep.Status != 201 || string(rep.Body) != `{"ok":true}` {
		t.Errorf("reply()=%d %s, want 201 {\"ok\":true}", rep.Status, rep.Body)
	}
	if got := newRecorder().reply().Status; got != 200 {
		t.Errorf("reply() of an untouched recorder status=%d, want 200", got)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{"", "{}", `{"method":"POST","body":{"a":1}}`, `{"headers":{"a":["b"]},"body_base64":"AA=="}`,
		`{"headers":{"content-type":"text/plain"},"body":"x"}`, `{"timeout_ms":1e3}`, `[`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRequest(data)
		if err != nil {
			if !errors.Is(err, ErrBadEnvelope) {
				t.Fatalf("decodeRequest()=%v, want ErrBadEnvelope", err)
			}
			return
		}
		if r.Method == "" || r.TimeoutMS < 0 {
			t.Fatalf("decodeRequest()=%+v: no method or a negative timeout", r)
		}
		_, _ = r.bytes(http.Header(r.Headers).Get("Content-Type"))
	})
}

// TestEnvelopeErrors: a request envelope that does not decode is told what
// was wrong in JSON's terms, not Go's.
func TestEnvelopeErrors(t *testing.T) {
	for data, want := range map[string]string{
		`{"method":`:             `bad envelope: not JSON (unexpected EOF); send an object such as {"method": "POST"`,
		`{"method" "GET"}`:       `bad envelope: not JSON (invalid character '"' after object key); send an object`,
		`"GET /notes"`:           `bad envelope: a JSON string, want an object such as {"method": "POST"`,
		`[1]`:                    `bad envelope: a JSON array, want an object`,
		`{"method": 1}`:          `bad envelope: method: a JSON number, want a string`,
		`{"timeout_ms": "soon"}`: `bad envelope: timeout_ms: a JSON string, want a number`,
		`{"metod": "GET"}`:       `bad envelope: json: unknown field "metod"`,
	} {
		_, err := decodeRequest([]byte(data))
		if !errors.Is(err, ErrBadEnvelope) || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeRequest(%s)=%v, want ErrBadEnvelope saying %q", data, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "service.request") {
			t.Errorf("decodeRequest(%s)=%v, names a Go type", data, err)
		}
	}
}
