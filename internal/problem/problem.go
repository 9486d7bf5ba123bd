// Package problem writes RFC 9457 problem details: the body of every error
// reply MiniMi sends.
package problem

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ContentType is the media type of a problem body.
const ContentType = "application/problem+json"

// Details is an RFC 9457 problem.
type Details struct {
	Type string `json:"type"`
	// Title says what kind of problem it is; JSON writes Title(Status) when
	// it is empty.
	Title  string `json:"title"`
	Status int    `json:"status"`
	// Detail explains this occurrence; JSON writes the title when it is empty,
	// so that every problem has one.
	Detail    string `json:"detail"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Errors lists the failing fields of a rejected record (422).
	Errors []Field `json:"errors,omitempty"`
	// Extensions are more members (RFC 9457 §3.2), written after the others
	// in the order of their names; one that has the name of a member above
	// is left out (errors only when Errors has fields).
	Extensions map[string]json.RawMessage `json:"-"`
}

// Field is one failing field: a JSON pointer into the record and a message.
type Field struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// New returns a problem with the title of status.
func New(status int, detail string) *Details {
	return &Details{Type: "about:blank", Title: Title(status), Status: status, Detail: detail}
}

// IsMember reports whether name is, in any case, the name of a member that
// Details writes itself: a decoder that matches names in any case, as Go's
// encoding/json does, would read an extension of that name in its place.
func IsMember(name string) bool {
	for _, m := range [...]string{"type", "title", "status", "detail", "instance", "request_id", "errors"} {
		if strings.EqualFold(name, m) {
			return true
		}
	}
	return false
}

// Title is the standard text of status, or, for a status that has none
// (499, 599), the name of its class: "Client Error" or "Server Error".
func Title(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	switch {
	case status >= 400 && status <= 499:
		return "Client Error"
	case status >= 500 && status <= 599:
		return "Server Error"
	}
	return "Error"
}

// JSON encodes d. A problem without a title gets Title(d.Status), and one
// without a detail gets its title as the detail.
func (d *Details) JSON() []byte {
	out := *d
	if out.Title == "" {
		out.Title = Title(out.Status)
	}
	if out.Detail == "" {
		out.Detail = out.Title
	}
	b, err := marshal(&out)
	if err != nil {
		return []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"Internal Server Error"}`)
	}
	if len(out.Extensions) == 0 {
		return b
	}
	b = b[:len(b)-1] // the closing brace
	for _, k := range slices.Sorted(maps.Keys(out.Extensions)) {
		if IsMember(k) && (!strings.EqualFold(k, "errors") || len(out.Errors) > 0) || !utf8.ValidString(k) {
			continue
		}
		name, _ := marshal(k)
		b = append(append(append(append(b, ','), name...), ':'), out.Extensions[k]...)
	}
	return append(b, '}')
}

// marshal is json.Marshal without its HTML escaping, so that &, < and >
// read as written, as in the replies res:json writes.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Write sends d as the reply, with its status.
func Write(w http.ResponseWriter, d *Details) {
	body := d.JSON()
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	_, _ = w.Write(body)
}
