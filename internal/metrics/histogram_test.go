package metrics

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gatherOne registers c alone and returns its only metric family.
func gatherOne(t *testing.T, c prometheus.Collector) *dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatalf("Register()=%v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather()=%v", err)
	}
	if len(mfs) != 1 {
		t.Fatalf("Gather() returned %d families, want 1", len(mfs))
	}
	return mfs[0]
}

// TestHistogramVecLikePrometheus observes the same durations into a
// histogramVec and a prometheus.HistogramVec and compares what a scrape sees.
func TestHistogramVecLikePrometheus(t *testing.T) {
	bounds := []float64{0.0001, 0.001, 0.0025, 1}
	ours := newHistogramVec("x_seconds", "help", bounds, "route", "phase")
	theirs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "x_seconds", Help: "help", Buckets: bounds},
		[]string{"route", "phase"})
	observations := map[[2]string][]time.Duration{
		{"/a", "load"}: {0, 50 * time.Microsecond, 100 * time.Microsecond, 101 * time.Microsecond, time.Millisecond,
			2500 * time.Microsecond, time.Second, 3 * time.Second},
		{"/a", "execute"}: {time.Nanosecond},
		{"/b", "load"}:    {2 * time.Hour, 999 * time.Microsecond},
	}
	for labels, ds := range observations {
		h := ours.With(labels[0], labels[1])
		for _, d := range ds {
			h.Observe(d)
			theirs.WithLabelValues(labels[0], labels[1]).Observe(d.Seconds())
		}
	}
	a, b := gatherOne(t, ours), gatherOne(t, theirs)
	if a.GetName() != b.GetName() || a.GetHelp() != b.GetHelp() || a.GetType() != b.GetType() {
		t.Fatalf("family %s %q %v, want %s %q %v", a.GetName(), a.GetHelp(), a.GetType(), b.GetName(), b.GetHelp(), b.GetType())
	}
	if len(a.GetMetric()) != len(b.GetMetric()) {
		t.Fatalf("%d series, want %d", len(a.GetMetric()), len(b.GetMetric()))
	}
	for i, m := range a.GetMetric() {
		want := b.GetMetric()[i] // both are sorted by labels
		if got, wantL := labelString(m), labelString(want); got != wantL {
			t.Fatalf("series %d labels %s, want %s", i, got, wantL)
		}
		ha, hb := m.GetHistogram(), want.GetHistogram()
		if ha.GetSampleCount() != hb.GetSampleCount() {
			t.Errorf("%s count %d, want %d", labelString(m), ha.GetSampleCount(), hb.GetSampleCount())
		}
		if math.Abs(ha.GetSampleSum()-hb.GetSampleSum()) > 1e-9 {
			t.Errorf("%s sum %v, want %v", labelString(m), ha.GetSampleSum(), hb.GetSampleSum())
		}
		if len(ha.GetBucket()) != len(hb.GetBucket()) {
			t.Fatalf("%s has %d buckets, want %d", labelString(m), len(ha.GetBucket()), len(hb.GetBucket()))
		}
		for j, bk := range ha.GetBucket() {
			wb := hb.GetBucket()[j]
			if bk.GetUpperBound() != wb.GetUpperBound() || bk.GetCumulativeCount() != wb.GetCumulativeCount() {
				t.Errorf("%s bucket le=%v count %d, want le=%v count %d", labelString(m),
					bk.GetUpperBound(), bk.GetCumulativeCount(), wb.GetUpperBound(), wb.GetCumulativeCount())
			}
		}
	}
}

func labelString(m *dto.Metric) string {
	s := ""
	for _, lp := range m.GetLabel() {
		s += lp.GetName() + "=" + lp.GetValue() + ","
	}
	return s
}

func TestHistogramConcurrentObservations(t *testing.T) {
	v := newHistogramVec("y_seconds", "help", DefaultBuckets, "route")
	const goroutines, each = 8, 5000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			h := v.With("/r") // resolving races too
			for i := range each {
				h.Observe(time.Duration(g*each+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	count, sum, cumulative := v.With("/r").snapshot()
	if count != goroutines*each {
		t.Fatalf("count %d, want %d", count, goroutines*each)
	}
	n := goroutines * each
	wantSum := float64(n-1) * float64(n) / 2 * 1e-6 // 0 µs + 1 µs + … + (n-1) µs
	if math.Abs(sum-wantSum) > 1e-6 {
		t.Fatalf("sum %v, want %v", sum, wantSum)
	}
	// 0…100 µs: 101 observations; ≤ 10 s: all of them.
	if cumulative[0] != 101 || cumulative[len(cumulative)-1] != uint64(n) {
		t.Fatalf("cumulative %v", cumulative)
	}
}

// TestHistogramBounds checks that each bound splits durations where
// Prometheus's float comparison does.
func TestHistogramBounds(t *testing.T) {
	for _, b := range append([]float64{1e-9, 0.3, 0.1 + 0.2, 7.7, 9e9}, DefaultBuckets...) {
		d := durationWithin(b)
		if d.Seconds() > b || (d+1).Seconds() <= b {
			t.Errorf("durationWithin(%v)=%v: %v within, %v beyond", b, d, d.Seconds() <= b, (d+1).Seconds() > b)
		}
	}
}

// TestHistogramHugeBounds: bounds past what a time.Duration holds take
// every duration.
func TestHistogramHugeBounds(t *testing.T) {
	for _, b := range []float64{1e10, 1e12, math.MaxFloat64} {
		if d := durationWithin(b); d != math.MaxInt64 {
			t.Errorf("durationWithin(%v)=%v, want the longest duration", b, d)
		}
	}
	h := newHistogramVec("h_seconds", "help", []float64{0.1, 1e10}, "route").With("/r")
	h.Observe(time.Duration(math.MaxInt64))
	if count, _, cumulative := h.snapshot(); count != 1 || cumulative[1] != 1 {
		t.Errorf("count %d, cumulative %v: the longest duration is not within 1e10 s", count, cumulative)
	}
}

func TestStripesFor(t *testing.T) {
	for procs, want := range map[int]int{1: 2, 2: 4, 3: 8, 4: 8, 64: maxStripes} {
		if got := stripesFor(procs); got != want {
			t.Errorf("stripesFor(%d)=%d, want %d", procs, got, want)
		}
	}
}

// BenchmarkHistogramObserve compares an observation of a histogramVec child
// with one of a prometheus.Histogram, from every core at once.
func BenchmarkHistogramObserve(b *testing.B) {
	b.Run("striped", func(b *testing.B) {
		h := newHistogramVec("z_seconds", "help", DefaultBuckets, "route").With("/r")
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Observe(300 * time.Microsecond)
			}
		})
	})
	b.Run("prometheus", func(b *testing.B) {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "z_seconds", Help: "help", Buckets: DefaultBuckets})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Observe((300 * time.Microsecond).Seconds())
			}
		})
	})
}
