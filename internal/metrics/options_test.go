package metrics_test

import (
	"errors"
	"math"
	"testing"

	"github.com/minimi-go/minimi/internal/metrics"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
		ok      bool
	}{
		{"default", metrics.DefaultBuckets, true},
		{"nil means default", nil, true},
		{"one bucket", []float64{1}, true},
		{"zero", []float64{0, 1}, false},
		{"negative", []float64{-1}, false},
		{"NaN", []float64{math.NaN()}, false},
		{"infinite", []float64{1, math.Inf(1)}, false},
		{"not increasing", []float64{0.1, 0.1}, false},
		{"decreasing", []float64{1, 0.5}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := metrics.DefaultOptions()
			opts.Buckets = tc.buckets
			err := opts.Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, metrics.ErrInvalidOptions)) {
				t.Errorf("Validate()=%v, want ok=%v", err, tc.ok)
			}
			if _, err := metrics.New(opts); (err == nil) != tc.ok {
				t.Errorf("New()=%v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestDefaultOptionsCopiesBuckets(t *testing.T) {
	opts := metrics.DefaultOptions()
	opts.Buckets[0] = 42
	if metrics.DefaultBuckets[0] == 42 {
		t.Errorf("DefaultOptions().Buckets aliases DefaultBuckets")
	}
}
