package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// logLine is one JSON line of the server log.
type logLine map[string]any

// serveLogged serves files over HTTP, with their stores under the temp
// dir, and the scripts' and the server's log lines going to the returned
// buffer, as minimi serve writes them.
func serveLogged(t *testing.T, files map[string]string) (*httptest.Server, *syncbuf.Buffer) {
	t.Helper()
	var logs syncbuf.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, nil))
	dir := writeTree(t, files)
	site, err := LoadSite(dir, config.DefaultConfig(), SiteOptions{Logger: lg, Open: openUnder(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)
	s, err := New(Options{Site: site, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, &logs
}

// openUnder is a SiteOptions.Open with the stores in dir/data, without
// fsync and without an event log, closed when the test ends.
func openUnder(t *testing.T, dir string) func([]stash.StoreSpec, []stash.CollectionSpec) (Backend, error) {
	return func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (Backend, error) {
		set, err := stash.Open(stash.Options{DataDir: filepath.Join(dir, "data"), Stores: stores, Collections: colls, NoSync: true})
		if err == nil {
			t.Cleanup(func() { set.Close() })
		}
		return Backend{Stash: set}, err
	}
}

// logLines decodes the log lines whose msg is msg.
func logLines(t *testing.T, logs *syncbuf.Buffer, msg string) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m logLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func get(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLogSourceLikeRequestErrors: log.info and a failed request write the
// script's position the same way, file:line.
func TestLogSourceLikeRequestErrors(t *testing.T) {
	ts, logs := serveLogged(t, map[string]string{
		"endpoints/globals/globals.execute.lua": "return { GET = function(req, res)\n  local x = 1\n  log.info(\"hello\")\n  error(\"boom\")\nend }",
	})
	if got := get(t, "GET", ts.URL+"/globals"); got != 500 {
		t.Fatalf("GET /globals=%d, want 500", got)
	}
	for _, tc := range []struct{ msg, source string }{
		{"hello", "endpoints/globals/globals.execute.lua:3"},
		{"request failed", "endpoints/globals/globals.execute.lua:4"},
	} {
		lines := logLines(t, logs, tc.msg)
		if len(lines) != 1 || lines[0]["source"] != tc.source {
			t.Errorf("log lines %q=%v, want one with source %q", tc.msg, lines, tc.source)
		}
	}
}

// catcher is a handler that runs call, logs what pcall caught as "caught"
// and raises it again.
func catcher(call string) string {
	return `function(req, res)
  local ok, e = pcall(function() ` + call + ` end)
  log.info("caught", { e = tostring(e) })
  error(e)
end`
}

// TestBindingErrorsInTheLog: the log of a failed request carries the
// message the script saw, which names the call and the rule once.
func TestBindingErrorsInTheLog(t *testing.T) {
	ts, logs := serveLogged(t, map[string]string{
		"endpoints/early/early.schema.json": `{"schema": {"type": "object"}}`,
		"endpoints/early/early.load.lua":    "return { ANY = " + catcher(`req.stash:create({ x = 1 })`) + " }",
		"endpoints/early/early.execute.lua": `return { POST = function(req, res) res:json({}) end }`,
		"endpoints/emit/emit.access.lua":    "return { ANY = " + catcher(`emit("seen", {})`) + " }",
		"endpoints/emit/emit.execute.lua":   `return { ANY = function(req, res) res:json({}) end }`,
		"endpoints/q/q.schema.json":         `{"schema": {"type": "object"}}`,
		"endpoints/q/q.execute.lua":         "return { GET = " + catcher(`req.stash:create({ x = 1 })`) + " }",
		"endpoints/q/e/e.execute.lua":       "return { GET = " + catcher(`emit("seen", {})`) + " }",
		"endpoints/users/users.schema.json": `{"schema": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}, "unique": ["email"]}`,
		"endpoints/users/users.execute.lua": "return { PUT = function(req) req.stash:create({ id = 'u1', email = 'a' }) end, POST = " +
			catcher(`req.stash:create({ id = "u2", email = "a" })`) + ", PATCH = " + catcher(`req.stash:create({ id = "u3" })`) + " }",
	})
	tests := []struct {
		method, path string
		status       int
		msg          string
	}{
		{"POST", "/early", 500, "stash:create in the load phase: allowed only in the last phase, execute"},
		{"POST", "/emit", 500, "emit in the access phase: allowed only in the last phase, execute"},
		{"GET", "/q", 500, "stash:create in a GET request: not allowed in a query"},
		{"GET", "/q/e", 500, "emit in a GET request: not allowed in a query"},
	}
	for i, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			if got := get(t, tc.method, ts.URL+tc.path); got != tc.status {
				t.Fatalf("%s %s=%d, want %d", tc.method, tc.path, got, tc.status)
			}
			caught, failed := logLines(t, logs, "caught"), logLines(t, logs, "request failed")
			if len(caught) != i+1 || len(failed) != i+1 {
				t.Fatalf("%d caught and %d failed lines, want %d each:\n%s", len(caught), len(failed), i+1, logs)
			}
			if got, want := caught[i]["e"], "500 Internal Server Error: "+tc.msg; got != want {
				t.Errorf("the script saw %q, want %q", got, want)
			}
			if got := failed[i]["error"]; got != tc.msg {
				t.Errorf("the log says %q, want %q", got, tc.msg)
			}
		})
	}
	// A stash error caught with pcall reads as its status and message, the
	// collection named once.
	if got := get(t, "PUT", ts.URL+"/users"); got != 204 { // u1 holds the email
		t.Fatalf("PUT /users=%d, want 204", got)
	}
	for _, tc := range []struct {
		name, method string
		status       int
		want         string
	}{
		{"conflict", "POST", 409, "409 Conflict: conflict on /users field email: another record holds the same value (u1 holds it; u2 was written)"},
		{"schema", "PATCH", 422, "422 Unprocessable Entity: the record does not match the schema of /users: /email is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(t, tc.method, ts.URL+"/users"); got != tc.status {
				t.Fatalf("%s /users=%d, want %d", tc.method, got, tc.status)
			}
			caught := logLines(t, logs, "caught")
			if got := caught[len(caught)-1]["e"]; got != tc.want {
				t.Errorf("the script saw %q, want %q", got, tc.want)
			}
		})
	}
}

