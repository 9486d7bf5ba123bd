package metrics

import (
	"fmt"
	"log/slog"
	"math"
)

// DefaultBuckets are the upper bounds, in seconds, of the latency
// histograms: from 100µs (a request that runs a few small scripts) to 10s
// (the default request limit).
var DefaultBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

// Options configures New.
type Options struct {
	// Buckets are the upper bounds, in seconds and increasing, of the request
	// and phase latency histograms; nil means DefaultBuckets.
	Buckets []float64
	// Logger receives the errors of a scrape; nil means discard.
	Logger *slog.Logger
}

// DefaultOptions returns the options New uses for zero fields.
func DefaultOptions() Options {
	return Options{Buckets: append([]float64(nil), DefaultBuckets...)}
}

// Validate reports the first problem with o.
func (o Options) Validate() error {
	for i, b := range o.Buckets {
		switch {
		case math.IsNaN(b) || math.IsInf(b, 0) || b <= 0:
			return fmt.Errorf("%w: bucket %v is not a positive number of seconds", ErrInvalidOptions, b)
		case i > 0 && b <= o.Buckets[i-1]:
			return fmt.Errorf("%w: bucket %v does not increase on %v", ErrInvalidOptions, b, o.Buckets[i-1])
		}
	}
	return nil
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.Buckets == nil {
		o.Buckets = DefaultBuckets
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
