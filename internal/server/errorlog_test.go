package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// logLine is one JSON line of the server log.
type logLine map[string]any

// serveLogged serves files over HTTP with scripts' and server's log lines
// going to the returned buffer, as minimi serve writes them.
func serveLogged(t *testing.T, files map[string]string) (*httptest.Server, *syncbuf.Buffer) {
	t.Helper()
	var logs syncbuf.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, nil))
	site, err := LoadSite(writeTree(t, files), config.DefaultConfig(), SiteOptions{Logger: lg})
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
