package metrics

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// histogramVec is a vector of latency histograms with the exposition of a
// prometheus.HistogramVec. Its children spread their observations over a few
// stripes of counters, picked at random, and add the stripes up at scrape
// time: every request observes its route's histograms, and with one set of
// counters per series the cores of a busy server would take turns owning the
// same cache lines. Observations are time.Durations and sums are kept in
// nanoseconds, so that an observation is two uncontended atomic adds.
type histogramVec struct {
	desc    *prometheus.Desc
	bounds  []float64       // upper bounds, in seconds
	limits  []time.Duration // the longest duration within each bound
	stripes int             // a power of two

	mu       sync.Mutex
	children map[string]*histogram // by label values joined with '\xff'
	order    []*histogram          // in the order of creation, for Collect
}

var _ prometheus.Collector = (*histogramVec)(nil)

// maxStripes bounds the memory of one series on machines with many cores:
// with the 16 default buckets a stripe takes 256 bytes.
const maxStripes = 8

// newHistogramVec returns a vector of histograms named name with the given
// upper bounds in seconds (validated by Options.Validate) and label names.
func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	v := &histogramVec{
		desc:     prometheus.NewDesc(name, help, labels, nil),
		bounds:   slices.Clone(bounds),
		limits:   make([]time.Duration, len(bounds)),
		stripes:  stripesFor(runtime.GOMAXPROCS(0)),
		children: make(map[string]*histogram),
	}
	for i, b := range bounds {
		v.limits[i] = durationWithin(b)
	}
	return v
}

// durationWithin is the longest duration d with d.Seconds() <= b, so that
// comparing durations puts an observation in the bucket Prometheus would.
func durationWithin(b float64) time.Duration {
	if b*1e9 >= math.MaxInt64 { // about 292 years: every duration is within
		return math.MaxInt64
	}
	d := time.Duration(math.Floor(b * 1e9))
	for (d + 1).Seconds() <= b {
		d++
	}
	for d > 0 && d.Seconds() > b {
		d--
	}
	return d
}

// stripesFor is the number of stripes for procs cores: twice as many, so
// that two observations at the same moment seldom meet, as a power of two.
func stripesFor(procs int) int {
	n := 1
	for n < 2*procs && n < maxStripes {
		n *= 2
	}
	return n
}

// With returns the child for the label values, making it on first use.
// Callers resolve a child once and keep it; this takes a lock.
func (v *histogramVec) With(values ...string) *histogram {
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if h, ok := v.children[key]; ok {
		return h
	}
	// Each stripe is its own run of words: a count per bucket (the last
	// for +Inf), then the sum, then at least a cache line of padding, so
	// that the words two stripes use never share a line.
	width := (len(v.limits)+2+7)&^7 + 8
	h := &histogram{limits: v.limits, values: slices.Clone(values), width: width, mask: uint32(v.stripes - 1),
		words: make([]atomic.Uint64, width*v.stripes)}
	v.children[key] = h
	v.order = append(v.order, h)
	return h
}

// Describe implements prometheus.Collector.
func (v *histogramVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// Collect implements prometheus.Collector.
func (v *histogramVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	children := slices.Clone(v.order)
	v.mu.Unlock()
	for _, h := range children {
		count, sum, cumulative := h.snapshot()
		buckets := make(map[float64]uint64, len(v.bounds))
		for i, b := range v.bounds {
			buckets[b] = cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(v.desc, count, sum, buckets, h.values...)
	}
}

// histogram is one series of a histogramVec.
type histogram struct {
	limits []time.Duration
	values []string
	width  int    // words per stripe
	mask   uint32 // stripes - 1
	words  []atomic.Uint64
}

// Observe counts one observation of d.
func (h *histogram) Observe(d time.Duration) {
	i := 0
	for i < len(h.limits) && d > h.limits[i] {
		i++
	}
	s := h.words[int(rand.Uint32()&h.mask)*h.width:]
	s[i].Add(1)
	if d > 0 {
		s[len(h.limits)+1].Add(uint64(d))
	}
}

// snapshot adds the stripes up: the count, the sum in seconds and the
// cumulative count of each finite bucket. The count is the sum of the
// buckets, so the two always agree; the sum may miss observations made
// while it was read.
func (h *histogram) snapshot() (count uint64, sum float64, cumulative []uint64) {
	n := len(h.limits)
	perBucket := make([]uint64, n+1)
	var ns uint64
	for s := 0; s+h.width <= len(h.words); s += h.width {
		for i := range perBucket {
			perBucket[i] += h.words[s+i].Load()
		}
		ns += h.words[s+n+1].Load()
	}
	cumulative = make([]uint64, n)
	for i := range perBucket {
		count += perBucket[i]
		if i < n {
			cumulative[i] = count
		}
	}
	return count, float64(ns) / 1e9, cumulative
}
