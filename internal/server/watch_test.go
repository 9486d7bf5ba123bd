package server

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
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

// TestWatcherSeesLinkedFolders: an edit in an endpoint folder that is a
// link to a folder elsewhere, as the loader follows it, is reloaded. The
// watches were set by a walk that did not follow links, so the edit went
// unnoticed until another change reloaded the service. A link that loops
// back is entered once, and links the loader does not follow (a dot-named
// one, any under lib/) are not.
func TestWatcherSeesLinkedFolders(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(t.TempDir(), "ln")
	for _, d := range []string{filepath.Join(dir, "endpoints"), elsewhere} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "endpoints", "ln")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Symlink(filepath.Join(dir, "endpoints"), filepath.Join(elsewhere, "loop")); err != nil {
		t.Fatal(err)
	}
	// Links the loader does not follow, into a tree of 50 folders: a
	// dot-named one under endpoints/ and any under lib/.
	big := t.TempDir()
	for i := range 50 {
		if err := os.MkdirAll(filepath.Join(big, fmt.Sprint(i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{filepath.Join(dir, "endpoints", ".snap"), filepath.Join(dir, "lib", "big")} {
		if err := os.Symlink(big, l); err != nil {
			t.Fatal(err)
		}
	}
	w, err := NewWatcher(dir, filepath.Join(dir, "config.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.t.dirs); n != 3 { // endpoints, endpoints/ln, lib, and nothing of big
		t.Errorf("%d folders watched, want 3 (endpoints, endpoints/ln, lib): %v", n, slices.Sorted(maps.Keys(w.t.dirs)))
	}
	reloaded := make(chan struct{}, 1)
	go w.Run(t.Context(), func() {
		select {
		case reloaded <- struct{}{}:
		default:
		}
	})
	if err := os.WriteFile(filepath.Join(elsewhere, "ln.execute.lua"), []byte("return {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reloaded:
	case <-time.After(5 * time.Second):
		t.Fatal("no reload for an edit in a linked endpoint folder")
	}
}
