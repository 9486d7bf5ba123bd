package access

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
)

func sum(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

const app = "https://app.example.com"

// testConfig is a service with a whitelist, three clients and one endpoint
// restricted to the admin client.
func testConfig() *config.Config {
	cfg := config.DefaultConfig()
	cfg.Whitelist = []string{app, "http://localhost:5173"}
	cfg.Clients = map[string]config.Client{
		"web":    {KeySHA256: sum("web-key")},
		"admin":  {KeySHA256: sum("admin-key"), CIDRs: []string{"127.0.0.0/8", "::1/128"}},
		"office": {KeySHA256: sum("office-key"), CIDRs: []string{"10.1.0.0/16"}},
	}
	cfg.Endpoints = map[string]config.Endpoint{"/admin": {"clients": []any{"admin"}}}
	return cfg
}

// serve runs r through a Guard in front of an endpoint handler serving
// folder, and reports whether the endpoint ran.
func serve(t *testing.T, g *Guard, folder string, r *http.Request) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	ran := false
	endpoint := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !CheckEndpoint(w, r, folder, nil, []string{"GET", "HEAD", "OPTIONS", "POST"}) {
			return
		}
		ran = true
		w.Header().Set("X-Client", ClientOf(r.Context()))
		w.WriteHeader(http.StatusOK)
	})
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "rid-1")
	g.Handler(endpoint).ServeHTTP(rec, r)
	return rec, ran
}

func newGuard(t *testing.T, cfg *config.Config) *Guard {
	t.Helper()
	g, err := New(FromConfig(cfg))
	if err != nil {
		t.Fatalf("New()=%v", err)
	}
	return g
}

type req struct {
	method, path, origin, key, remote string
	header                            map[string]string
}

func (q req) build() *http.Request {
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, q.path, nil)
	if q.origin != "" {
		r.Header.Set("Origin", q.origin)
	}
	if q.key != "" {
		r.Header.Set(KeyHeader, q.key)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	return r
}

