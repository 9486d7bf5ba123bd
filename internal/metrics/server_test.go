package metrics_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/metrics"
	"github.com/minimi-go/minimi/internal/server"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// site is a service with a URL per kind of answer.
var site = map[string]string{
	"endpoints/endpoint.load.lua":           `return { routes = function() return { ["/*"] = function(req) req.state.n = 1 end } end }`,
	"endpoints/bench/bench.access.lua":      `return { GET = function(req) req.state.n = req.state.n + 1 end }`,
	"endpoints/bench/bench.execute.lua":     `return { GET = function(req, res) res:json({ n = req.state.n }) end }`,
	"endpoints/items/[id]/[id].execute.lua": `return { GET = function(req, res) res:json({ id = req.params.id }) end }`,
	"endpoints/fail/fail.execute.lua":       `return { GET = function() error("hidden") end }`,
}

// serve runs the site with metrics over httptest.
func serve(t *testing.T, cfg *config.Config) (*httptest.Server, *metrics.Metrics) {
	t.Helper()
	m := newMetrics(t)
	ts := httptest.NewServer(newServer(t, cfg, m))
	t.Cleanup(ts.Close)
	return ts, m
}

// newServer is a server of the site; m nil leaves metrics off.
func newServer(t testing.TB, cfg *config.Config, m *metrics.Metrics) *server.Server {
	t.Helper()
	if cfg == nil {
		cfg = config.DefaultConfig()
	}
	opts := server.SiteOptions{}
	if m != nil {
		opts.Observer = m
	}
	st, err := server.LoadSite(writeTree(t, site), cfg, opts)
	if err != nil {
		t.Fatalf("LoadSite()=%v", err)
	}
	t.Cleanup(st.Close)
	srv, err := server.New(server.Options{Site: st, Metrics: m})
	if err != nil {
		t.Fatalf("server.New()=%v", err)
	}
	return srv
}

func call(t *testing.T, method, url string, header ...string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type requestCount struct {
	route, method, status string
	want                  float64
}

func checkRequests(t *testing.T, m *metrics.Metrics, tests []requestCount) {
	t.Helper()
	for _, tc := range tests {
		got, _ := sample(t, m.Gatherer(), "minimi_http_requests_total", "route", tc.route, "method", tc.method, "status", tc.status)
		if got != tc.want {
			t.Errorf("requests_total{route=%q,method=%q,status=%q}=%v, want %v", tc.route, tc.method, tc.status, got, tc.want)
		}
	}
}

func TestServerCountsByRoute(t *testing.T) {
	ts, m := serve(t, nil)
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/bench", 200}, {"GET", "/bench", 200}, {"GET", "/bench/", 200},
		{"HEAD", "/bench", 200}, {"POST", "/bench", 405}, {"OPTIONS", "/bench", 204},
		{"GET", "/items/a", 200}, {"GET", "/items/b", 200},
		{"GET", "/fail", 500},
		{"GET", "/nope", 404}, {"GET", "/items", 404}, {"DELETE", "/x/y/z", 404},
		{"GET", "/_minimi/health", 200}, {"POST", "/_minimi/health", 405},
	} {
		if got := call(t, r.method, ts.URL+r.path); got != r.status {
			t.Fatalf("%s %s=%d, want %d", r.method, r.path, got, r.status)
		}
	}
	checkRequests(t, m, []requestCount{
		{"/bench", "GET", "200", 3}, {"/bench", "HEAD", "200", 1}, {"/bench", "POST", "405", 1}, {"/bench", "OPTIONS", "204", 1},
		{"/items/[id]", "GET", "200", 2},
		{"/fail", "GET", "500", 1},
		{"404", "GET", "404", 2}, {"404", "DELETE", "404", 1},
		{"/_minimi/health", "GET", "200", 1}, {"/_minimi/health", "POST", "405", 1},
	})
	for _, s := range series(t, m.Gatherer(), "minimi_http_requests_total") {
		if strings.Contains(s, "route=/items/a") || strings.Contains(s, "route=/nope") {
			t.Errorf("series %s has a raw path for a route", s)
		}
	}
	if got, _ := sample(t, m.Gatherer(), "minimi_phase_duration_seconds", "route", "/bench", "phase", "access"); got != 4 {
		t.Errorf("phase_duration_seconds{route=/bench,phase=access} count=%v, want 4 (3 GET, 1 HEAD)", got)
	}
	if got, _ := sample(t, m.Gatherer(), "minimi_script_failures_total", "route", "/fail", "reason", "error"); got != 1 {
		t.Errorf("script_failures_total{route=/fail,reason=error}=%v, want 1", got)
	}
}

