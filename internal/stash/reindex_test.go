package stash

import (
	"errors"
	"strings"
	"testing"
)

// notesWith is a /notes schema with the given extra top-level keys, e.g.
// `"indexes": ["owner"]`.
func notesWith(extra string) string {
	src := `{"schema": {"type": "object", "properties": {"owner": {"type": "string"}, "email": {"type": "string"}}}`
	if extra != "" {
		src += ", " + extra
	}
	return src + "}"
}

// reopen closes s (unless nil) and opens the Set in dir with /notes under schema src.
func reopen(t *testing.T, s *Set, dir, src string) (*Set, error) {
	t.Helper()
	if s != nil {
		if err := s.Close(); err != nil {
			t.Fatalf("Close()=%v", err)
		}
	}
	return Open(Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, src)}}})
}

// ownersOf lists the ids of /notes whose owner is owner.
func ownersOf(t *testing.T, s *Set, owner string) []string {
	t.Helper()
	recs, err := s.Session().List("/notes", ListOptions{Where: map[string]any{"owner": owner}})
	if err != nil {
		t.Fatalf("List(owner=%s)=%v", owner, err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r[FieldID].(string))
	}
	return ids
}

// TestReopenRebuildsIndexes: an index added to or removed from a schema
// file between two starts is rebuilt from the records, so that a list
// through it finds the records written before it existed.
func TestReopenRebuildsIndexes(t *testing.T) {
	dir := t.TempDir()
	s := openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, notesWith(""))}}})
	ss := s.Session()
	for _, r := range []Record{{"id": "a", "owner": "ann"}, {"id": "b", "owner": "bob"}, {"id": "c", "owner": "ann"}, {"id": "d"}} {
		if _, err := ss.Create("/notes", r); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, s, ss)

	s, err := reopen(t, s, dir, notesWith(`"indexes": ["owner"]`))
	if err != nil {
		t.Fatalf("Open() with a new index=%v", err)
	}
	checkIndexes(t, s)
	before := s.Collection("/notes").visited.Load()
	if got := ownersOf(t, s, "ann"); strings.Join(got, ",") != "a,c" {
		t.Errorf("owner=ann through the new index=%v, want [a c]", got)
	}
	if n := s.Collection("/notes").visited.Load() - before; n != 2 {
		t.Errorf("the list examined %d records, want the 2 of the index", n)
	}

	// Dropped, the index's entries go; added again, they come back.
	if s, err = reopen(t, s, dir, notesWith("")); err != nil {
		t.Fatalf("Open() without the index=%v", err)
	}
	err = s.read(s.def, func(tx kvTx) error {
		tx.scan(newBucket("/notes", "index", "owner"), nil, func(k, _ []byte) bool {
			t.Errorf("entry %q left in the dropped index", k)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, err = reopen(t, s, dir, notesWith(`"indexes": ["owner"]`)); err != nil {
		t.Fatalf("Open() with the index again=%v", err)
	}
	checkIndexes(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReopenUniqueConflict: records that already share a value stop a start
// whose schema makes the field unique, naming both; the store is unchanged
// and opens under the old schema.
func TestReopenUniqueConflict(t *testing.T) {
	dir := t.TempDir()
	indexedOnly := notesWith(`"indexes": ["email"]`) // the same index entries as unique: only the check is new
	s := openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, indexedOnly)}}})
	ss := s.Session()
	for _, r := range []Record{{"id": "a", "email": "x@example.com"}, {"id": "b", "email": "x@example.com"}} {
		if _, err := ss.Create("/notes", r); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, s, ss)

	_, err := reopen(t, s, dir, notesWith(`"unique": ["email"]`))
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || ce.Field != "email" || !strings.Contains(err.Error(), "record a") || ce.ID != "b" {
		t.Fatalf("Open() with a unique field two records share=%v, want a conflict on email naming a and b", err)
	}
	s, err = reopen(t, nil, dir, indexedOnly)
	if err != nil {
		t.Fatalf("Open() under the old schema after the refused start=%v", err)
	}
	defer s.Close()
	checkIndexes(t, s)
	if got, err := s.Session().Get("/notes", "b", ReadOptions{}); err != nil || got["email"] != "x@example.com" {
		t.Errorf("Get(b)=%v, %v after the refused start, want the record unchanged", got, err)
	}
}

// TestReopenOlderStore: a store that recorded no indexed fields (written by
// an older version) has its indexes rebuilt once at the next start.
func TestReopenOlderStore(t *testing.T) {
	dir := t.TempDir()
	src := notesWith(`"indexes": ["owner"]`)
	s := openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, src)}}})
	ss := s.Session()
	if _, err := ss.Create("/notes", Record{"id": "a", "owner": "ann"}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, ss)
	// What an older store looks like: no record of the indexed fields, and
	// here an index that lost its entry.
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := w.txFor(s.def)
	c := s.Collection("/notes")
	if err := tx.del(metaBucket, indexedKey(c)); err != nil {
		t.Fatal(err)
	}
	if err := emptyBucket(tx, c.indexes["owner"]); err != nil {
		t.Fatal(err)
	}
	w.dirty[s.def] = true
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}

	if s, err = reopen(t, s, dir, src); err != nil {
		t.Fatalf("Open() of the older store=%v", err)
	}
	defer s.Close()
	checkIndexes(t, s)
	if got := ownersOf(t, s, "ann"); strings.Join(got, ",") != "a" {
		t.Errorf("owner=ann=%v, want [a]", got)
	}
}