func TestClients(t *testing.T) {
	g := newGuard(t, testConfig())
	tests := []struct {
		name   string
		folder string
		req    req
		status int
		client string
	}{
		{"no key", "/notes", req{path: "/notes"}, 401, ""},
		{"unknown key", "/notes", req{path: "/notes", key: "nope"}, 401, ""},
		{"key of a hash", "/notes", req{path: "/notes", key: sum("web-key")}, 401, ""},
		{"known key", "/notes", req{path: "/notes", key: "web-key"}, 200, "web"},
		{"any address without cidrs", "/notes", req{path: "/notes", key: "web-key", remote: "203.0.113.9:1234"}, 200, "web"},
		{"address in cidr", "/notes", req{path: "/notes", key: "office-key", remote: "10.1.2.3:5555"}, 200, "office"},
		{"address outside cidr", "/notes", req{path: "/notes", key: "office-key"}, 403, ""},
		{"forwarded-for ignored", "/notes", req{path: "/notes", key: "office-key", header: map[string]string{"X-Forwarded-For": "10.1.2.3", "X-Real-Ip": "10.1.2.3"}}, 403, ""},
		{"ipv6 loopback", "/notes", req{path: "/notes", key: "admin-key", remote: "[::1]:4000"}, 200, "admin"},
		{"ipv4-mapped ipv6", "/notes", req{path: "/notes", key: "admin-key", remote: "[::ffff:127.0.0.1]:4000"}, 200, "admin"},
		{"zoned ipv6", "/notes", req{path: "/notes", key: "admin-key", remote: "[fe80::1%eth0]:4000"}, 403, ""},
		{"unparsable remote", "/notes", req{path: "/notes", key: "admin-key", remote: "@"}, 403, ""},
		{"endpoint keeps others out", "/admin", req{path: "/admin", key: "web-key"}, 403, ""},
		{"endpoint subtree", "/admin/users/[id]", req{path: "/admin/users/1", key: "web-key"}, 403, ""},
		{"endpoint allowed client", "/admin/users/[id]", req{path: "/admin/users/1", key: "admin-key"}, 200, "admin"},
		{"sibling not restricted", "/administer", req{path: "/administer", key: "web-key"}, 200, "web"},
		{"health is open", "", req{path: "/_minimi/health"}, 200, ""},
		{"ready is open", "", req{path: "/_minimi/ready/"}, 200, ""},
		{"routes need a key", "", req{path: "/_minimi/routes"}, 401, ""},
		{"plain OPTIONS needs a key", "/notes", req{method: "OPTIONS", path: "/notes"}, 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, ran := serve(t, g, tc.folder, tc.req.build())
			if rec.Code != tc.status {
				t.Fatalf("status=%d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if ran != (tc.status == 200) {
				t.Errorf("endpoint ran=%v, want %v", ran, tc.status == 200)
			}
			if got := rec.Header().Get("X-Client"); ran && got != tc.client {
				t.Errorf("ClientOf()=%q, want %q", got, tc.client)
			}
			if tc.status >= 400 {
				checkProblem(t, rec, tc.status)
			}
			if tc.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type=%q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", rec.Body, err)
	}
	if p["status"] != float64(status) || p["request_id"] != "rid-1" || p["title"] == "" || p["detail"] == "" {
		t.Errorf("problem=%v, want status %d, request_id rid-1, a title and a detail", p, status)
	}
}

func TestOrigins(t *testing.T) {
	cfg := testConfig()
	cfg.Clients, cfg.Endpoints = nil, nil
	g := newGuard(t, cfg)
	tests := []struct {
		name   string
		req    req
		status int
		acao   string
	}{
		{"no origin", req{path: "/notes"}, 200, ""},
		{"listed origin", req{path: "/notes", origin: app}, 200, app},
		{"listed origin with port", req{path: "/notes", origin: "http://localhost:5173"}, 200, "http://localhost:5173"},
		{"unlisted origin", req{path: "/notes", origin: "https://evil.example.com"}, 403, ""},
		{"origin differs in case", req{path: "/notes", origin: "https://APP.example.com"}, 403, ""},
		{"origin with a path", req{path: "/notes", origin: app + "/"}, 403, ""},
		{"null origin", req{path: "/notes", origin: "null"}, 403, ""},
		{"unlisted origin on health", req{path: "/_minimi/health", origin: "https://evil.example.com"}, 403, ""},
		{"unlisted preflight", req{method: "OPTIONS", path: "/notes", origin: "https://evil.example.com",
			header: map[string]string{"Access-Control-Request-Method": "POST"}}, 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, ran := serve(t, g, "/notes", tc.req.build())
			if rec.Code != tc.status || ran != (tc.status == 200) {
				t.Fatalf("status=%d ran=%v, want %d; body %s", rec.Code, ran, tc.status, rec.Body)
			}
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.acao {
				t.Errorf("Access-Control-Allow-Origin=%q, want %q", got, tc.acao)
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary=%q, want it to name Origin", h.Values("Vary"))
			}
			if tc.acao != "" && h.Get("Access-Control-Expose-Headers") != "X-Request-Id" {
				t.Errorf("Access-Control-Expose-Headers=%q, want X-Request-Id", h.Get("Access-Control-Expose-Headers"))
			}
			if tc.status == 403 {
				checkProblem(t, rec, 403)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	g := newGuard(t, testConfig()) // clients configured: a preflight needs no key
	tests := []struct {
		name      string
		requested string
		headers   string
	}{
		{"requested headers echoed", "x-client-key, content-type", "x-client-key, content-type"},
		{"no requested headers", "", defaultAllowHeaders},
		{"malformed names dropped", "x-ok, bad header, (x)", "x-ok"},
		{"only malformed", "a b", defaultAllowHeaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{"Access-Control-Request-Method": "POST"}
			if tc.requested != "" {
				hdr["Access-Control-Request-Headers"] = tc.requested
			}
			rec, ran := serve(t, g, "/admin", req{method: "OPTIONS", path: "/admin", origin: app, header: hdr}.build())
			if rec.Code != http.StatusNoContent || ran {
				t.Fatalf("preflight status=%d ran=%v, want 204 answered before the endpoint; %s", rec.Code, ran, rec.Body)
			}
			h := rec.Header()
			want := map[string]string{
				"Access-Control-Allow-Origin":  app,
				"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS, POST",
				"Access-Control-Allow-Headers": tc.headers,
				"Access-Control-Max-Age":       "600",
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary=%q, want it to name Origin", h.Values("Vary"))
			}
		})
	}
}

func TestNothingConfigured(t *testing.T) {
	g, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rec, ran := serve(t, g, "/notes", req{path: "/notes"}.build())
	if rec.Code != 200 || !ran || rec.Header().Get("Vary") != "" {
		t.Errorf("status=%d ran=%v Vary=%q, want 200, ran, no Vary", rec.Code, ran, rec.Header().Get("Vary"))
	}
	rec, _ = serve(t, g, "/notes", req{path: "/notes", origin: app}.build())
	if rec.Code != 403 {
		t.Errorf("cross-origin with an empty whitelist: status=%d, want 403", rec.Code)
	}
}

func TestCheckEndpointWithoutGuard(t *testing.T) {
	rec := httptest.NewRecorder()
	if !CheckEndpoint(rec, httptest.NewRequest("GET", "/x", nil), "/x", nil, nil) {
		t.Errorf("CheckEndpoint() without a Guard=false, want true")
	}
	if got := ClientOf(t.Context()); got != "" {
		t.Errorf("ClientOf(empty context)=%q, want empty", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"defaults", DefaultOptions(), nil},
		{"origin with path", Options{Whitelist: []string{"https://a.example/x"}}, ErrBadOrigin},
		{"bare host", Options{Whitelist: []string{"a.example"}}, ErrBadOrigin},
		{"short hash", Options{Clients: map[string]Client{"a": {KeySHA256: "abcd"}}}, ErrBadKeyHash},
		{"not hex", Options{Clients: map[string]Client{"a": {KeySHA256: strings.Repeat("z", 64)}}}, ErrBadKeyHash},
		{"bad cidr", Options{Clients: map[string]Client{"a": {KeySHA256: sum("k"), CIDRs: []string{"10.0.0.0/99"}}}}, ErrBadCIDR},
		{"cidr with host bits", Options{Clients: map[string]Client{"a": {KeySHA256: sum("k"), CIDRs: []string{"10.0.0.1/8"}}}}, ErrBadCIDR},
		{"good", Options{Whitelist: []string{app}, Clients: map[string]Client{"a": {KeySHA256: sum("k"), CIDRs: []string{"10.0.0.0/8", "10.0.0.1/32"}}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Validate()=%v, want %v", err, tc.want)
			}
			if _, nerr := New(tc.opts); (nerr == nil) != (err == nil) {
				t.Errorf("New()=%v, want the Validate error %v", nerr, err)
			}
		})
	}
}

func BenchmarkClientKey(b *testing.B) {
	g, err := New(FromConfig(testConfig()))
	if err != nil {
		b.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		CheckEndpoint(w, r, "/notes", nil, nil)
	})
	h := g.Handler(next)
	r := req{path: "/notes", key: "admin-key", origin: app}.build()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}
