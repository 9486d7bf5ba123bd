package stash

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/stash/stashtest"
)

// TestCheckFiles: CheckFiles reads every store file, and names the one
// with a damaged page; memory stores and files not made yet are skipped.
func TestCheckFiles(t *testing.T) {
	opts, path := damagedNotes(t)
	opts.Stores = append(opts.Stores, StoreSpec{Name: "/cache", Driver: DriverMemory},
		StoreSpec{Name: "/later", Driver: DriverBbolt, File: "later.db"})
	all := []string{filepath.Join(opts.DataDir, DefaultFile), path}
	files, err := CheckFiles(opts)
	if err != nil || !reflect.DeepEqual(files, all) {
		t.Fatalf("CheckFiles()=%q, %v, want %q and no error", files, err, all)
	}
	stashtest.DamageMiddleLeaf(t, path)
	files, err = CheckFiles(opts)
	if !reflect.DeepEqual(files, all) {
		t.Fatalf("CheckFiles() of a damaged file checked %q, want %q", files, all)
	}
	wantDamaged(t, "CheckFiles()", err, path)
}

// TestCheckFilesBranchKey: a branch page whose key points outside the file
// is damage that CheckFiles reports, naming the file, rather than a fault
// that ends the process in bbolt's own check.
func TestCheckFilesBranchKey(t *testing.T) {
	opts, path := damagedNotes(t)
	stashtest.DamageBranchKey(t, path)
	_, err := CheckFiles(opts)
	wantDamaged(t, "CheckFiles()", err, path)
}

// sharedEmails makes a Set with /notes in minimi.db and /others in
// others.db, each with records a and b sharing an email and c with its own,
// under schemas that index nothing, and a memory store /cache; it reindexes it, as serve does, closes
// it and returns its options (Collections left for the caller).
func sharedEmails(t *testing.T) Options {
	t.Helper()
	opts := Options{DataDir: t.TempDir(), Timeout: 100 * time.Millisecond,
		Stores: []StoreSpec{{Name: "/others", Driver: DriverBbolt, File: "others.db"}, {Name: "/cache", Driver: DriverMemory}}}
	opts.Collections = sharedEmailColls(t, "", "")
	s := openSet(t, opts)
	ss := s.Session()
	for _, path := range []string{"/notes", "/others"} {
		for _, r := range []Record{{"id": "a", "owner": "ann", "email": "x@example.com"},
			{"id": "b", "owner": "bob", "email": "x@example.com"}, {"id": "c", "owner": "cy", "email": "y@example.com"}} {
			if _, err := ss.Create(path, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	commit(t, s, ss)
	if err := s.Reindex(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opts.Collections = nil
	return opts
}

// sharedEmailColls declares /notes in the default store and /others in
// its own, with notesWith(notes) and notesWith(others) as their schemas,
// and /cache, with a unique field, in the memory store.
func sharedEmailColls(t *testing.T, notes, others string) []CollectionSpec {
	t.Helper()
	return []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, notesWith(notes))},
		{Path: "/others", Store: "/others", Schema: mustSchema(t, notesWith(others))},
		{Path: "/cache", Store: "/cache", Schema: mustSchema(t, notesWith(`"unique": ["email"]`))}}
}

// readFiles returns the contents of every file in dir, by name.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// copyFiles writes files (by name, as readFiles returns them) into a new
// temp dir and returns it.
func copyFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// joinedLeaves lists the errors of a tree of joined errors.
func joinedLeaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if err == nil {
			return nil
		}
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, joinedLeaves(e)...)
	}
	return out
}

// reindexCopy opens a copy of the files under opts and returns what its
// Reindex, which serve runs at start-up, returns.
func reindexCopy(t *testing.T, files map[string][]byte, opts Options) error {
	t.Helper()
	opts.DataDir = copyFiles(t, files)
	return openDamaged(t, opts).Reindex()
}

// TestCheckFilesUnique: a schema that makes a field unique which records
// already share fails CheckFiles, read-only, with the conflict that stops
// serve's Reindex, for each collection that has one; a schema that adds no
// such field passes, as Reindex does. The files are left byte for byte as
// they were, and a memory store (/cache) is skipped.
func TestCheckFilesUnique(t *testing.T) {
	opts := sharedEmails(t)
	before := readFiles(t, opts.DataDir)
	tests := []struct {
		name, notes, others string
		conflicts           []string // the collections, in the order CheckFiles names them
	}{
		{"schemas unchanged", "", "", nil},
		{"a new index on the shared field", `"indexes": ["email"]`, `"indexes": ["email"]`, nil},
		{"a unique field no records share", `"unique": ["owner"]`, `"indexes": ["owner"]`, nil},
		{"the shared field unique in one", `"unique": ["email"]`, `"indexes": ["owner"]`, []string{"/notes"}},
		{"the shared field unique in both", `"unique": ["owner", "email"]`, `"unique": ["email"]`, []string{"/notes", "/others"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := opts
			opts.Collections = sharedEmailColls(t, tc.notes, tc.others)
			files, err := CheckFiles(opts)
			if len(files) != 2 {
				t.Errorf("CheckFiles() checked %q, want minimi.db and others.db", files)
			}
			if after := readFiles(t, opts.DataDir); !reflect.DeepEqual(after, before) {
				t.Errorf("CheckFiles() changed the files in the data directory")
			}
			serve := reindexCopy(t, before, opts)
			if tc.conflicts == nil {
				if err != nil || serve != nil {
					t.Fatalf("CheckFiles()=%v and Reindex()=%v, want no error from either", err, serve)
				}
				return
			}
			var got []string
			for _, e := range joinedLeaves(err) {
				ce, ok := errors.AsType[*ConflictError](e)
				if !ok || ce.Field != "email" || ce.ID != "b" || !strings.Contains(e.Error(), "record a holds the same value") {
					t.Errorf("CheckFiles() reported %v, want a conflict on email naming a and b", e)
					continue
				}
				got = append(got, ce.Collection)
			}
			if !slices.Equal(got, tc.conflicts) {
				t.Errorf("CheckFiles() named conflicts in %q, want %q", got, tc.conflicts)
			}
			if err == nil || serve == nil || !strings.Contains(err.Error(), serve.Error()) {
				t.Errorf("CheckFiles()=%v, want it to say what Reindex() says: %v", err, serve)
			}
		})
	}
}

// TestCheckFilesIndexedAlready: a collection whose store recorded the
// indexed and unique fields of its schema is not scanned, as Reindex skips
// it: CheckFiles passes a unique field that records share, which only a
// store changed by hand can hold.
func TestCheckFilesIndexedAlready(t *testing.T) {
	opts := sharedEmails(t)
	opts.Collections = sharedEmailColls(t, `"unique": ["email"]`, "")
	s := openSet(t, opts)
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := w.txFor(s.def)
	c := s.Collection("/notes")
	if err := tx.put(metaBucket, indexedKey(c), indexedFields(c)); err != nil {
		t.Fatal(err)
	}
	w.dirty[s.def] = true
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckFiles(opts); err != nil {
		t.Fatalf("CheckFiles() of a store that recorded the unique field=%v, want no error", err)
	}
	if err := reindexCopy(t, readFiles(t, opts.DataDir), opts); err != nil {
		t.Fatalf("Reindex() of a store that recorded the unique field=%v, want no error", err)
	}
}
