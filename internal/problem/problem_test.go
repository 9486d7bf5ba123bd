package problem

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name          string
		d             *Details
		status        int
		title, detail string
	}{
		{"not found", New(404, "no endpoint at /x"), 404, "Not Found", "no endpoint at /x"},
		{"with fields", &Details{Type: "about:blank", Title: "Unprocessable Entity", Status: 422,
			Errors: []Field{{Pointer: "/title", Message: "missing"}}}, 422, "Unprocessable Entity", "Unprocessable Entity"},
		{"no detail", New(409, ""), 409, "Conflict", "Conflict"},
		{"4xx without a standard text", New(499, ""), 499, "Client Error", "Client Error"},
		{"5xx without a standard text", New(599, "upstream gone"), 599, "Server Error", "upstream gone"},
		{"no title", &Details{Type: "about:blank", Status: 499}, 499, "Client Error", "Client Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.RequestID = "r1"
			rec := httptest.NewRecorder()
			Write(rec, tc.d)
			if rec.Code != tc.status {
				t.Fatalf("status=%d, want %d", rec.Code, tc.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != ContentType {
				t.Fatalf("Content-Type=%q, want %q", ct, ContentType)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"type", "title", "status", "detail", "request_id"} {
				if _, ok := got[k]; !ok {
					t.Errorf("body %s lacks %q", rec.Body, k)
				}
			}
			if int(got["status"].(float64)) != tc.status {
				t.Errorf("body status=%v, want %d", got["status"], tc.status)
			}
			if got["title"] != tc.title {
				t.Errorf("body title=%v, want %q", got["title"], tc.title)
			}
			if got["detail"] != tc.detail {
				t.Errorf("body detail=%v, want %q", got["detail"], tc.detail)
			}
		})
	}
}

// TestExtensions: extension members follow the standard ones in the order
// of their names, and one named like a standard member does not replace it.
func TestExtensions(t *testing.T) {
	d := New(403, "Your current balance is 30, but that costs 50.")
	d.Type, d.Title, d.Instance = "https://example.com/probs/out-of-credit", "You do not have enough credit.", "/account/12345/msgs/abc"
	d.Extensions = map[string]json.RawMessage{
		"balance":  json.RawMessage(`30`),
		"accounts": json.RawMessage(`["/account/12345","/account/67890"]`),
		"status":   json.RawMessage(`200`),
		"errors":   json.RawMessage(`[{"pointer":"/x","message":"y"}]`),
		"Status":   json.RawMessage(`200`),
		"\xff":     json.RawMessage(`1`),
	}
	want := `{"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.","status":403,` +
		`"detail":"Your current balance is 30, but that costs 50.","instance":"/account/12345/msgs/abc",` +
		`"accounts":["/account/12345","/account/67890"],"balance":30,"errors":[{"pointer":"/x","message":"y"}]}`
	if got := string(d.JSON()); got != want {
		t.Errorf("JSON()=%s\nwant %s", got, want)
	}
	d.Errors = []Field{{Pointer: "/title", Message: "missing"}}
	if got := string(d.JSON()); !json.Valid([]byte(got)) || strings.Count(got, `"errors"`) != 1 || !strings.Contains(got, `"/title"`) {
		t.Errorf("JSON()=%s, want the record's errors only", got)
	}
}

// TestJSONKeepsHTMLCharacters: a problem is written as res:json writes a
// reply, with &, < and > as they are, so that a detail such as "pairs are
// separated by '&'" reads as written; Go's json.Marshal escaped them as
// \u0026, \u003c and \u003e, meant for JSON inside an HTML page.
func TestJSONKeepsHTMLCharacters(t *testing.T) {
	d := New(400, "a ';' in the query: pairs are separated by '&'")
	d.Instance = "/a<b>"
	d.Extensions = map[string]json.RawMessage{"x&y": json.RawMessage(`1`)}
	got := string(d.JSON())
	want := `{"type":"about:blank","title":"Bad Request","status":400,"detail":"a ';' in the query: pairs are separated by '&'","instance":"/a<b>","x&y":1}`
	if got != want {
		t.Errorf("JSON()=%s, want %s", got, want)
	}
}
