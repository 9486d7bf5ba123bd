package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/requestid"
	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// threePhase is a service whose /bench URL runs one handler in each phase.
var threePhase = map[string]string{
	"endpoints/endpoint.load.lua":           `return { routes = function() return { ["/*"] = function(req) req.state.n = 1 end } end }`,
	"endpoints/bench/bench.access.lua":      `return { GET = function(req) req.state.n = req.state.n + 1 end }`,
	"endpoints/bench/bench.execute.lua":     `return { GET = function(req, res) res:json({ ok = true, n = req.state.n }) end }`,
	"endpoints/items/[id]/[id].execute.lua": `return { GET = function(req, res) res:json({ id = req.params.id }) end }`,
	"endpoints/fail/fail.execute.lua":       "return { GET = function()\n error(\"hidden detail\")\n end }",
}

// writeTree writes files under a temp dir and returns it.
func writeTree(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func newServer(tb testing.TB, files map[string]string, cfg *config.Config) *Server {
	tb.Helper()
	if cfg == nil {
		cfg = config.DefaultConfig()
	}
	site, err := LoadSite(writeTree(tb, files), cfg, SiteOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	// Request lines are written as minimi serve writes them, so that the
	// benchmarks pay for them too.
	return serveSite(tb, site, io.Discard)
}

// serveSite serves site, which closes when the test ends; the request log
// goes to logs.
func serveSite(tb testing.TB, site *Site, logs io.Writer) *Server {
	tb.Helper()
	tb.Cleanup(site.Close)
	s, err := New(Options{Site: site, AccessLog: logs})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestRequestLog checks the request log line and the request id: generated
// when the client sends none or a bad one, echoed, seen by scripts and
// logged.
func TestRequestLog(t *testing.T) {
	site, err := LoadSite(writeTree(t, map[string]string{
		"endpoints/who/[x]/[x].execute.lua": `return { GET = function(req, res) res:json({ id = req.id, h = req.headers["x-request-id"] }) end }`,
	}), config.DefaultConfig(), SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	s := serveSite(t, site, &logs)
	idPrefix, _, _ := strings.Cut(requestid.New(), "-") // this process's
	for _, sent := range []string{"", "client-id-7", "bad id", "\xff"} {
		req := httptest.NewRequest("GET", "/who/a%22b%2Fc", nil)
		if sent != "" {
			req.Header.Set("X-Request-Id", sent)
		}
		req.RemoteAddr = "192.0.2.1:4321"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		id := rec.Header().Get("X-Request-Id")
		if sent == "client-id-7" && id != sent || sent != "client-id-7" && !strings.HasPrefix(id, idPrefix+"-") {
			t.Errorf("sent %q: X-Request-Id %q", sent, id)
		}
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["id"] != id || body["h"] != id {
			t.Errorf("sent %q: script saw %s (%v), want id and header %q", sent, rec.Body, err, id)
		}
		var got map[string]any
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
			t.Fatalf("log line %q: %v", lines[len(lines)-1], err)
		}
		if _, err := time.Parse(time.RFC3339, got["time"].(string)); err != nil {
			t.Errorf("time %q: %v", got["time"], err)
		}
		want := map[string]any{"level": "INFO", "msg": "request", "component": "http", "request_id": id, "method": "GET",
			"path": "/who/a%22b%2Fc", "route": "/who/[x]", "status": 200.0, "bytes": float64(rec.Body.Len()), "remote": "192.0.2.1:4321"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("log %s=%v, want %v (line %s)", k, got[k], v, lines[len(lines)-1])
			}
		}
		if d, ok := got["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("duration_ms=%v", got["duration_ms"])
		}
	}
}

// TestRequestIDFirstOfMany: of several X-Request-Id headers, the first
// counts, as Header.Get reads it.
func TestRequestIDFirstOfMany(t *testing.T) {
	s := newServer(t, threePhase, nil)
	req := httptest.NewRequest("GET", "/bench", nil)
	req.Header["X-Request-Id"] = []string{"first-id", "second-id"}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if got := rec.Header().Values("X-Request-Id"); len(got) != 1 || got[0] != "first-id" {
		t.Errorf("X-Request-Id=%q, want [first-id]", got)
	}
}

func TestHandler(t *testing.T) {
	ts := httptest.NewServer(newServer(t, threePhase, nil))
	defer ts.Close()
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/bench", 200, `{"n":2,"ok":true}`},
		{"/items/x1", 200, `{"id":"x1"}`},
		{"/_minimi/health", 200, `{"status":"ok"}`},
		{"/nope", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(ts.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || (tc.body != "" && string(b) != tc.body) {
				t.Errorf("GET %s=%d %s, want %d %s", tc.path, resp.StatusCode, b, tc.status, tc.body)
			}
			if resp.ContentLength != int64(len(b)) { // net/http sets it for small replies
				t.Errorf("GET %s: Content-Length %d for %d bytes", tc.path, resp.ContentLength, len(b))
			}
		})
	}
}

func TestDevShowsErrors(t *testing.T) {
	for _, dev := range []bool{false, true} {
		cfg := config.DefaultConfig()
		cfg.Dev = dev
		s := newServer(t, threePhase, cfg)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/fail", nil))
		var p map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		shown := strings.Contains(p["detail"].(string), "hidden detail")
		if rec.Code != 500 || shown != dev {
			t.Errorf("dev=%v: status=%d detail=%q", dev, rec.Code, p["detail"])
		}
	}
}

func TestRoutesBuiltin(t *testing.T) {
	s := newServer(t, threePhase, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/_minimi/routes", nil))
	var routes []Route
	if err := json.Unmarshal(rec.Body.Bytes(), &routes); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range routes {
		if r.URL == "/bench" {
			found = len(r.Phases) == 2 && strings.Join(r.Methods, ",") == "GET,HEAD,OPTIONS"
		}
	}
	if !found {
		t.Errorf("routes lack /bench with 2 phases and GET,HEAD,OPTIONS: %s", rec.Body)
	}
}

// BenchmarkThreePhaseGET is a trivial request running one Lua handler in
// each of the three phases, through the whole HTTP handler.
func BenchmarkThreePhaseGET(b *testing.B) {
	s := newServer(b, threePhase, nil)
	req := httptest.NewRequest("GET", "/bench", nil)
	benchGET(b, s, req)
}

// benchGET serves req in parallel b.N times, wanting 200 every time. Each
// request comes without an id, as from most clients, so the server makes one.
func benchGET(b *testing.B, s *Server, req *http.Request) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := req.Clone(req.Context()) // the server sets X-Request-Id on its request
		for pb.Next() {
			delete(req.Header, "X-Request-Id")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkChiJSON is the baseline: a plain chi handler writing JSON.
func BenchmarkChiJSON(b *testing.B) {
	mux := chi.NewRouter()
	mux.Get("/bench", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "n": 2})
	})
	req := httptest.NewRequest("GET", "/bench", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
		}
	})
}

