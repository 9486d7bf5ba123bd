package main

import (
	"log/slog"
	"testing"
)

// TestServeFsyncs: the stash files minimi serve opens fsync every commit,
// except in a binary built with -tags nofsync.
func TestServeFsyncs(t *testing.T) {
	dir, cfg := eventsService(t)
	cfg.NATS.Enabled = false
	svc, err := open(t.Context(), dir, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open()=%v", err)
	}
	defer svc.close()
	if got := svc.set.DB().NoSync; got != noFsync {
		t.Fatalf("the default store's NoSync=%v, want %v", got, noFsync)
	}
	if noFsync {
		t.Log("built with -tags nofsync")
	}
}
