package eventsource

import (
	"errors"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"default", DefaultOptions(), nil},
		{"zero but a service", Options{Service: "s"}, nil},
		{"no service", Options{}, ErrInvalidOptions},
		{"negative batch", Options{Service: "s", MaxBatch: -1}, ErrInvalidOptions},
		{"negative heartbeat", Options{Service: "s", Heartbeat: -time.Second}, ErrInvalidOptions},
		{"negative recent", Options{Service: "s", Recent: -1}, ErrInvalidOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); !errors.Is(err, tc.want) {
				t.Fatalf("Validate()=%v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Open(openSet(t, t.TempDir()), Options{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Open() without a service=%v, want ErrInvalidOptions", err)
	}
}

func TestOutboxOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts OutboxOptions
		want error
	}{
		{"default", DefaultOutboxOptions(), nil},
		{"zero", OutboxOptions{}, nil},
		{"negative batch", OutboxOptions{MaxBatch: -1}, ErrInvalidOptions},
		{"negative flush", OutboxOptions{FlushTimeout: -1}, ErrInvalidOptions},
		{"negative retry", OutboxOptions{RetryWait: -1}, ErrInvalidOptions},
		{"negative sync", OutboxOptions{SyncInterval: -1}, ErrInvalidOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); !errors.Is(err, tc.want) {
				t.Fatalf("Validate()=%v, want %v", err, tc.want)
			}
			if got := tc.opts.withDefaults(); got.MaxBatch <= 0 || got.FlushTimeout <= 0 || got.RetryWait <= 0 || got.SyncInterval <= 0 || got.Name == "" {
				t.Fatalf("withDefaults()=%+v, want every field set", got)
			}
		})
	}
}
