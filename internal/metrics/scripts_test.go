package metrics_test

import (
	"net/http"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/minimi-go/minimi/internal/metrics"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/router"
)

var testPhases = []string{"load", "access", "execute"}

// scriptTree has a route for each way a request's scripts can end.
var scriptTree = map[string]string{
	"endpoint.load.lua":             `return { routes = function() return { ["/*"] = function(req) req.state.n = 1 end } end }`,
	"ok/ok.access.lua":              `return { GET = function(req) req.state.n = req.state.n + 1 end }`,
	"ok/ok.execute.lua":             `return { GET = function(req, res) res:json({ n = req.state.n }) end }`,
	"early/early.load.lua":          `return { GET = function(req, res) res:send("early") end }`,
	"early/early.execute.lua":       `return { GET = function(req, res) res:send("late") end }`,
	"boom/boom.execute.lua":         `return { GET = function() error("boom") end }`,
	"conflict/conflict.execute.lua": `return { GET = function() error({ status = 409, detail = "taken" }) end }`,
	"spin/spin.execute.lua":         `return { GET = function() while true do end end }`,
	"grow/grow.execute.lua":         `return { GET = function(req, res) local t = {} for i = 1, 20000000 do t[i] = { i } end res:json({ n = #t }) end }`,
}

func loadEngine(t *testing.T, obs phases.Observer, opts phases.Options) *phases.Engine {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range scriptTree {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	table, err := router.Walk(fsys, testPhases)
	if err != nil {
		t.Fatalf("Walk()=%v", err)
	}
	opts.Phases, opts.Endpoints, opts.Observer = testPhases, fsys, obs
	e, err := phases.Load(table, opts)
	if err != nil {
		t.Fatalf("Load()=%v", err)
	}
	t.Cleanup(e.Close)
	return e
}

func get(t *testing.T, e *phases.Engine, url string) error {
	t.Helper()
	f := e.Table().Lookup(url)
	if f == nil {
		t.Fatalf("Lookup(%q)=nil", url)
	}
	_, err := e.Run(t.Context(), &phases.Call{Folder: f, Method: http.MethodGet, Path: url, Header: http.Header{}, ID: "t"})
	return err
}

func TestPhaseDurations(t *testing.T) {
	m := newMetrics(t)
	e := loadEngine(t, m, phases.Options{ScriptTimeout: time.Minute})
	for _, url := range []string{"/ok", "/ok", "/early", "/boom", "/conflict"} {
		_ = get(t, e, url)
	}
	tests := []struct {
		route, phase string
		want         float64 // observations; 0 means no series
	}{
		{"/ok", "load", 2}, {"/ok", "access", 2}, {"/ok", "execute", 2},
		{"/early", "load", 1}, {"/early", "execute", 0}, // finished in load
		{"/boom", "load", 1}, {"/boom", "access", 0}, {"/boom", "execute", 1}, // no access handler; the failed phase counts
		{"/conflict", "execute", 1},
	}
	for _, tc := range tests {
		t.Run(tc.route+" "+tc.phase, func(t *testing.T) {
			got, ok := sample(t, m.Gatherer(), "minimi_phase_duration_seconds", "route", tc.route, "phase", tc.phase)
			if got != tc.want || ok != (tc.want > 0) {
				t.Errorf("phase_duration_seconds count=%v (series %v), want %v", got, ok, tc.want)
			}
		})
	}
}

func TestScriptFailures(t *testing.T) {
	m := newMetrics(t)
	e := loadEngine(t, m, phases.Options{ScriptTimeout: 100 * time.Millisecond})
	for _, url := range []string{"/ok", "/boom", "/boom", "/conflict", "/spin"} {
		_ = get(t, e, url)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// A heap limit a little above the current heap stops /grow long before its loop ends.
	big := loadEngine(t, m, phases.Options{ScriptTimeout: time.Minute, HeapLimit: ms.HeapAlloc + 48<<20})
	if err := get(t, big, "/grow"); err == nil {
		t.Fatalf("GET /grow=nil, want a memory stop")
	}
	tests := []struct {
		route, reason string
		want          float64 // 0 means no series
	}{
		{"/boom", "error", 2},
		{"/spin", "timeout", 1},
		{"/grow", "memory", 1},
		{"/conflict", "error", 0}, // error{status = 409} is an answer, not a failure
		{"/ok", "error", 0},
	}
	for _, tc := range tests {
		t.Run(tc.route+" "+tc.reason, func(t *testing.T) {
			got, ok := sample(t, m.Gatherer(), "minimi_script_failures_total", "route", tc.route, "reason", tc.reason)
			if got != tc.want || ok != (tc.want > 0) {
				t.Errorf("script_failures_total=%v (series %v), want %v", got, ok, tc.want)
			}
		})
	}
	if got := series(t, m.Gatherer(), "minimi_script_failures_total"); len(got) != 3 {
		t.Errorf("script_failures_total series=%v, want 3", got)
	}
}

func TestRouteObserverIgnoresUnknownIndexes(t *testing.T) {
	m := newMetrics(t)
	ro := m.Route("/x", testPhases)
	ro.Phase(-1, time.Millisecond)
	ro.Phase(len(testPhases), time.Millisecond)
	ro.Fail(phases.Failure(99))
	for _, name := range []string{"minimi_phase_duration_seconds", "minimi_script_failures_total"} {
		if got := series(t, m.Gatherer(), name); len(got) != 0 {
			t.Errorf("%s=%v, want no series", name, got)
		}
	}
}

func TestRouteObserverDoesNotAllocate(t *testing.T) {
	m := newMetrics(t)
	ro := m.Route("/x", testPhases)
	ro.Phase(0, time.Millisecond)
	ro.Fail(phases.FailError)
	if n := testing.AllocsPerRun(100, func() { ro.Phase(0, time.Millisecond); ro.Fail(phases.FailError) }); n != 0 {
		t.Errorf("Phase and Fail allocate %v times per call, want 0", n)
	}
}

var _ phases.Observer = (*metrics.Metrics)(nil)

// BenchmarkRouteObserverPhase is the cost of timing one phase.
func BenchmarkRouteObserverPhase(b *testing.B) {
	m := newMetrics(b)
	ro := m.Route("/notes/[id]", testPhases)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ro.Phase(1, time.Millisecond)
		}
	})
}
