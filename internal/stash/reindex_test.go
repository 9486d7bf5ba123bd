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

// reopen closes s (unless nil), opens the Set in dir with /notes under
// schema src, and returns it with what its Reindex returned. The Set is
// closed at the end of the test.
func reopen(t *testing.T, s *Set, dir, src string) (*Set, error) {
	t.Helper()
	if s != nil {
		if err := s.Close(); err != nil {
			t.Fatalf("Close()=%v", err)
		}
	}
	s, err := Open(Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, src)}}})
	if err != nil {
		t.Fatalf("Open()=%v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, s.Reindex()
}

// metaOf returns the stored value of the meta key of /notes's indexed fields.
func metaOf(t *testing.T, s *Set) string {
	t.Helper()
	var v string
	if err := s.read(s.def, func(tx kvTx) error {
		v = string(tx.get(metaBucket, indexedKey(s.Collection("/notes"))))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
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
		t.Fatalf("Reindex() with a new index=%v", err)
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
		t.Fatalf("Reindex() without the index=%v", err)
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
		t.Fatalf("Reindex() with the index again=%v", err)
	}
	checkIndexes(t, s)
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

	if err := s.Reindex(); err != nil {
		t.Fatalf("Reindex()=%v", err)
	}
	before := metaOf(t, s)
	s, err := reopen(t, s, dir, notesWith(`"unique": ["email"]`))
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || ce.Field != "email" || !strings.Contains(err.Error(), "record a") || ce.ID != "b" {
		t.Fatalf("Reindex() with a unique field two records share=%v, want a conflict on email naming a and b", err)
	}
	if after := metaOf(t, s); after != before || !strings.Contains(after, `"fields":["email"]`) {
		t.Errorf("after the refused reindex the store records %s, want it unchanged: %s", after, before)
	}
	if s, err = reopen(t, s, dir, indexedOnly); err != nil {
		t.Fatalf("Reindex() under the old schema after the refused one=%v", err)
	}
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
		t.Fatalf("Reindex() of the older store=%v", err)
	}
	checkIndexes(t, s)
	if got := ownersOf(t, s, "ann"); strings.Join(got, ",") != "a" {
		t.Errorf("owner=ann=%v, want [a]", got)
	}
}

// TestReindexMemoryStore: a memory store is refilled by Replay, which checks
// nothing, so Reindex checks the unique fields of what it holds.
func TestReindexMemoryStore(t *testing.T) {
	opts := func(src string) Options {
		return Options{Stores: []StoreSpec{{Name: "/m", Driver: DriverMemory}},
			Collections: []CollectionSpec{{Path: "/notes", Store: "/m", Schema: mustSchema(t, src)}}}
	}
	before := openSet(t, opts(notesWith("")))
	ss := before.Session()
	for _, r := range []Record{{"id": "a", "email": "x@example.com"}, {"id": "b", "email": "x@example.com"}} {
		if _, err := ss.Create("/notes", r); err != nil {
			t.Fatal(err)
		}
	}
	changes := ss.Changes()

	s := openSet(t, opts(notesWith(`"unique": ["email"]`)))
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Replay(1, changes); err != nil {
		t.Fatalf("Replay()=%v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	var ce *ConflictError
	if err := s.Reindex(); !errors.As(err, &ce) || ce.Field != "email" {
		t.Fatalf("Reindex() of a memory store holding a shared unique value=%v, want a conflict on email", err)
	}
}