// notesSite is a service with a notes collection, opened on real bbolt files.
var notesSite = map[string]string{
	"endpoints/notes/notes.schema.json":     `{"schema": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}}`,
	"endpoints/notes/notes.execute.lua":     `return { POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end }`,
	"endpoints/notes/[id]/[id].execute.lua": `return { GET = function(req, res) local n = req.stash:get(req.params.id); if not n then return res:error(404, "none") end res:json(n) end }`,
}

// newStashServer serves files with their stores opened under a temp dir.
// Durable commits through an event log with real fsyncs, as minimi serve
// does; otherwise writes commit directly and without fsync.
func newStashServer(tb testing.TB, files map[string]string, durable bool) *Server {
	tb.Helper()
	dir := writeTree(tb, files)
	cfg := config.DefaultConfig()
	site, err := LoadSite(dir, cfg, SiteOptions{Open: func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (Backend, error) {
		set, err := stash.Open(stash.Options{DataDir: filepath.Join(dir, "data"), Stores: stores, Collections: colls, NoSync: !durable})
		if err != nil {
			return Backend{}, err
		}
		tb.Cleanup(func() { set.Close() })
		if !durable {
			return Backend{Stash: set}, nil
		}
		log, err := eventsource.Open(set, eventsource.Options{Service: "bench"})
		if err != nil {
			return Backend{}, err
		}
		tb.Cleanup(func() { _ = log.Close(context.Background()) })
		return Backend{Stash: set, Log: log}, nil
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return serveSite(tb, site, io.Discard)
}

// BenchmarkStashGET reads one record through the whole HTTP handler.
func BenchmarkStashGET(b *testing.B) {
	s := newStashServer(b, notesSite, false)
	rec := httptest.NewRecorder()
	post := httptest.NewRequest("POST", "/notes", strings.NewReader(`{"id":"n1","title":"hello"}`))
	post.Header.Set("Content-Type", "application/json")
	s.ServeHTTP(rec, post)
	if rec.Code != 201 {
		b.Fatalf("seed: %d %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest("GET", "/notes/n1", nil)
	benchGET(b, s, req)
}

// BenchmarkCommandPOST creates a record per request through the whole
// handler and the event log: group commit, real fsync.
func BenchmarkCommandPOST(b *testing.B) {
	s := newStashServer(b, notesSite, true)
	b.ReportAllocs()
	b.SetParallelism(32) // commands wait for the fsync: many in flight, as under load
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/notes", strings.NewReader(`{"title":"a note from the benchmark","body":"text"}`))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != 201 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// TestHostHeader: req.headers has the Host header, which net/http keeps
// apart from the others.
func TestHostHeader(t *testing.T) {
	ts := httptest.NewServer(newServer(t, map[string]string{
		"endpoints/h/h.execute.lua": `return { GET = function(req, res) res:send(req.headers.host or "none") end }`,
	}, nil))
	defer ts.Close()
	req, err := http.NewRequest("GET", ts.URL+"/h", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "api.example.com:8443"
	_, body := roundTrip(t, req)
	if string(body) != "api.example.com:8443" {
		t.Errorf("req.headers.host=%q, want api.example.com:8443", body)
	}
}

// TestErrorTableType: the type of an error table is the problem's type,
// without one about:blank, and its other keys are members of the problem.
func TestErrorTableType(t *testing.T) {
	s := newServer(t, map[string]string{
		"endpoints/p/p.execute.lua": `return {
			GET = function(req, res) error({ status = 403, type = "https://example.com/probs/out-of-credit", title = "Out of credit", detail = "balance 30", balance = 30 }) end,
			POST = function(req, res) error({ status = 409, detail = "taken" }) end,
		}`,
	}, nil)
	for _, tc := range []struct {
		method, typ, title string
		balance            any
	}{
		{"GET", "https://example.com/probs/out-of-credit", "Out of credit", 30.0},
		{"POST", "about:blank", "Conflict", nil},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tc.method, "/p", nil))
		var d struct {
			Type, Title string
			Balance     any
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || d.Type != tc.typ || d.Title != tc.title || d.Balance != tc.balance {
			t.Errorf("%s: %d %s, want type %q title %q balance %v", tc.method, rec.Code, rec.Body, tc.typ, tc.title, tc.balance)
		}
	}
}

func TestErrorKeepsScriptHeaders(t *testing.T) {
	s := newServer(t, map[string]string{
		"endpoints/p/p.execute.lua": `return { GET = function(req, res) res:header("WWW-Authenticate", "Bearer"):error(401, "no token") end }`,
	}, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/p", nil))
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != "Bearer" || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("got %d WWW-Authenticate=%q Content-Type=%q, want 401 Bearer problem+json",
			rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Header().Get("Content-Type"))
	}
}

// TestScriptContentLengthIsReplaced: a Content-Length a script sets with
// res:header must not reach the client; the reply's real length must, also
// for the small replies whose length net/http sets.
func TestScriptContentLengthIsReplaced(t *testing.T) {
	s := newServer(t, map[string]string{
		"endpoints/cl/cl.execute.lua": `return { GET = function(req, res) res:header("Content-Length", "2"):json({ a = "hello" }) end }`,
	}, nil)
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/cl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != `{"a":"hello"}` {
		t.Errorf("GET /cl: Content-Length %q, body %q (%v), want the whole body", resp.Header.Get("Content-Length"), body, err)
	}
}

// TestScriptConnectionHeaders: the headers that frame the body or manage
// the connection, which net/http writes itself, and X-Request-Id, are
// dropped from what a script sets, on replies and on problems alike. A script's
// Transfer-Encoding: gzip went out beside net/http's chunked, and no client
// could read the reply. Connection: close is kept: net/http honours it.
func TestScriptConnectionHeaders(t *testing.T) {
	ts := httptest.NewServer(newServer(t, map[string]string{
		"endpoints/h/h.execute.lua": `return {
			GET = function(req, res) res:header(req.query.name, req.query.value):json({ a = "hello" }) end,
			POST = function(req, res) res:header(req.query.name, req.query.value):error(409, "taken") end,
		}`,
	}, nil))
	defer ts.Close()
	tests := []struct {
		name, value string
		kept        bool
	}{
		{"Transfer-Encoding", "gzip", false},
		{"Transfer-Encoding", "chunked", false},
		{"Transfer-Encoding", "identity", false},
		{"Content-Length", "2", false},
		{"Trailer", "X-A", false},
		{"TE", "trailers", false},
		{"Upgrade", "websocket", false},
		{"Keep-Alive", "timeout=1", false},
		{"Proxy-Connection", "keep-alive", false},
		{"X-Request-Id", "zzz", false}, // the request's own id stays
		{"Connection", "close", true},
		{"X-Other", "v", true},
	}
	for _, tc := range tests {
		for _, method := range []string{"GET", "POST"} {
			t.Run(method+" "+tc.name+": "+tc.value, func(t *testing.T) {
				conn, err := net.Dial("tcp", ts.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				q := "name=" + tc.name + "&value=" + tc.value
				_, _ = io.WriteString(conn, method+" /h?"+q+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				raw, err := io.ReadAll(conn)
				if err != nil {
					t.Fatal(err)
				}
				head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(raw))), nil)
				if err != nil {
					t.Fatalf("the reply does not parse: %v\n%s", err, raw)
				}
				body, err := io.ReadAll(resp.Body)
				wantStatus, wantBody := 200, `{"a":"hello"}`
				if method == "POST" {
					wantStatus, wantBody = 409, `"detail":"taken"`
				}
				if err != nil || resp.StatusCode != wantStatus || !strings.Contains(string(body), wantBody) {
					t.Errorf("got %d %q (%v), want %d with %s\n%s", resp.StatusCode, body, err, wantStatus, wantBody, head)
				}
				line := "\r\n" + strings.ToLower(tc.name+": "+tc.value) + "\r\n"
				if got := strings.Contains(strings.ToLower(head+"\r\n"), line); got != tc.kept {
					t.Errorf("%s: %s sent=%v, want %v\n%s", tc.name, tc.value, got, tc.kept, head)
				}
			})
		}
	}
}

// TestDocConnectionHeaders runs the example of docs/lua.md on the headers
// MiniMi writes itself.
func TestDocConnectionHeaders(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "lua.md"))
	if err != nil {
		t.Fatal(err)
	}
	const first = "-- endpoints/plain/plain.execute.lua:"
	_, block, ok := strings.Cut(string(doc), "```lua\n"+first)
	block, _, closed := strings.Cut(block, "\n```")
	if !ok || !closed {
		t.Fatalf("docs/lua.md has no lua block starting %q", first)
	}
	ts := httptest.NewServer(newServer(t, map[string]string{"endpoints/plain/plain.execute.lua": first + block}, nil))
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(body) != "hello" || resp.ContentLength != 5 || resp.TransferEncoding != nil {
		t.Errorf("GET /plain: %d %q (%v), Content-Length %d, Transfer-Encoding %q; want 200 hello, 5 and none",
			resp.StatusCode, body, err, resp.ContentLength, resp.TransferEncoding)
	}
}

// TestContentTypes: each way a script sets a reply's Content-Type reaches
// the client.
func TestContentTypes(t *testing.T) {
	s := newServer(t, map[string]string{
		"endpoints/j/j.execute.lua": `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/t/t.execute.lua": `return { GET = function(req, res) res:send("x") end }`,
		"endpoints/c/c.execute.lua": `return { GET = function(req, res) res:send("a,b", "text/csv") end }`,
		"endpoints/o/o.execute.lua": `return { GET = function(req, res) res:header("Content-Type", "application/vnd.x+json"):json({}) end }`,
		"endpoints/e/e.execute.lua": `return { GET = function(req, res) res:header("Content-Type", ""):json({}) end }`,
	}, nil)
	ts := httptest.NewServer(s)
	defer ts.Close()
	for path, want := range map[string]string{"/j": "application/json", "/t": "text/plain; charset=utf-8",
		"/c": "text/csv", "/o": "application/vnd.x+json", "/e": "application/json"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Values("Content-Type"); len(got) != 1 || got[0] != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
		}
	}
}

// TestAccessLogTime: the request log's cached second writes what
// time.Format writes, across seconds and zones.
func TestAccessLogTime(t *testing.T) {
	base := time.Date(2026, 3, 29, 0, 59, 59, 999_000_000, time.UTC)
	for _, loc := range []*time.Location{time.UTC, time.FixedZone("", 2*3600+30*60), time.FixedZone("", -7*3600)} {
		var al accessLog // one zone per process, as time.Now gives
		for _, d := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 1500 * time.Millisecond, time.Hour + 7*time.Millisecond} {
			now := base.Add(d).In(loc)
			if got, want := string(al.appendTime(nil, now)), now.Format(timeLayout); got != want {
				t.Errorf("appendTime(%v)=%s, want %s", now, got, want)
			}
		}
	}
}

func TestAppendMillis(t *testing.T) {
	for _, us := range []int64{0, 1, 10, 240, 999, 1000, 1234, 12500, 10_000_000, 987_654_321, -1500} {
		want := strconv.FormatFloat(float64(us)/1000, 'f', -1, 64)
		if got := string(appendMillis(nil, us)); got != want {
			t.Errorf("appendMillis(%d)=%s, want %s", us, got, want)
		}
	}
}

// paramsSite answers every request with its params and path.
var paramsSite = map[string]string{
	"endpoints/users/[id]/[id].execute.lua":           `return { ANY = function(req, res) res:json({ params = req.params, path = req.path }) end }`,
	"endpoints/files/[...rest]/[...rest].execute.lua": `return { ANY = function(req, res) res:json({ params = req.params, path = req.path }) end }`,
}

// TestPathParams: each parameter reaches Lua decoded exactly once, however
// the client escaped it.
func TestPathParams(t *testing.T) {
	ts := httptest.NewServer(newServer(t, paramsSite, nil))
	defer ts.Close()
	tests := []struct{ target, want string }{
		{"/users/a%20b", `{"params":{"id":"a b"},"path":"/users/a b"}`},
		{"/users/a%40b", `{"params":{"id":"a@b"},"path":"/users/a@b"}`},
		{"/users/a%3Ab", `{"params":{"id":"a:b"},"path":"/users/a:b"}`},
		{"/users/caf%c3%a9", `{"params":{"id":"café"},"path":"/users/café"}`},
		{"/users/a%2Fb%20c", `{"params":{"id":"a/b c"},"path":"/users/a/b c"}`},
		{"/users/100%25", `{"params":{"id":"100%"},"path":"/users/100%"}`},
		{"/files/a%20b/c%2Fd", `{"params":{"rest":"a b/c/d"},"path":"/files/a b/c/d"}`},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			resp, err := http.Get(ts.URL + tc.target)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(b) != tc.want {
				t.Errorf("GET %s=%d %s, want 200 %s", tc.target, resp.StatusCode, b, tc.want)
			}
		})
	}
}

// TestPathCleaning: requests are routed and served on their cleaned path,
// and no parameter reaches Lua holding a dot segment.
func TestPathCleaning(t *testing.T) {
	s := newServer(t, paramsSite, nil)
	tests := []struct {
		target string
		status int
		want   string
	}{
		{"/files/../users/42", 200, `{"params":{"id":"42"},"path":"/users/42"}`},
		{"/users//42", 200, `{"params":{"id":"42"},"path":"/users/42"}`},
		{"/users/./42/", 200, `{"params":{"id":"42"},"path":"/users/42"}`},
		{"//files//a//b/", 200, `{"params":{"rest":"a/b"},"path":"/files/a/b"}`},
		{"/files/a/../../../users/7", 200, `{"params":{"id":"7"},"path":"/users/7"}`},
		{"/files/%2e%2e/users/42", 400, ""},
		{"/files/..%2Fusers%2F42", 400, ""},
		{"/files/a%2F%2E%2E%2Fb", 400, ""},
		{"/users/%2E%2E", 400, ""},
		{"/users/%2e", 400, ""},
		{"/users/42?a=%zz", 400, ""},
		{"/users/42?a=1;b=2", 400, ""},
		{"/users/42?a=%4", 400, ""},
		{"/users/42?" + strings.Repeat("a=1&", maxQueryPairs-1) + "a=1", 200, `{"params":{"id":"42"},"path":"/users/42"}`},
		{"/users/42?" + strings.Repeat("a=1&", maxQueryPairs), 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", tc.target, nil))
			if rec.Code != tc.status || tc.want != "" && rec.Body.String() != tc.want {
				t.Fatalf("GET %s=%d %s, want %d %s", tc.target, rec.Code, rec.Body, tc.status, tc.want)
			}
			if tc.status == 400 {
				var p map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Header().Get("Content-Type") != "application/problem+json" || p["request_id"] == "" {
					t.Errorf("GET %s: %s %q, want a problem with a request_id", tc.target, rec.Header().Get("Content-Type"), rec.Body)
				}
				if path, _, _ := strings.Cut(tc.target, "?"); p["instance"] != path { // as sent: a URI reference, with its escapes
					t.Errorf("GET %s: instance %q, want the path as sent", tc.target, p["instance"])
				}
			}
		})
	}
}

// TestCatchAllNeedsASegment: [...name] binds at least one segment, at the
// root too; cleaning keeps /users//42 off the root's catch-all; a URL whose
// folder has no handler goes to the catch-all above it, as in Next.js.
func TestCatchAllNeedsASegment(t *testing.T) {
	files := maps.Clone(paramsSite)
	files["endpoints/[...all]/[...all].execute.lua"] = `return { GET = function(req, res) res:json({ all = req.params.all }) end }`
	tests := []struct {
		files  map[string]string
		target string
		status int
		want   string
	}{
		{paramsSite, "/files", 404, ""},
		{paramsSite, "/files/", 404, ""},
		{paramsSite, "/files/x", 200, `{"params":{"rest":"x"},"path":"/files/x"}`},
		{files, "/", 404, ""},
		{files, "/files", 200, `{"all":"files"}`}, // files/ has no handler of its own: the catch-all above serves it
		{paramsSite, "/users", 404, ""},
		{files, "/users", 200, `{"all":"users"}`},
		{files, "/users//42", 200, `{"params":{"id":"42"},"path":"/users/42"}`},
		{files, "/a/b", 200, `{"all":"a/b"}`},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			s := newServer(t, tc.files, nil)
			for _, method := range []string{"GET", "OPTIONS"} {
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, httptest.NewRequest(method, tc.target, nil))
				if method == "OPTIONS" {
					if tc.status == 404 && rec.Code != 404 {
						t.Errorf("OPTIONS %s=%d, want 404", tc.target, rec.Code)
					}
					continue
				}
				if rec.Code != tc.status || tc.want != "" && rec.Body.String() != tc.want {
					t.Errorf("GET %s=%d %s, want %d %s", tc.target, rec.Code, rec.Body, tc.status, tc.want)
				}
			}
		})
	}
}

// TestUnknownMethods: a method chi does not know gets MiniMi's own 404 or
// 405 with the URL's real Allow list; ANY does not cover it.
func TestUnknownMethods(t *testing.T) {
	files := maps.Clone(paramsSite)
	files["endpoints/notes/notes.execute.lua"] = `return { GET = function(req, res) res:json({}) end }`
	ts := httptest.NewServer(newServer(t, files, nil))
	defer ts.Close()
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"FOO", "/users/1", 405, "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"},
		{"PURGE", "/notes", 405, "GET, HEAD, OPTIONS"},
		{"PROPFIND", "/notes/", 405, "GET, HEAD, OPTIONS"},
		{"get", "/notes", 405, "GET, HEAD, OPTIONS"},
		{"TRACE", "/notes", 405, "GET, HEAD, OPTIONS"},
		{"PURGE", "/nope", 404, ""},
		{"FOO", "/", 404, ""},
		{"PURGE", "/_minimi/health", 405, "GET, HEAD"},
		{"POST", "/_minimi/routes", 405, "GET, HEAD"},
		{"HEAD", "/_minimi/health", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, ts.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, _ := roundTrip(t, req)
			if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("%s %s=%d Allow %q, want %d Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow)
			}
			if tc.status >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: Content-Type %q, want a problem", tc.method, tc.path, resp.Header.Get("Content-Type"))
			}
		})
	}
}

// listen serves s with Serve on a loopback port until the test ends, and
// returns its address.
func listen(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("Serve()=%v", err)
		}
	})
	return ln.Addr().String()
}

// TestHeaderBytes: limits.header_bytes holds the header block, request line
// included, to that many bytes, not to that many plus net/http's 4 KiB of
// read buffer.
func TestHeaderBytes(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Limits.HeaderBytes = 8192
	addr := listen(t, newServer(t, paramsSite, cfg))
	block := func(size int) string {
		head := "GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Pad: "
		return head + strings.Repeat("a", size-len(head)-len("\r\n\r\n")) + "\r\n\r\n"
	}
	for _, tc := range []struct {
		size   int
		status int
	}{
		{8192, http.StatusOK},
		{8193, http.StatusRequestHeaderFieldsTooLarge},
		{8192 + 4000, http.StatusRequestHeaderFieldsTooLarge},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		req := block(tc.size)
		if len(req) != tc.size {
			t.Fatalf("block of %d bytes, want %d", len(req), tc.size)
		}
		_, _ = io.WriteString(conn, req) // the server may close before reading it all
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%d-byte header block: no reply: %v", tc.size, err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%d-byte header block: status %d, want %d", tc.size, resp.StatusCode, tc.status)
		}
	}
}

// TestBodyLengths: a body of a known length and a chunked one reach the
// script whole, and either one over limits.body_bytes is a 413 problem.
func TestBodyLengths(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Limits.BodyBytes = 64
	ts := httptest.NewServer(newServer(t, map[string]string{
		"endpoints/echo/echo.execute.lua": `return { POST = function(req, res) res:send(req.raw or "") end }`,
	}, cfg))
	defer ts.Close()
	tests := []struct {
		name    string
		body    string
		chunked bool
		status  int
	}{
		{"known length", strings.Repeat("k", 64), false, 200},
		{"chunked", strings.Repeat("c", 64), true, 200},
		{"known length over the limit", strings.Repeat("k", 65), false, 413},
		{"chunked over the limit", strings.Repeat("c", 65), true, 413},
	}
	for _, tc := range tests {
		var body io.Reader = strings.NewReader(tc.body)
		if tc.chunked {
			body = io.MultiReader(body) // no length known: sent chunked
		}
		req, _ := http.NewRequest("POST", ts.URL+"/echo", body)
		req.Header.Set("Content-Type", "text/plain")
		resp, got := roundTrip(t, req)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, resp.StatusCode, got, tc.status)
			continue
		}
		if tc.status == 200 && string(got) != tc.body {
			t.Errorf("%s: script read %q, want %q", tc.name, got, tc.body)
		}
		if tc.status == 413 && resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: Content-Type %q, want a problem", tc.name, resp.Header.Get("Content-Type"))
		}
	}
}

// roundTrip sends req and returns the reply with its body read and closed.
func roundTrip(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestBodyContentCoding: a body with a content coding other than identity
// is a 415 problem naming it, with Accept-Encoding: identity, and never
// reaches the script; identity, or a coding on no body, is served.
func TestBodyContentCoding(t *testing.T) {
	ts := httptest.NewServer(newServer(t, map[string]string{
		"endpoints/echo/echo.execute.lua": `return { POST = function(req, res) res:send(req.raw or "") end }`,
	}, config.DefaultConfig()))
	defer ts.Close()
	for _, tc := range []struct {
		name, path, body string
		chunked          bool
		coding           []string
		status           int
		named            string
	}{
		{"gzip", "/echo", `{"a":1}`, false, []string{"gzip"}, 415, "coding gzip "},
		{"gzip chunked", "/echo", `{"a":1}`, true, []string{"gzip"}, 415, "coding gzip "},
		{"two codings", "/echo", `{"a":1}`, false, []string{"identity, br"}, 415, "coding br "},
		{"on a second line", "/echo", `{"a":1}`, false, []string{"identity", "deflate"}, 415, "coding deflate "},
		{"identity", "/echo", `{"a":1}`, false, []string{"Identity"}, 200, ""},
		{"no body", "/echo", "", false, []string{"gzip"}, 200, ""},
		{"no body, chunked", "/echo", "", true, []string{"gzip"}, 200, ""},
		{"no such URL", "/nope", `{"a":1}`, false, []string{"gzip"}, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // no length known: sent chunked
			}
			req, _ := http.NewRequest("POST", ts.URL+tc.path, body)
			req.Header.Set("Content-Type", "application/json")
			req.Header["Content-Encoding"] = tc.coding
			resp, got := roundTrip(t, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, got, tc.status)
			}
			switch tc.status {
			case 200:
				if string(got) != tc.body {
					t.Errorf("script read %q, want %q", got, tc.body)
				}
			case 415:
				if ct, ae := resp.Header.Get("Content-Type"), resp.Header.Get("Accept-Encoding"); ct != "application/problem+json" || ae != "identity" {
					t.Errorf("Content-Type %q, Accept-Encoding %q, want a problem and identity", ct, ae)
				}
				if !strings.Contains(string(got), tc.named) {
					t.Errorf("problem %s does not name the coding (%q)", got, tc.named)
				}
			}
		})
	}
}

// TestBodyMemory: a body of known length takes memory as its bytes arrive,
// not as its Content-Length announces: connections that announce
// limits.body_bytes and send three bytes hold little, and bodies past the
// first buffer still reach the script whole.
func TestBodyMemory(t *testing.T) {
	const conns, limit = 16, 4 << 20
	cfg := config.DefaultConfig()
	cfg.Limits.BodyBytes = limit
	s := newServer(t, map[string]string{
		"endpoints/echo/echo.execute.lua": `return { POST = function(req, res) res:send(req.raw) end }`,
	}, cfg)
	addr := listen(t, s)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	for range conns {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\nabc", limit); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); s.inFlight.Load() < conns; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("requests in flight=%d, want %d", s.inFlight.Load(), conns)
		}
	}
	time.Sleep(100 * time.Millisecond) // their handlers reach the body
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grown := int64(ms.HeapAlloc) - int64(before); grown > conns*limit/8 {
		t.Errorf("heap grew by %d bytes for %d bodies that announced %d bytes and sent 3, want at most %d",
			grown, conns, limit, conns*limit/8)
	}

	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, size := range []int{bodyChunk - 1, bodyChunk, bodyChunk + 1, 3*bodyChunk + 5, limit} {
		body := strings.Repeat("0123456789abcdef", size/16+1)[:size]
		resp, err := http.Post(ts.URL+"/echo", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != body {
			t.Errorf("POST of %d bytes=%d with %d bytes back, want 200 with the body", size, resp.StatusCode, len(got))
		}
	}
}

// TestSlowBody: a body still arriving when limits.request_ms passes is a
// 408 problem, not a 400.
func TestSlowBody(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Limits.RequestMS = 300
	conn, err := net.Dial("tcp", listen(t, newServer(t, paramsSite, cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ten bytes of a hundred, and then nothing.
	if _, err := io.WriteString(conn, "POST /users/1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no reply to a slow body: %v", err)
	}
	defer resp.Body.Close()
	var p map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/problem+json" ||
		p["status"] != 408.0 || p["request_id"] == nil {
		t.Errorf("slow body=%d %s %v, want a 408 problem", resp.StatusCode, resp.Header.Get("Content-Type"), p)
	}
}

// TestReqConfigIsCustom: req.config is the endpoint's custom config, without
// the keys MiniMi reads itself (log_body, clients).
func TestReqConfigIsCustom(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Endpoints = map[string]config.Endpoint{"/notes": {"page_size": 20.0}, "/notes/[id]": {"log_body": true}}
	s := newServer(t, map[string]string{
		"endpoints/notes/notes.execute.lua":     `return { GET = function(req, res) res:json(req.config) end }`,
		"endpoints/notes/[id]/[id].execute.lua": `return { GET = function(req, res) res:json(req.config) end }`,
	}, cfg)
	for _, target := range []string{"/notes", "/notes/5"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 200 || rec.Body.String() != `{"page_size":20}` {
			t.Errorf("GET %s=%d %s, want 200 {\"page_size\":20}", target, rec.Code, rec.Body)
		}
	}
}

// TestConditionalGET: a GET or HEAD whose If-None-Match matches the ETag a
// script set on a 200 is a 304 with that ETag and no body (RFC 9110,
// 13.1.2); any other method, status or tag gets the script's reply.
func TestConditionalGET(t *testing.T) {
	ts := httptest.NewServer(newServer(t, map[string]string{
		"endpoints/n/n.execute.lua": `local function reply(req, res)
			if req.query.etag then res:header("ETag", req.query.etag) end
			res:header("Cache-Control", "no-cache"):status(tonumber(req.query.s or "200")):json({ v = 3 })
		end
		return { GET = reply, POST = reply, PUT = reply }`,
	}, nil))
	defer ts.Close()
	for _, tc := range []struct {
		method, query string
		inm           []string // If-None-Match values
		status        int
	}{
		{"GET", `etag="3"`, []string{`"3"`}, 304},
		{"HEAD", `etag="3"`, []string{`"3"`}, 304},
		{"GET", `etag="3"`, []string{`W/"3"`}, 304},    // weak comparison
		{"GET", `etag=W/"3"`, []string{`"3"`}, 304},    // either side
		{"GET", `etag="3"`, []string{`"1", "3"`}, 304}, // a list
		{"GET", `etag="3"`, []string{`"1"`, `"3"`}, 304},
		{"GET", `etag="3"`, []string{`*`}, 304},
		{"GET", `etag=3`, []string{`"3"`}, 304},        // a script's tag without quotes
		{"GET", `etag="a,b"`, []string{`"a,b"`}, 304},  // a comma inside a tag
		{"GET", `etag="a"`, []string{`"x,a,y"`}, 200},  // is no list
		{"GET", `etag="a"`, []string{`"b", *`}, 200},   // * only alone
		{"GET", `etag="a"`, []string{`"b"`, `*`}, 200}, // on one line
		{"GET", `etag="a"`, []string{`a`}, 200},        // the client's tags are quoted
		{"GET", `etag="a"`, []string{`"a" x`}, 200},    // a list not well formed
		{"GET", `etag="a"`, []string{`"a`}, 200},
		{"GET", `etag="a"`, []string{` ,, "a" , `}, 304},
		{"GET", `etag="3"`, []string{`"4"`}, 200},
		{"GET", `etag="3"`, []string{`"33"`}, 200},
		{"GET", `etag="3"`, nil, 200},
		{"GET", ``, []string{`*`}, 200},                 // no ETag
		{"GET", `etag="3"&s=201`, []string{`"3"`}, 201}, // not a 200
		{"POST", `etag="3"`, []string{`"3"`}, 200},      // not a GET
		{"PUT", `etag="3"`, []string{`*`}, 200},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+"/n?"+strings.ReplaceAll(tc.query, `"`, "%22"), nil)
		req.Header["If-None-Match"] = tc.inm
		resp, body := roundTrip(t, req)
		name := fmt.Sprintf("%s ?%s If-None-Match %q", tc.method, tc.query, tc.inm)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tc.status)
			continue
		}
		if tc.status == 304 && (len(body) != 0 || resp.Header.Get("Content-Type") != "" ||
			resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "no-cache") {
			t.Errorf("%s: %d bytes, Content-Type %q, ETag %q, Cache-Control %q; want no body or type, the script's ETag and Cache-Control",
				name, len(body), resp.Header.Get("Content-Type"), resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
		}
		if tc.status != 304 && tc.method != "HEAD" && string(body) != `{"v":3}` {
			t.Errorf("%s: body %q, want the script's", name, body)
		}
	}
	// If-Match and If-Unmodified-Since come first (RFC 9110, 13.2.2): with
	// either, the reply is the script's.
	for _, h := range []string{"If-Match", "If-Unmodified-Since"} {
		req, _ := http.NewRequest("GET", ts.URL+"/n?etag=%223%22", nil)
		req.Header.Set("If-None-Match", `"3"`)
		req.Header.Set(h, `"2"`)
		resp, _ := roundTrip(t, req)
		if resp.StatusCode != 200 {
			t.Errorf("GET with If-None-Match and %s=%d, want the script's 200", h, resp.StatusCode)
		}
	}
}

// TestNoContentReplies: a 204, 205 or 304 carries no body, and no
// Content-Type, whether res:json or res:header set it, or Content-Length for
// the body a script gave it (a GET's 205 says its length is 0, RFC 9110
// 15.3.6); the script's other headers stay.
func TestNoContentReplies(t *testing.T) {
	ts := httptest.NewServer(newServer(t, map[string]string{
		"endpoints/z/z.execute.lua": `return { GET = function(req, res)
			if req.query.h then res:header("Content-Type", "text/html") end
			res:header("ETag", '"1"'):status(tonumber(req.query.s)):json({ x = string.rep("a", 3000) })
		end }`,
	}, nil))
	defer ts.Close()
	for _, target := range []string{"?s=204", "?s=205", "?s=304", "?s=204&h=1", "?s=205&h=1", "?s=200"} {
		status, _ := strconv.Atoi(target[3:6])
		for _, method := range []string{"GET", "HEAD"} {
			req, _ := http.NewRequest(method, ts.URL+"/z"+target, nil)
			resp, body := roundTrip(t, req)
			ct, cl := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length")
			wantCL := ""
			if status == 205 && method == "GET" {
				wantCL = "0"
			}
			switch {
			case resp.StatusCode != status || resp.Header.Get("ETag") != `"1"`:
				t.Errorf("%s %s=%d, ETag %q; want %d with the script's ETag", method, target, resp.StatusCode,
					resp.Header.Get("ETag"), status)
			case status != 200 && (ct != "" || len(body) != 0 || cl != wantCL):
				t.Errorf("%s %s: Content-Type %q, Content-Length %q, %d bytes; want no type, length %q, no body",
					method, target, ct, cl, len(body), wantCL)
			case status == 200 && method == "GET" && (ct != "application/json" || len(body) < 3000):
				t.Errorf("GET %s: Content-Type %q, %d bytes; want the JSON", target, ct, len(body))
			}
		}
	}
}

// TestScriptVaryKeepsOrigin: on a service with a whitelist, a Vary or an
// Access-Control-Expose-Headers a script sets, with res:header before
// res:json or res:error, comes beside the Vary: Origin and the X-Request-Id
// the whitelist gives a listed origin's reply; it does not replace them.
func TestScriptVaryKeepsOrigin(t *testing.T) {
	const origin = "https://app.example"
	cfg := config.DefaultConfig()
	cfg.Whitelist = []string{origin}
	s := newServer(t, map[string]string{
		"endpoints/v/v.execute.lua": `return { GET = function(req, res)
			local vary = req.query.dup and { "Accept-Language", "origin" } or "Accept-Language" -- origin: no second one
			res:header("Vary", vary):header("Access-Control-Expose-Headers", "X-Mine")
			if req.query.err then return res:error(400, "no") end
			res:json({ ok = true })
		end }`,
	}, cfg)
	for _, target := range []string{"/v", "/v?err=1", "/v?dup=1"} {
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		vary := strings.Join(rec.Header().Values("Vary"), ", ")
		expose := strings.Join(rec.Header().Values("Access-Control-Expose-Headers"), ", ")
		if vary != "Origin, Accept-Language" || expose != "X-Request-Id, X-Mine" ||
			rec.Header().Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("GET %s=%d: Vary %q, Access-Control-Expose-Headers %q; want \"Origin, Accept-Language\", "+
				"\"X-Request-Id, X-Mine\"", target, rec.Code, vary, expose)
		}
	}
}

// TestEventsStreamPeers: with no client keys, the event stream is served to
// loopback peers only, unless events.public is set; with keys, to every
// known client from anywhere, as the other URLs are.
func TestEventsStreamPeers(t *testing.T) {
	const key = "a key of the web client"
	keyed := config.DefaultConfig()
	keyed.Clients = map[string]config.Client{"web": clientOf(key)}
	public := config.DefaultConfig()
	public.Events.Public = true
	for _, tc := range []struct {
		name   string
		cfg    *config.Config
		peer   string
		status int
	}{
		{"default, loopback", nil, "127.0.0.1:4000", 200},
		{"default, loopback v6", nil, "[::1]:4000", 200},
		{"default, v4 in v6 loopback", nil, "[::ffff:127.0.0.1]:4000", 200},
		{"default, another machine", nil, "192.0.2.1:4000", 403},
		{"public, another machine", public, "192.0.2.1:4000", 200},
		{"keys, another machine", keyed, "192.0.2.1:4000", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg == nil {
				cfg = config.DefaultConfig()
			}
			s := eventsServer(t, cfg)
			req := httptest.NewRequest("GET", "/_minimi/events", nil)
			req.RemoteAddr = tc.peer
			if len(cfg.Clients) > 0 {
				req.Header.Set("X-Client-Key", key)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("GET /_minimi/events from %s=%d %s, want %d", tc.peer, rec.Code, rec.Body, tc.status)
			}
			if tc.status == 403 && (rec.Header().Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(rec.Body.String(), "events.public")) {
				t.Errorf("403 reply %q %s, want a problem naming events.public", rec.Header().Get("Content-Type"), rec.Body)
			}
		})
	}
}

