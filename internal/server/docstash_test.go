package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestDocRoutableIDs runs the example of docs/stash.md on the ids a URL can
// carry: a record under "docs/a.txt" is served by the catch-all, and
// create, and put through stash.at, answer an id that no URL can carry as
// they answer an id that is too long, a 422 problem at /id.
func TestDocRoutableIDs(t *testing.T) {
	files := docLuaFiles(t, "stash.md", "-- endpoints/files/files.execute.lua")
	files["endpoints/files/files.schema.json"] = `{"schema": {"type": "object"}}`
	files["endpoints/put/put.execute.lua"] = `return { PUT = function(req, res)
			res:json(stash.at("/files"):put(req.query.id, req.body))
		end }`
	ts, _ := serveLogged(t, files)

	if status, body := request(t, "POST", ts.URL+"/files", "", `{"id":"docs/a.txt"}`); status != 201 || !strings.Contains(body, `"id":"docs/a.txt"`) {
		t.Fatalf("POST /files docs/a.txt=%d %s, want 201", status, body)
	}
	for _, path := range []string{"/files/docs/a.txt", "/files/docs%2Fa.txt", "/files//docs/./a.txt"} {
		if status, body := request(t, "GET", ts.URL+path, "", ""); status != 200 || !strings.Contains(body, `"id":"docs/a.txt"`) {
			t.Errorf("GET %s=%d %s, want 200 and the record", path, status, body)
		}
	}

	type fieldError struct{ Pointer, Message string }
	type problem struct {
		Status int
		Title  string
		Detail string
		Errors []fieldError
	}
	want := func(msg string) problem {
		return problem{422, "Unprocessable Entity", "the record does not match the schema of /files", []fieldError{{"/id", msg}}}
	}
	tests := []struct {
		id   string
		want problem
	}{
		{strings.Repeat("x", 300), want("must be at most 256 bytes")},
		{"..", want(`must not be "..": no URL can carry it`)},
		{".", want(`must not be ".": no URL can carry it`)},
		{"docs/../a.txt", want(`must not hold the segment "..": no URL can carry it`)},
		{"docs/./a.txt", want(`must not hold the segment ".": no URL can carry it`)},
		{"docs//a.txt", want("must not start or end with / or hold //: no URL can carry it")},
		{"/docs", want("must not start or end with / or hold //: no URL can carry it")},
		{"docs/", want("must not start or end with / or hold //: no URL can carry it")},
	}
	for _, tc := range tests {
		for _, call := range []struct{ method, url, body string }{
			{"POST", ts.URL + "/files", `{"id":"` + tc.id + `"}`},
			{"PUT", ts.URL + "/put?id=" + url.QueryEscape(tc.id), `{}`},
		} {
			req, err := http.NewRequest(call.method, call.url, strings.NewReader(call.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got problem
			derr := json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 422 || ct != "application/problem+json" || derr != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s id %.20q=%d %s %+v (%v), want 422 application/problem+json %+v", call.method, tc.id, resp.StatusCode, ct, got, derr, tc.want)
			}
		}
	}
}
