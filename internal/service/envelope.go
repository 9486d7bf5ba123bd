package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"unicode/utf8"

	"github.com/minimi-go/minimi/internal/jsontext"
)

// request is the JSON envelope of a request: the data of a message sent to
// a route subject. Empty data is a GET with no query, headers or body.
type request struct {
	// Method is the HTTP method; "" means GET.
	Method string `json:"method,omitempty"`
	// Query is the raw query string, without "?".
	Query string `json:"query,omitempty"`
	// Headers are the request headers; each value a string or a list.
	Headers header `json:"headers,omitempty"`
	body
	// TimeoutMS bounds the request on the callee; the caller sets it from
	// its own deadline. Zero means only the callee's limits apply.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// reply is the JSON envelope of a reply.
type reply struct {
	Status  int    `json:"status"`
	Headers header `json:"headers,omitempty"`
	body
}

// body is the body of an envelope: Body holds JSON when the Content-Type
// says JSON (or, in a request, when there is none), else a string; binary
// content (not UTF-8) is BodyBase64 instead.
type body struct {
	Body       json.RawMessage `json:"body,omitempty"`
	BodyBase64 []byte          `json:"body_base64,omitempty"`
}

// header is an http.Header whose JSON values may also be single strings.
type header http.Header

func (h *header) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make(header, len(raw))
	for k, v := range raw {
		var one string
		if err := json.Unmarshal(v, &one); err == nil {
			out[http.CanonicalHeaderKey(k)] = append(out[http.CanonicalHeaderKey(k)], one)
			continue
		}
		var many []string
		if err := json.Unmarshal(v, &many); err != nil {
			return fmt.Errorf("header %q: a string or a list of strings", k)
		}
		out[http.CanonicalHeaderKey(k)] = append(out[http.CanonicalHeaderKey(k)], many...)
	}
	*h = out
	return nil
}

// setBody puts data in b by the envelope's rules for contentType: JSON
// content as JSON, UTF-8 text as a string, anything else (binary, or JSON
// content that is not valid JSON) as base64. A body without a Content-Type
// goes as JSON only when it is valid JSON.
func (b *body) setBody(contentType string, data []byte) {
	switch {
	case len(data) == 0:
	case (contentType == "" || jsontext.IsMediaType(contentType)) && json.Valid(data):
		b.Body = compact(data)
	case contentType != "" && !jsontext.IsMediaType(contentType) && utf8.Valid(data):
		b.Body, _ = json.Marshal(string(data))
	default:
		b.BodyBase64 = data
	}
}

// bytes returns the body b carries. A JSON body is taken as is when
// contentType says JSON (or is ""); otherwise it must be a string, whose
// text is the body.
func (b *body) bytes(contentType string) ([]byte, error) {
	if b.BodyBase64 != nil {
		return b.BodyBase64, nil
	}
	if len(b.Body) == 0 {
		return nil, nil
	}
	if contentType == "" || jsontext.IsMediaType(contentType) {
		return b.Body, nil
	}
	var s string
	if err := json.Unmarshal(b.Body, &s); err != nil {
		return nil, fmt.Errorf("%w: the body of a %s request must be a JSON string", ErrBadEnvelope, contentType)
	}
	return []byte(s), nil
}

// compact removes insignificant space from valid JSON.
func compact(data []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return data
	}
	return buf.Bytes()
}

// decodeRequest reads a request envelope; empty data is a GET.
func decodeRequest(data []byte) (*request, error) {
	req := &request{}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(req); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadEnvelope, envelopeError(err))
		}
		if _, err := dec.Token(); err != io.EOF { // a second envelope, or garbage, after the first
			return nil, fmt.Errorf("%w: data after the envelope at offset %d", ErrBadEnvelope, dec.InputOffset())
		}
	}
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	if req.TimeoutMS < 0 {
		return nil, fmt.Errorf("%w: timeout_ms %d is negative", ErrBadEnvelope, req.TimeoutMS)
	}
	return req, nil
}

// envelopeError words a decoding error of a request envelope for the
// sender, who wrote JSON, not Go: data that is not a JSON object gets the
// envelope's shape, a member of the wrong type its name.
func envelopeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("not JSON (%v); send an object such as "+
			`{"method": "POST", "query": "a=1", "headers": {"X-Client-Key": "…"}, "body": {…}}, or nothing for a GET`, err)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("a JSON %s, want an object such as "+
			`{"method": "POST", "query": "a=1", "headers": {"X-Client-Key": "…"}, "body": {…}}, or nothing for a GET`, typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: a JSON %s, want %s", typ.Field, typ.Value, jsonKind(typ.Type.Kind()))
	}
	return err
}

// jsonKind is the JSON type a Go value of kind k decodes from.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "true or false"
	}
	return k.String()
}

// decodeReply reads a reply envelope into a Reply.
func decodeReply(data []byte) (*Reply, error) {
	var rep reply
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEnvelope, err)
	}
	if rep.Status < 100 || rep.Status > 999 {
		return nil, fmt.Errorf("%w: status %d", ErrBadEnvelope, rep.Status)
	}
	h := http.Header(rep.Headers)
	if h == nil {
		h = http.Header{}
	}
	data, err := rep.bytes(h.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	return &Reply{Status: rep.Status, Header: h, Body: data}, nil
}