func TestServerCountsRefusedRequests(t *testing.T) {
	key := "k-0123456789"
	sum := sha256.Sum256([]byte(key))
	cfg := config.DefaultConfig()
	cfg.Clients = map[string]config.Client{"web": {KeySHA256: hex.EncodeToString(sum[:])}}
	ts, m := serve(t, cfg)
	call(t, "GET", ts.URL+"/bench")                      // refused before routing
	call(t, "GET", ts.URL+"/items/7/")                   // refused before routing, trailing slash
	call(t, "GET", ts.URL+"/nope")                       // refused, no such URL
	call(t, "GET", ts.URL+"/bench", "X-Client-Key", key) // allowed
	call(t, "GET", ts.URL+"/_minimi/health")             // open path
	checkRequests(t, m, []requestCount{
		{"/bench", "GET", "401", 1}, {"/items/[id]", "GET", "401", 1}, {"404", "GET", "401", 1},
		{"/bench", "GET", "200", 1}, {"/_minimi/health", "GET", "200", 1},
	})
}

func TestServerServesMetrics(t *testing.T) {
	ts, _ := serve(t, nil)
	call(t, "GET", ts.URL+"/bench")
	resp, err := http.Get(ts.URL + "/_minimi/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /_minimi/metrics=%d, want 200", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("TextToMetricFamilies()=%v", err)
	}
	for _, name := range []string{"minimi_http_requests_total", "minimi_http_request_duration_seconds",
		"minimi_phase_duration_seconds", "go_goroutines", "process_start_time_seconds"} {
		if families[name] == nil {
			t.Errorf("the scrape lacks %s", name)
		}
	}
}

// TestServerLogAgreesWithMetrics: the request log names the route of a
// request as the metrics label it, also for the built-ins' 404s and 405s: a
// path no route serves is "404" in both, wherever it is, and a built-in's
// 405 is the built-in's. No series takes the path asked for.
func TestServerLogAgreesWithMetrics(t *testing.T) {
	m := newMetrics(t)
	st, err := server.LoadSite(writeTree(t, site), config.DefaultConfig(), server.SiteOptions{Observer: m})
	if err != nil {
		t.Fatalf("LoadSite()=%v", err)
	}
	t.Cleanup(st.Close)
	var logs syncbuf.Buffer
	srv, err := server.New(server.Options{Site: st, Metrics: m, AccessLog: &logs})
	if err != nil {
		t.Fatalf("server.New()=%v", err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tests := []struct {
		method, path string
		status       int
		route        string // in the log and in the metrics
	}{
		{"GET", "/_minimi/nope", 404, metrics.NotFoundRoute},
		{"PURGE", "/_minimi/nope", 404, metrics.NotFoundRoute},
		{"GET", "/_minimi/health/x", 404, metrics.NotFoundRoute},
		{"GET", "/_minimi/", 404, metrics.NotFoundRoute},
		{"GET", "/nope", 404, metrics.NotFoundRoute},
		{"POST", "/_minimi/health", 405, "/_minimi/health"},
		{"DELETE", "/_minimi/metrics", 405, "/_minimi/metrics"},
		{"GET", "/_minimi/health", 200, "/_minimi/health"},
		{"GET", "/items/42", 200, "/items/[id]"},
		{"DELETE", "/items/42", 405, "/items/[id]"},
	}
	for _, tc := range tests {
		if got := call(t, tc.method, ts.URL+tc.path); got != tc.status {
			t.Fatalf("%s %s=%d, want %d", tc.method, tc.path, got, tc.status)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		var line struct{ Route string }
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil || line.Route != tc.route {
			t.Errorf("%s %s: log route %q (%v), want %q", tc.method, tc.path, line.Route, err, tc.route)
		}
	}
	resp, err := http.Get(ts.URL + "/_minimi/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("TextToMetricFamilies()=%v", err)
	}
	requests := families["minimi_http_requests_total"].GetMetric()
	for _, tc := range tests {
		method := tc.method
		if method == "PURGE" {
			method = "OTHER"
		}
		if !slices.ContainsFunc(requests, func(s *dto.Metric) bool {
			return hasLabels(s, []string{"route", tc.route, "method", method, "status", strconv.Itoa(tc.status)})
		}) {
			t.Errorf("%s %s: the scrape has no minimi_http_requests_total{route=%q,method=%q,status=\"%d\"}",
				tc.method, tc.path, tc.route, method, tc.status)
		}
	}
	for _, s := range requests {
		if hasLabels(s, []string{"route", "/_minimi/nope"}) || hasLabels(s, []string{"route", "/_minimi/health/x"}) {
			t.Errorf("series %v has a path asked for as its route", s.GetLabel())
		}
	}
}

func TestServerWithoutMetrics(t *testing.T) {
	srv := newServer(t, nil, nil)
	for path, want := range map[string]int{"/bench": 200, "/_minimi/metrics": 404} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s=%d, want %d", path, rec.Code, want)
		}
	}
}

// BenchmarkThreePhaseGET is the server package's benchmark of the same name
// (one Lua handler in each of three phases, through the whole HTTP handler)
// with metrics off and on: the difference is what metrics cost a request.
func BenchmarkThreePhaseGET(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			var m *metrics.Metrics
			if on {
				m = newMetrics(b)
			}
			srv := newServer(b, nil, m)
			req := httptest.NewRequest("GET", "/bench", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					srv.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		})
	}
}
