package stash

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/stash/stashtest"
)

// TestOpenTruncatedStore: a store file cut short is an error that names it
// and says what to do, not a crash when bbolt reads past its end.
func TestOpenTruncatedStore(t *testing.T) {
	for _, tc := range []struct {
		name, store, file, fix string
	}{
		{"a store of its own", "/notes", "notes.db", "remove the file"},
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

// damagedNotes makes a Set with /notes in notes.db (300 records of about a
// KiB, n000 to n299) and /plain in minimi.db, closes it and returns its
// options and the path of notes.db.
func damagedNotes(t *testing.T) (Options, string) {
	t.Helper()
	dir := t.TempDir()
	opts := Options{DataDir: dir, Timeout: 100 * time.Millisecond,
		Stores:      []StoreSpec{{Name: "/notes", Driver: DriverBbolt, File: "notes.db"}},
		Collections: []CollectionSpec{{Path: "/notes", Store: "/notes"}, {Path: "/plain"}}}
	s := openSet(t, opts)
	for i := range 300 {
		ss := s.Session()
		if _, err := ss.Create("/notes", Record{"id": fmt.Sprintf("n%03d", i), "body": strings.Repeat("b", 1000)}); err != nil {
			t.Fatal(err)
		}
		commit(t, s, ss)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return opts, filepath.Join(dir, "notes.db")
}

// openDamaged opens a Set whose files may be damaged: no consistency check
// at the end, only Close.
func openDamaged(t *testing.T, opts Options) *Set {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open()=%v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// wantDamaged fails the test unless err is ErrDamaged naming path and
// saying what to do.
func wantDamaged(t *testing.T, what string, err error, path string) {
	t.Helper()
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "remove the file") {
		t.Fatalf("%s=%v, want ErrDamaged naming %s and saying to remove the file", what, err, path)
	}
}

// damagedIDs gets every record of /notes and returns the ids whose read
// failed; every failure must be ErrDamaged naming path.
func damagedIDs(t *testing.T, s *Set, path string) []string {
	t.Helper()
	var bad []string
	ss := s.ReadOnlySession()
	for i := range 300 {
		id := fmt.Sprintf("n%03d", i)
		if _, err := ss.Get("/notes", id, ReadOptions{}); err != nil {
			wantDamaged(t, "Get("+id+")", err, path)
			bad = append(bad, id)
		}
	}
	return bad
}

// TestReadDamagedPage: a page of a store file overwritten with garbage, at
// the file's full size, fails the reads and writes that reach it with an
// error that names the file, instead of a bbolt panic; the rest of the
// file, and the other stores, still work.
func TestReadDamagedPage(t *testing.T) {
	opts, path := damagedNotes(t)
	stashtest.DamageMiddleLeaf(t, path)
	s := openDamaged(t, opts)
	bad := damagedIDs(t, s, path)
	if len(bad) == 0 || len(bad) > 10 {
		t.Fatalf("Get failed for %d records, want the few on the damaged page", len(bad))
	}
	_, err := s.ReadOnlySession().List("/notes", ListOptions{Limit: 1000})
	wantDamaged(t, "List()", err, path)

	// A write that reaches the page fails its group, which rolls back.
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	put := Change{Op: OpPut, Stash: "/notes", ID: bad[0], Version: 2, Base: 1,
		Record: Record{"id": bad[0], "_version": 2, "body": "new"}}
	wantDamaged(t, "Apply()", w.Apply(1, []Change{put}), path)
	wantDamaged(t, "Commit()", w.Commit(), path)
	ss := s.Session()
	if _, err := ss.Create("/plain", Record{"id": "p1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ss); err != nil {
		t.Fatalf("Commit() to minimi.db after a damaged group=%v, want nil", err)
	}
}

// TestReadFileCutWhileOpen: a store file cut short while it is open (its
// pages past the new end fault when read) fails the reads that reach them
// with an error that names the file, instead of ending the process.
func TestReadFileCutWhileOpen(t *testing.T) {
	opts, path := damagedNotes(t)
	s := openDamaged(t, opts)
	if err := os.Truncate(path, 4*int64(os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	if bad := damagedIDs(t, s, path); len(bad) == 0 {
		t.Fatal("every Get worked on a file cut short, want them to fail")
	}
}

// TestReadPanicIsNotDamage: a panic that bbolt did not raise is a bug, not a
// damaged file: it goes on.
func TestReadPanicIsNotDamage(t *testing.T) {
	opts, _ := damagedNotes(t)
	s := openDamaged(t, opts)
	defer func() {
		if r := recover(); r != "a bug" {
			t.Fatalf("recover()=%v, want the panic of the read", r)
		}
	}()
	_ = s.read(s.byName["/notes"], func(kvTx) error { panic("a bug") })
}

// TestOpenDamagedPages: a store file whose freelist page, or both of whose
// meta pages, are damaged at its full size stops Open with an error that
// names it, not a bbolt panic.
func TestOpenDamagedPages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pages func(t *testing.T, path string) []int
	}{
		{"the freelist page", func(t *testing.T, path string) []int { return stashtest.Pages(t, path, "freelist") }},
		{"both meta pages", func(*testing.T, string) []int { return []int{0, 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, path := damagedNotes(t)
			pages := tc.pages(t, path)
			if len(pages) == 0 {
				t.Fatalf("%s has no %s", path, tc.name)
			}
			for _, id := range pages {
				stashtest.DamagePage(t, path, id)
			}
			_, err := Open(opts)
			wantDamaged(t, "Open()", err, path)
		})
	}
}

// TestOpenFresh: with Fresh, every store file but minimi.db starts empty,
// unread, whatever its pages hold, and keeps its mode; minimi.db is opened
// as it is.
func TestOpenFresh(t *testing.T) {
	opts, path := damagedNotes(t)
	s := openSet(t, opts)
	ss := s.Session()
	if _, err := ss.Create("/plain", Record{"id": "p1"}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, ss)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stashtest.DamageMiddleLeaf(t, path)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	opts.Fresh = true
	s = openSet(t, opts)
	for coll, want := range map[string]int{"/notes": 0, "/plain": 1} {
		if n, err := s.ReadOnlySession().Count(coll); err != nil || n != want {
			t.Errorf("Count(%s) after a fresh Open=%d, %v, want %d", coll, n, err, want)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("notes.db after a fresh Open: %v, %v, want mode 0640", fi.Mode(), err)
	}
}
