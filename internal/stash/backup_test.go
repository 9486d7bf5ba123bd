package stash

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestBackupTo: BackupTo copies every bbolt store's file, the declared
// stores first and the default store last, as many bytes as BackupSize
// said, and a Set opened on the copy has the records committed before it,
// not those after it.
func TestBackupTo(t *testing.T) {
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
	size, err := s.BackupSize()
	if err != nil {
		t.Fatalf("BackupSize()=%v", err)
	}
	dir := filepath.Join(t.TempDir(), "copy")
	files, err := s.BackupTo(dir)
	if err != nil {
		t.Fatalf("BackupTo()=%v", err)
	}
	write("after")
	want := []string{filepath.Join(dir, "stores", "users.db"), filepath.Join(dir, DefaultFile)}
	if len(files) != 2 || files[0] != want[0] || files[1] != want[1] {
		t.Fatalf("BackupTo()=%q, want %q (the default store last, no memory store)", files, want)
	}
	var written int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		written += fi.Size()
	}
	if size != written {
		t.Errorf("BackupSize()=%d, want %d, the bytes BackupTo wrote", size, written)
	}
	if _, err := s.BackupTo(dir); err == nil {
		t.Errorf("BackupTo() into a directory that exists=nil, want an error")
	}

	opts.DataDir = dir
	r := openSet(t, opts)
	ss := r.Session()
	for _, c := range []string{"/notes", "/users"} {
		if _, err := ss.Get(c, "before", ReadOptions{}); err != nil {
			t.Errorf("copy %s: Get(before)=%v", c, err)
		}
		if _, err := ss.Get(c, "after", ReadOptions{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("copy %s: Get(after)=%v, want ErrNotFound: written after the copy", c, err)
		}
	}
}

// TestBackupToWhileWriting: copies taken while commands commit to both the
// default store and a declared one are never torn, and no copied store has
// applied an event that the copied default store (the log's) has not.
func TestBackupToWhileWriting(t *testing.T) {
	sc := mustSchema(t, `{"schema": {"type": "object"}}`)
	opts := Options{
		Stores:      []StoreSpec{{Name: "/users", Driver: DriverBbolt, File: "users.db"}},
		Collections: []CollectionSpec{{Path: "/notes", Schema: sc}, {Path: "/users", Schema: sc, Store: "/users"}},
	}
	s := openSet(t, opts)
	stop := make(chan struct{})
	written := make(chan error, 1)
	go func() {
		for seq := uint64(1); ; seq++ {
			select {
			case <-stop:
				written <- nil
				return
			default:
			}
			ss := s.Session()
			for _, c := range []string{"/notes", "/users"} {
				if _, err := ss.Create(c, map[string]any{"n": seq}); err != nil {
					written <- err
					return
				}
			}
			w, err := s.Begin()
			if err == nil {
				err = w.Apply(seq, ss.Changes())
			}
			if err == nil {
				err = w.Commit()
			}
			if err != nil {
				written <- err
				return
			}
		}
	}()
	root := t.TempDir()
	for i := range 20 {
		dir := filepath.Join(root, strconv.Itoa(i))
		if _, err := s.BackupTo(dir); err != nil {
			t.Fatalf("BackupTo()=%v", err)
		}
		c := openSet(t, Options{DataDir: dir, Stores: opts.Stores, Collections: opts.Collections})
		applied := c.Applied()
		if applied["/users"] > applied[""] {
			t.Errorf("copy %d: /users applied seq %d, past the log's store at %d", i, applied["/users"], applied[""])
		}
		checkBolt(t, c) // not torn
		checkIndexes(t, c)
		if err := c.Close(); err != nil { // one copy open at a time
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-written; err != nil {
		t.Fatalf("writer: %v", err)
	}
}