// TestEndpointClientsBelowCatchAll: "/admin": {"clients": ["ops"]} keeps
// other clients out of /admin and every path below it, also of those a
// catch-all or a parameter folder above it serves because no folder under
// /admin has a handler for them, and of those that escape their slashes;
// the catch-all serves the rest to every client.
func TestEndpointClientsBelowCatchAll(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Clients = map[string]config.Client{}
	for _, name := range []string{"web", "ops"} {
		cfg.Clients[name] = clientOf("key of " + name)
	}
	cfg.Endpoints = map[string]config.Endpoint{
		"/admin":         {"clients": []any{"ops"}},
		"/files/private": {"clients": []any{"ops"}},
		"/admin2/deep":   {"clients": []any{"ops"}},
		"/x/secret":      {"clients": []any{"ops"}},
		"/100%":          {"clients": []any{"ops"}},
		"/y/[p]/secret":  {"clients": []any{"ops"}},
		"/u/[id]":        {"clients": []any{"ops"}},
		"/x/secret/open": {"clients": []any{"ops", "web"}},
	}
	ts := httptest.NewServer(newServer(t, map[string]string{
		"endpoints/[...all]/[...all].execute.lua":         `return { GET = function(req, res) res:json({ all = req.params.all }) end }`,
		"endpoints/admin/[id]/[id].execute.lua":           `return { GET = function(req, res) res:json({ id = req.params.id }) end }`,
		"endpoints/(g)/admin2/(h)/deep/deep.execute.lua":  `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/files/[...rest]/[...rest].execute.lua": `return { GET = function(req, res) res:json({ rest = req.params.rest }) end }`,
		"endpoints/files/private/keep/keep.execute.lua":   `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/x/[page]/[page].execute.lua":           `return { GET = function(req, res) res:json({ page = req.params.page }) end }`,
		"endpoints/x/secret/users/users.execute.lua":      `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/x/secret/open/open.execute.lua":        `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/100%/sub/sub.execute.lua":              `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/y/foo/foo.execute.lua":                 `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/y/[p]/secret/deep/deep.execute.lua":    `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/u/me/me.execute.lua":                   `return { GET = function(req, res) res:json({}) end }`,
		"endpoints/u/[id]/[id].execute.lua":               `return { GET = function(req, res) res:json({}) end }`,
	}, cfg))
	defer ts.Close()
	get := func(client, path string) int {
		req, err := http.NewRequest("GET", ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Client-Key", "key of "+client)
		resp, _ := roundTrip(t, req)
		return resp.StatusCode
	}
	for _, tc := range []struct {
		client, path string
		status       int
	}{
		{"web", "/admin/1", 403},
		{"web", "/admin", 403},
		{"web", "/admin/1/2", 403},
		{"web", "/admin%2F1", 403},   // the catch-all reads admin/1, and req.path is /admin/1
		{"web", "/admin%2f1/2", 403}, // the same, in lower case
		{"web", "/x/secret", 403},    // [page] serves it: /x/secret has no handler of its own
		{"web", "/x/secret/users", 403},
		{"web", "/x/public", 200},
		{"web", "/x/secret/open", 200}, // a deeper entry lets web in again
		{"web", "/x/secret/open/z", 200},
		{"web", "/100%25", 403}, // a static name with a %, compared decoded
		{"web", "/100%25/other", 403},
		{"web", "/y/bar/secret", 403},
		{"web", "/y/foo/secret", 403}, // only the catch-all serves it, but /y/[p]/secret matches it
		{"web", "/y/foo/secret/x", 403},
		{"web", "/y/foo", 200},
		{"web", "/u/me", 200}, // its own folder, not /u/[id]
		{"web", "/u/42", 403},
		{"web", "/u/me/more", 200},
		{"web", "/files/private", 403},
		{"web", "/files/private/x", 403},
		{"web", "/files/public/x", 200},
		{"web", "/admin2/x", 200},
		{"web", "/admin2/deep/y", 403}, // through the groups (g) and (h)
		{"web", "/other/x", 200},
		{"ops", "/admin", 200},
		{"ops", "/admin/1/2", 200},
		{"ops", "/files/private/x", 200},
	} {
		if got := get(tc.client, tc.path); got != tc.status {
			t.Errorf("GET %s as %s=%d, want %d", tc.path, tc.client, got, tc.status)
		}
	}
}

// TestBuiltinPreflight: a page on a listed origin may call the built-ins (an
// EventSource on /_minimi/events, a fetch of /_minimi/health), so their CORS
// preflights are answered as the endpoints' are, without a client key; an
// OPTIONS that is no preflight is still a 405.
func TestBuiltinPreflight(t *testing.T) {
	const origin, key = "https://app.example", "a key of the web client"
	cfg := config.DefaultConfig()
	cfg.Whitelist = []string{origin}
	cfg.Clients = map[string]config.Client{"web": clientOf(key)}
	ts := httptest.NewServer(eventsServer(t, cfg))
	defer ts.Close()
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		status             int
		want               map[string]string // reply headers
	}{
		{"health", "OPTIONS", "/_minimi/health",
			map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET"}, 204,
			map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET, HEAD",
				"Allow": "GET, HEAD", "Access-Control-Max-Age": "600"}},
		{"events with a key", "OPTIONS", "/_minimi/events",
			map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-client-key"}, 204,
			map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "x-client-key"}},
		{"routes", "OPTIONS", "/_minimi/routes",
			map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET"}, 204,
			map[string]string{"Access-Control-Allow-Methods": "GET, HEAD"}},
		{"unlisted origin", "OPTIONS", "/_minimi/health",
			map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, 403, nil},
		{"no such built-in", "OPTIONS", "/_minimi/nope",
			map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET"}, 404, nil},
		{"OPTIONS without Origin", "OPTIONS", "/_minimi/health", nil, 405, map[string]string{"Allow": "GET, HEAD"}},
		{"the stream itself", "GET", "/_minimi/events", map[string]string{"Origin": origin, "X-Client-Key": key}, 200,
			map[string]string{"Access-Control-Allow-Origin": origin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, ts.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, _ := roundTrip(t, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s=%d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			}
			for k, v := range tc.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %s: %s %q, want %q", tc.method, tc.path, k, got, v)
				}
			}
		})
	}
}

