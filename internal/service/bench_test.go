package service_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/service"
)

// latencies collects the duration of each round trip of a benchmark.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// report adds calls/s and the p50 and p99 round trip, in microseconds.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(q float64) float64 { return float64(l.d[int(q*float64(len(l.d)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "calls/s")
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkServiceCall measures round trips to service b's /ping through
// its whole pipeline over an embedded NATS server: from Go with
// Client.Call, and from Lua with service.call in service a's /ping (which
// adds a's own pipeline, run in memory without HTTP).
func BenchmarkServiceCall(b *testing.B) {
	ns := runNATS(b)
	start(b, connect(b, ns), "testdata/b", nil)
	a := start(b, connect(b, ns), "testdata/a", nil)
	client := service.NewClient(connect(b, ns))
	goCall := func(b *testing.B) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		rep, err := client.Call(ctx, service.Call{Service: "b", Path: "/ping"})
		if err != nil || rep.Status != http.StatusOK {
			b.Fatalf("Call()=%v, %v", rep, err)
		}
	}
	luaCall := func(b *testing.B) {
		w := httptest.NewRecorder()
		a.srv.ServeHTTP(w, httptest.NewRequest("GET", "/ping", nil))
		if w.Code != http.StatusOK {
			b.Fatalf("GET /ping on a=%d %s", w.Code, w.Body)
		}
	}
	for _, bc := range []struct {
		name     string
		call     func(b *testing.B)
		parallel bool
	}{
		{"go", goCall, false},
		{"lua", luaCall, false},
		{"lua-parallel", luaCall, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var lat latencies
			one := func() {
				t0 := time.Now()
				bc.call(b)
				lat.add(time.Since(t0))
			}
			b.ReportAllocs()
			b.ResetTimer()
			t0 := time.Now()
			if bc.parallel {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						one()
					}
				})
			} else {
				for b.Loop() {
					one()
				}
			}
			lat.report(b, time.Since(t0))
		})
	}
}
