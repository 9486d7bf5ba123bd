package metrics_test

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRequestsObserve(t *testing.T) {
	m := newMetrics(t)
	item, missing := m.Requests("/notes/[id]"), m.Requests("404")
	for _, o := range []struct {
		method string
		status int
		n      int
	}{
		{"GET", 200, 3}, {"GET", 404, 1}, {"POST", 201, 2}, {"DELETE", 0, 1}, {"BREW", 418, 2}, {"get", 200, 1},
	} {
		for range o.n {
			item.Observe(o.method, o.status, time.Millisecond)
		}
	}
	missing.Observe("GET", 404, time.Millisecond)
	tests := []struct {
		route, method, status string
		want                  float64
	}{
		{"/notes/[id]", "GET", "200", 3},
		{"/notes/[id]", "GET", "404", 1},
		{"/notes/[id]", "POST", "201", 2},
		{"/notes/[id]", "DELETE", "200", 1}, // nothing written is a 200
		{"/notes/[id]", "OTHER", "418", 2},  // a made-up method
		{"/notes/[id]", "OTHER", "200", 1},  // methods are case-sensitive
		{"404", "GET", "404", 1},
	}
	for _, tc := range tests {
		t.Run(tc.route+" "+tc.method+" "+tc.status, func(t *testing.T) {
			got, _ := sample(t, m.Gatherer(), "minimi_http_requests_total", "route", tc.route, "method", tc.method, "status", tc.status)
			if got != tc.want {
				t.Errorf("requests_total=%v, want %v", got, tc.want)
			}
		})
	}
	if got, _ := sample(t, m.Gatherer(), "minimi_http_request_duration_seconds", "route", "/notes/[id]", "method", "GET"); got != 4 {
		t.Errorf("duration count of GET /notes/[id]=%v, want 4", got)
	}
	if got := len(series(t, m.Gatherer(), "minimi_http_requests_total")); got != 7 {
		t.Errorf("requests_total has %d series, want 7: %v", got, series(t, m.Gatherer(), "minimi_http_requests_total"))
	}
}

func TestRequestsSeriesAppearOnUse(t *testing.T) {
	m := newMetrics(t)
	_ = m.Requests("/quiet")
	for _, name := range []string{"minimi_http_requests_total", "minimi_http_request_duration_seconds"} {
		if got := series(t, m.Gatherer(), name); len(got) != 0 {
			t.Errorf("%s=%v before any request, want no series", name, got)
		}
	}
}

func TestRequestsConcurrent(t *testing.T) {
	m := newMetrics(t)
	// Two handlers of one route (a reload) share its series.
	a, b := m.Requests("/x"), m.Requests("/x")
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rq := a
			if w%2 == 1 {
				rq = b
			}
			for i := range each {
				rq.Observe("GET", 200+i%5, time.Microsecond)
			}
		})
	}
	wg.Wait()
	total := 0.0
	for s := 200; s < 205; s++ {
		got, _ := sample(t, m.Gatherer(), "minimi_http_requests_total", "route", "/x", "method", "GET", "status", fmt.Sprint(s))
		if got != workers*each/5 {
			t.Errorf("status %d: requests_total=%v, want %v", s, got, workers*each/5)
		}
		total += got
	}
	if total != workers*each {
		t.Errorf("requests_total=%v in all, want %v", total, workers*each)
	}
}

func TestRequestsObserveDoesNotAllocate(t *testing.T) {
	m := newMetrics(t)
	rq := m.Requests("/x")
	for _, s := range []int{200, 201, 404, 500} {
		rq.Observe("GET", s, time.Millisecond)
	}
	if n := testing.AllocsPerRun(100, func() { rq.Observe("GET", 500, time.Millisecond) }); n != 0 {
		t.Errorf("Observe allocates %v times per call, want 0", n)
	}
}

// BenchmarkRequestsObserve is the cost a request pays for its series.
func BenchmarkRequestsObserve(b *testing.B) {
	m := newMetrics(b)
	rq := m.Requests("/notes/[id]")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rq.Observe("GET", 200, time.Millisecond)
		}
	})
}
