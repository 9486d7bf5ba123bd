package stash

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenTruncatedStore: a store file cut short is an error that names it
// and says what to do, not a crash when bbolt reads past its end.
func TestOpenTruncatedStore(t *testing.T) {
	for _, tc := range []struct {
		name, store, file, fix string
	}{
		{"a store of its own", "/notes", "notes.db", "remove it"},
		{"the default store", "", "minimi.db", "restore it from a backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/notes", Store: tc.store, Schema: mustSchema(t, notesSchema)}}}
			if tc.store != "" {
				opts.Stores = []StoreSpec{{Name: "/notes", Driver: DriverBbolt, File: "notes.db"}}
			}
			s := openSet(t, opts)
			for range 200 { // enough records for pages past the first few
				ss := s.Session()
				if _, err := ss.Create("/notes", Record{"title": "a note", "owner": strings.Repeat("o", 100)}); err != nil {
					t.Fatal(err)
				}
				commit(t, s, ss)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			if err := os.Truncate(path, 8192); err != nil {
				t.Fatal(err)
			}
			_, err := Open(opts)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.fix) {
				t.Fatalf("Open() of a truncated %s=%v, want ErrDamaged naming the file and saying to %s", tc.file, err, tc.fix)
			}
		})
	}
}
