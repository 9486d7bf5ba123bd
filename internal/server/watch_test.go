package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatcherSeesChangesFromNew: a change made once NewWatcher has returned
// is reloaded, however late Run starts: serve sets the watches before it
// answers, so an edit made as soon as it does is not missed.
func TestWatcherSeesChangesFromNew(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	for _, d := range []string{filepath.Join(dir, "endpoints", "notes"), lib} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w, err := NewWatcher(dir, filepath.Join(dir, "config.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lib, "m.lua"), []byte("return {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the change is in before Run starts
	reloaded := make(chan struct{}, 1)
	go w.Run(t.Context(), func() {
		select {
		case reloaded <- struct{}{}:
		default:
		}
	})
	select {
	case <-reloaded:
	case <-time.After(5 * time.Second):
		t.Fatal("no reload for a change made after NewWatcher returned")
	}
}