// TestErrorWithAnyValue: a handler that raises a number, nil, true or no value
// answers a 500 problem and logs the failure with its source, as for a
// string.
func TestErrorWithAnyValue(t *testing.T) {
	ts, logs := serveLogged(t, map[string]string{
		"endpoints/n/n.execute.lua":     "return { GET = function(req, res)\n  error(42)\nend }",
		"endpoints/z/z.execute.lua":     "return { GET = function(req, res)\n  error()\nend }",
		"endpoints/nil/nil.execute.lua": "return { GET = function(req, res)\n  error(nil)\nend }",
		"endpoints/b/b.execute.lua":     "return { GET = function(req, res)\n  error(true)\nend }",
	})
	for _, path := range []string{"/n", "/z", "/nil", "/b"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		derr := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" || derr != nil || body["status"] != 500.0 {
			t.Errorf("GET %s=%d %q %v (%v), want a 500 problem", path, resp.StatusCode, resp.Header.Get("Content-Type"), body, derr)
		}
	}
	lines := logLines(t, logs, "request failed")
	if len(lines) != 4 {
		t.Fatalf("request failed log lines=%v, want 4", lines)
	}
	for i, name := range []string{"n", "z", "nil", "b"} {
		if want := "endpoints/" + name + "/" + name + ".execute.lua:2"; lines[i]["source"] != want || lines[i]["error"] == "" {
			t.Errorf("log line %v, want source %q and an error", lines[i], want)
		}
	}
}

// TestUniqueConflictDetail: the 409 of a unique field tells the client the
// collection and the field, not the id of the record holding the value nor
// the id generated for the refused one. (A script that catches the error
// reads both: TestBindingErrorsInTheLog.)
func TestUniqueConflictDetail(t *testing.T) {
	ts, _ := serveLogged(t, map[string]string{
		"endpoints/users/users.schema.json": `{"schema": {"type": "object", "properties": {"email": {"type": "string"}}}, "unique": ["email"]}`,
		"endpoints/users/users.execute.lua": `return { POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end }`,
	})
	post := func() (int, map[string]any) {
		resp, err := http.Post(ts.URL+"/users", "application/json", strings.NewReader(`{"email": "a@example.com"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	status, first := post()
	if status != 201 {
		t.Fatalf("first POST=%d %v, want 201", status, first)
	}
	holder := first["id"].(string)
	status, body := post()
	if want := "conflict on /users field email: another record holds the same value"; status != 409 || body["detail"] != want {
		t.Errorf("second POST=%d %v, want 409 with detail %q", status, body, want)
	}
	if strings.Contains(fmt.Sprint(body), holder) {
		t.Errorf("the 409 names %s, the record holding the value", holder)
	}
}
