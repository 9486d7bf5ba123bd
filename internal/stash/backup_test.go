package stash

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestBackup: Backup writes every bbolt store's file, the declared stores
// first and the default store last, and a Set opened on the files read
// back has the records committed before the copy, not those after it.
func TestBackup(t *testing.T) {
	sc := mustSchema(t, `{"schema": {"type": "object"}}`)
	opts := Options{
		Stores: []StoreSpec{{Name: "/users", Driver: DriverBbolt, File: "stores/users.db"}, {Name: "/tmp", Driver: DriverMemory}},
		Collections: []CollectionSpec{{Path: "/notes", Schema: sc}, {Path: "/users", Schema: sc, Store: "/users"},
			{Path: "/tmp", Schema: sc, Store: "/tmp"}},
	}
	s := openSet(t, opts)
	write := func(id string) {
		ss := s.Session()
		for _, c := range []string{"/notes", "/users", "/tmp"} {
			if _, err := ss.Create(c, map[string]any{"id": id}); err != nil {
				t.Fatal(err)
			}
		}
		commit(t, s, ss)
	}
	write("before")
	var buf bytes.Buffer
	when := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	if err := s.Backup(&buf, when); err != nil {
		t.Fatalf("Backup()=%v", err)
	}
	write("after")

	restored := t.TempDir()
	var names []string
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !hdr.ModTime.Equal(when) || hdr.Mode != 0o600 {
			t.Errorf("%s: mtime %v mode %o, want %v and 600", hdr.Name, hdr.ModTime, hdr.Mode, when)
		}
		names = append(names, hdr.Name)
		path := filepath.Join(restored, filepath.FromSlash(hdr.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"stores/users.db", DefaultFile}; !slices.Equal(names, want) {
		t.Fatalf("archive holds %q, want %q (the default store last, no memory store)", names, want)
	}
	opts.DataDir = restored
	r := openSet(t, opts)
	ss := r.Session()
	for _, c := range []string{"/notes", "/users"} {
		if _, err := ss.Get(c, "before", ReadOptions{}); err != nil {
			t.Errorf("restored %s: Get(before)=%v", c, err)
		}
		if _, err := ss.Get(c, "after", ReadOptions{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("restored %s: Get(after)=%v, want ErrNotFound: written after the copy", c, err)
		}
	}
}