// TestRequestLogRefusedBeforeRouting: a request that the access guard
// refuses before it is routed is logged under the route of its path, as
// the metrics count it, or 404 when no route serves the path.
func TestRequestLogRefusedBeforeRouting(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Clients = map[string]config.Client{"web": clientOf("a key")}
	site, err := LoadSite(writeTree(t, map[string]string{
		"endpoints/who/[x]/[x].execute.lua": `return { GET = function(req, res) res:json({}) end }`,
	}), cfg, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	s := serveSite(t, site, &logs)
	for path, want := range map[string]string{"/who/1": "/who/[x]", "/nope": "404"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil)) // no key
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("GET %s without a key=%d, want 401", path, rec.Code)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		var line struct{ Route string }
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil || line.Route != want {
			t.Errorf("GET %s refused: log route %q (%v), want %q", path, line.Route, err, want)
		}
	}
}

// clientOf is the config entry of a client whose key is key.
func clientOf(key string) config.Client {
	sum := sha256.Sum256([]byte(key))
	return config.Client{KeySHA256: hex.EncodeToString(sum[:])}
}

// eventsServer serves cfg's site of one endpoint, /a, with a stand-in for
// the event stream that writes "stream".
func eventsServer(t *testing.T, cfg *config.Config) *Server {
	t.Helper()
	site, err := LoadSite(writeTree(t, map[string]string{
		"endpoints/a/a.execute.lua": `return { GET = function(req, res) res:json({}) end }`,
	}), cfg, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)
	s, err := New(Options{Site: site, AccessLog: io.Discard,
		Events: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "stream") })})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
