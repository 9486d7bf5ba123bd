package stash

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const notesSchema = `{
  "schema": {
    "type": "object",
    "required": ["title"],
    "properties": {
      "title": {"type": "string", "maxLength": 20},
      "owner": {"type": "string"},
      "email": {"type": "string", "x-lowercase": true},
      "n":     {"type": "number", "minimum": 0},
      "meta":  {"type": "object"}
    }
  },
  "indexes": ["owner"],
  "unique": ["email"]
}`

// notesSet opens a Set with the collection /notes in the default store.
func notesSet(t testing.TB) *Set {
	t.Helper()
	return openSet(t, Options{Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, notesSchema)}}})
}

func TestCreateGet(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	rec, err := ss.Create("/notes", Record{"title": "hello", "n": 3})
	if err != nil {
		t.Fatalf("Create()=%v", err)
	}
	id, _ := rec[FieldID].(string)
	if len(id) != 26 {
		t.Errorf("Create() id=%q, want a 26-character ULID", id)
	}
	if rec[FieldVersion] != 1 {
		t.Errorf("Create() _version=%v, want 1", rec[FieldVersion])
	}
	created, _ := rec[FieldCreated].(string)
	if _, err := time.Parse(time.RFC3339, created); err != nil || rec[FieldUpdated] != created {
		t.Errorf("Create() _created=%v _updated=%v, want equal RFC 3339 times", rec[FieldCreated], rec[FieldUpdated])
	}
	if rec["n"] != 3.0 {
		t.Errorf("Create() n=%#v, want float64 3", rec["n"])
	}
	got, err := ss.Get("/notes", id, ReadOptions{})
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Errorf("Get() in session=%v, %v, want %v", got, err, rec)
	}
	if _, err := s.Session().Get("/notes", id, ReadOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get() from another session before commit=%v, want ErrNotFound", err)
	}
	commit(t, s, ss)
	got, err = s.Session().Get("/notes", id, ReadOptions{})
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Errorf("Get() after commit=%v, %v, want %v", got, err, rec)
	}
	got["title"] = "changed"
	again, _ := s.Session().Get("/notes", id, ReadOptions{})
	if again["title"] != "hello" {
		t.Errorf("Get() after modifying a returned record: title=%v, want hello", again["title"])
	}
}

func TestCreateIDs(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	a, _ := ss.Create("/notes", Record{"title": "a"})
	b, _ := ss.Create("/notes", Record{"title": "b"})
	if a[FieldID].(string) >= b[FieldID].(string) {
		t.Errorf("Create() ids %v then %v, want increasing", a[FieldID], b[FieldID])
	}
	if _, err := ss.Create("/notes", Record{"id": "x1", "title": "x"}); err != nil {
		t.Fatalf("Create(id x1)=%v", err)
	}
	if _, err := ss.Create("/notes", Record{"id": "x1", "title": "again"}); !errors.Is(err, ErrConflict) {
		t.Errorf("Create(id x1) twice in a session=%v, want ErrConflict", err)
	}
	commit(t, s, ss)
	_, err := s.Session().Create("/notes", Record{"id": "x1", "title": "again"})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.ID != "x1" || ce.Field != "" {
		t.Errorf("Create(id x1) after commit=%v, want *ConflictError on x1", err)
	}
	for _, tc := range []struct {
		name string
		id   any
	}{
		{"empty", ""}, {"number", 5}, {"control", "a\nb"}, {"long", string(make([]byte, 300))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Session().Create("/notes", Record{"id": tc.id, "title": "t"})
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[0].Pointer != "/id" {
				t.Errorf("Create(id %q)=%v, want a ValidationError at /id", tc.id, err)
			}
		})
	}
	for _, id := range []string{"\xff", "a\x00b", ""} {
		if _, err := s.Session().Put("/notes", id, Record{"title": "t"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put(id %q)=%v, want ErrInvalid", id, err)
		}
	}
}

// unroutableIDs are ids no URL can carry to a [id] or [...name] parameter,
// with the message of the 422 at /id that create and put answer them with.
var unroutableIDs = []struct{ id, msg string }{
	{".", `must not be ".": no URL can carry it`},
	{"..", `must not be "..": no URL can carry it`},
	{"a/./b", `must not hold the segment ".": no URL can carry it`},
	{"a/..", `must not hold the segment "..": no URL can carry it`},
	{"../a", `must not hold the segment "..": no URL can carry it`},
	{"a//b", "must not start or end with / or hold //: no URL can carry it"},
	{"/a", "must not start or end with / or hold //: no URL can carry it"},
	{"a/", "must not start or end with / or hold //: no URL can carry it"},
	{"/", "must not start or end with / or hold //: no URL can carry it"},
}

// TestUnroutableIDs: create and put refuse an id that no URL can carry, at
// /id, and write nothing; an id with "/" between other segments, or with
// dots that are not a whole segment, is one a URL carries.
func TestUnroutableIDs(t *testing.T) {
	s := notesSet(t)
	for _, tc := range unroutableIDs {
		t.Run(tc.id, func(t *testing.T) {
			ss := s.Session()
			_, cerr := ss.Create("/notes", Record{"id": tc.id, "title": "t"})
			_, perr := ss.Put("/notes", tc.id, Record{"title": "t"})
			for op, err := range map[string]error{"Create": cerr, "Put": perr} {
				var ve *ValidationError
				if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0] != (FieldError{Pointer: "/id", Message: tc.msg}) {
					t.Errorf("%s(id %q)=%v, want a ValidationError at /id: %s", op, tc.id, err, tc.msg)
				}
			}
			if ch := ss.Changes(); len(ch) != 0 {
				t.Errorf("Changes()=%d changes, want none", len(ch))
			}
		})
	}
	ss := s.Session()
	for _, id := range []string{"a/b", "a/b/c", "...", ".a/b.", "a..b/.c", "a.b"} {
		if _, err := ss.Create("/notes", Record{"id": id, "title": "t"}); err != nil {
			t.Errorf("Create(id %q)=%v, want it stored", id, err)
		}
		if _, err := ss.Put("/notes", id+"/x", Record{"title": "t"}); err != nil {
			t.Errorf("Put(id %q)=%v, want it stored", id+"/x", err)
		}
	}
}

// TestUnroutableIDsStored: a record stored under an id that create and put
// now refuse (or in a collection that takes any id) is still read, listed,
// patched and deleted.
func TestUnroutableIDsStored(t *testing.T) {
	dir := t.TempDir()
	spec := CollectionSpec{Path: "/notes", Schema: mustSchema(t, notesSchema)}
	anyID := spec
	anyID.AnyID = true
	old := openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{anyID}})
	ss := old.Session()
	for _, tc := range unroutableIDs {
		if _, err := ss.Put("/notes", tc.id, Record{"title": "old"}); err != nil {
			t.Fatalf("Put(id %q) with AnyID=%v", tc.id, err)
		}
	}
	commit(t, old, ss)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{spec}})
	if recs, err := s.Session().List("/notes", ListOptions{}); err != nil || len(recs) != len(unroutableIDs) {
		t.Errorf("List()=%d records, %v, want %d", len(recs), err, len(unroutableIDs))
	}
	ss = s.Session()
	for _, tc := range unroutableIDs {
		if rec, err := ss.Get("/notes", tc.id, ReadOptions{}); err != nil || rec["title"] != "old" {
			t.Errorf("Get(%q)=%v, %v, want the stored record", tc.id, rec, err)
		}
		if rec, err := ss.Patch("/notes", tc.id, Record{"title": "patched"}, At(1)); err != nil || rec[FieldVersion] != 2 {
			t.Errorf("Patch(%q)=%v, %v, want version 2", tc.id, rec, err)
		}
		if ok, err := ss.Delete("/notes", tc.id, At(2)); !ok || err != nil {
			t.Errorf("Delete(%q)=%v, %v, want true", tc.id, ok, err)
		}
	}
	commit(t, s, ss)
	if n, err := s.Session().Count("/notes"); n != 0 || err != nil {
		t.Errorf("Count()=%d, %v, want 0", n, err)
	}
}

func TestPut(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	first, err := ss.Put("/notes", "p1", Record{"title": "one", "owner": "ann"})
	if err != nil || first[FieldVersion] != 1 {
		t.Fatalf("Put(new)=%v, %v, want version 1", first, err)
	}
	commit(t, s, ss)
	time.Sleep(2 * time.Millisecond) // _updated has millisecond precision
	ss = s.Session()
	second, err := ss.Put("/notes", "p1", Record{"id": "p1", "title": "two", "_version": 99})
	if err != nil {
		t.Fatalf("Put(replace)=%v", err)
	}
	if second[FieldVersion] != 2 || second["owner"] != nil || second[FieldCreated] != first[FieldCreated] || second[FieldUpdated] == first[FieldUpdated] {
		t.Errorf("Put(replace)=%v, want version 2, no owner, same _created, new _updated", second)
	}
	want := []Change{{Op: OpPut, Stash: "/notes", ID: "p1", Version: 2, Base: 1, Record: second}}
	got := ss.Changes()
	if len(got) == 1 {
		if stored, err := decodeStored(got[0].stored); err != nil || !reflect.DeepEqual(stored, second) || storedVersion(got[0].stored) != 2 {
			t.Errorf("the change's stored bytes decode to %v (%v), want %v at version 2", stored, err, second)
		}
		got[0].stored = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes()=%v, want %v", got, want)
	}
	if _, err := ss.Put("/notes", "p1", Record{"id": "other", "title": "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put() with a different id in the record=%v, want ErrInvalid", err)
	}
}

func TestPatch(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	if _, err := ss.Create("/notes", Record{"id": "n1", "title": "t", "owner": "ann", "meta": map[string]any{"a": 1, "b": 2}}); err != nil {
		t.Fatal(err)
	}
	got, err := ss.Patch("/notes", "n1", Record{"owner": nil, "n": 5, "meta": map[string]any{"b": nil, "c": 3}}, At(1))
	if err != nil {
		t.Fatalf("Patch() after Create in one session=%v", err)
	}
	want := map[string]any{"a": 1.0, "c": 3.0}
	if got[FieldVersion] != 2 || got["owner"] != nil || got["n"] != 5.0 || !reflect.DeepEqual(got["meta"], want) || got["title"] != "t" {
		t.Errorf("Patch()=%v, want version 2, owner removed, n 5, meta %v", got, want)
	}
	if ops := changeOps(ss.Changes()); !slices.Equal(ops, []string{"create 0->1", "patch 1->2"}) {
		t.Errorf("Changes()=%v, want create then patch", ops)
	}
	commit(t, s, ss)
	tests := []struct {
		name    string
		id      string
		fields  Record
		version Version
		want    error
	}{
		{"stale version", "n1", Record{"n": 1}, At(1), ErrConflict},
		{"missing", "nope", Record{"n": 1}, AnyVersion, ErrNotFound},
		{"invalid", "n1", Record{"n": -1}, AnyVersion, ErrInvalid},
		{"other id", "n1", Record{"id": "n2"}, AnyVersion, ErrInvalid},
		{"current version", "n1", Record{"n": 1}, At(2), nil},
		{"any version", "n1", Record{"n": 1}, AnyVersion, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Session().Patch("/notes", tc.id, tc.fields, tc.version)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("Patch()=%v, want %v", err, tc.want)
			}
		})
	}
}

func changeOps(chs []Change) []string {
	var out []string
	for _, c := range chs {
		out = append(out, fmt.Sprintf("%s %d->%d", c.Op, c.Base, c.Version))
	}
	return out
}

func TestDelete(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	if _, err := ss.Create("/notes", Record{"id": "d1", "title": "t"}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, ss)
	ss = s.Session()
	if _, err := ss.Patch("/notes", "d1", Record{"n": 1}, AnyVersion); err != nil {
		t.Fatal(err)
	}
	ok, err := ss.Delete("/notes", "d1", AnyVersion)
	if !ok || err != nil {
		t.Fatalf("Delete(existing)=%v, %v, want true", ok, err)
	}
	if _, err := ss.Get("/notes", "d1", ReadOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get() after Delete in session=%v, want ErrNotFound", err)
	}
	if ok, err := ss.Delete("/notes", "d1", AnyVersion); ok || err != nil {
		t.Errorf("Delete() twice=%v, %v, want false, nil", ok, err)
	}
	if ok, err := ss.Delete("/notes", "never", AnyVersion); ok || err != nil {
		t.Errorf("Delete(missing)=%v, %v, want false, nil", ok, err)
	}
	if got := changeOps(ss.Changes()); !slices.Equal(got, []string{"patch 1->2", "delete 2->2"}) {
		t.Errorf("Changes()=%v, want patch 1->2, delete 2->2", got)
	}
	if _, err := ss.Create("/notes", Record{"id": "d1", "title": "reborn"}); err != nil {
		t.Errorf("Create() after Delete in session=%v", err)
	}
	commit(t, s, ss)
	got, err := s.Session().Get("/notes", "d1", ReadOptions{})
	if err != nil || got["title"] != "reborn" || got[FieldVersion] != 3 {
		t.Errorf("Get() after commit=%v, %v, want the new record at version 3, after the 2 it was deleted at", got, err)
	}
}

// TestVersionsGoOnAfterDelete: a record created again under a deleted id
// goes on from the version it was deleted at, across commits and restarts,
// so a version read before the delete never matches the new record.
func TestVersionsGoOnAfterDelete(t *testing.T) {
	for _, driver := range []string{DriverBbolt, DriverMemory} {
		t.Run(driver, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(t, notesSchema)}}}
			if driver == DriverMemory {
				opts.Stores = []StoreSpec{{Name: "/s", Driver: driver}}
				opts.Collections[0].Store = "/s"
			}
			s := openSet(t, opts)
			write := func(f func(ss *Session) error) error {
				ss := s.Session()
				if err := f(ss); err != nil {
					return err
				}
				_, err := s.Commit(ss)
				return err
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(write(func(ss *Session) error { _, err := ss.Put("/notes", "a", Record{"title": "one"}); return err }))
			must(write(func(ss *Session) error { _, err := ss.Delete("/notes", "a", VersionOf(1)); return err }))
			// Created again: version 2, not 1.
			must(write(func(ss *Session) error { _, err := ss.Create("/notes", Record{"id": "a", "title": "two"}); return err }))
			// A patch based on the first record's version 1 is stale.
			err := write(func(ss *Session) error { _, err := ss.Patch("/notes", "a", Record{"n": 1}, VersionOf(1)); return err })
			if !errors.Is(err, ErrConflict) {
				t.Errorf("Patch(version 1) of the record created again=%v, want a conflict", err)
			}
			// Again with put, after a second delete.
			must(write(func(ss *Session) error { _, err := ss.Delete("/notes", "a", AnyVersion); return err }))
			must(write(func(ss *Session) error { _, err := ss.Put("/notes", "a", Record{"title": "three"}); return err }))
			got, err := s.Session().Get("/notes", "a", ReadOptions{})
			if err != nil || got[FieldVersion] != 3 || got["title"] != "three" {
				t.Errorf("Get()=%v, %v, want title three at version 3 (deleted at 2)", got, err)
			}
			n, err := s.Session().Count("/notes")
			if err != nil || n != 1 {
				t.Errorf("Count()=%d, %v, want 1", n, err)
			}
			if driver == DriverMemory {
				return // a memory store starts empty: the event log rebuilds it
			}
			// After a restart, a delete made before it still counts.
			must(write(func(ss *Session) error { _, err := ss.Delete("/notes", "a", AnyVersion); return err }))
			must(s.Close())
			s = openSet(t, opts)
			must(write(func(ss *Session) error { _, err := ss.Create("/notes", Record{"id": "a", "title": "five"}); return err }))
			if got, err := s.Session().Get("/notes", "a", ReadOptions{}); err != nil || got[FieldVersion] != 4 {
				t.Errorf("Get() after a restart=%v, %v, want version 4 (deleted at 3)", got, err)
			}
		})
	}
}

func TestReservedFields(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	rec, err := ss.Create("/notes", Record{"title": "t", "_version": 7, "_created": "x", "_updated": "y"})
	if err != nil || rec[FieldVersion] != 1 || rec[FieldCreated] == "x" {
		t.Errorf("Create() with _ fields set=%v, %v, want them replaced by the stash's", rec, err)
	}
	_, err = ss.Create("/notes", Record{"title": "t", "_secret": 1, "_other": 2})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 2 || ve.Fields[0].Pointer != "/_other" {
		t.Errorf("Create() with unknown _ fields=%v, want a ValidationError for both", err)
	}
}

func TestValidationListsEveryField(t *testing.T) {
	s := notesSet(t)
	_, err := s.Session().Create("/notes", Record{"owner": 5, "n": -1, "email": true})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Create(invalid)=%v, want *ValidationError", err)
	}
	if !errors.Is(err, ErrInvalid) || ve.Collection != "/notes" {
		t.Errorf("Create(invalid)=%v, want ErrInvalid for /notes", err)
	}
	var ptrs []string
	for _, f := range ve.Fields {
		ptrs = append(ptrs, f.Pointer)
		if f.Message == "" {
			t.Errorf("FieldError %s has no message", f.Pointer)
		}
	}
	want := []string{"/email", "/n", "/owner", "/title"}
	if !slices.Equal(ptrs, want) {
		t.Errorf("ValidationError pointers=%v, want %v (%v)", ptrs, want, err)
	}
	if ve.Fields[3].Message != "is required" {
		t.Errorf("ValidationError /title=%q, want \"is required\"", ve.Fields[3].Message)
	}
}

func TestIndexedValueTooLarge(t *testing.T) {
	s := notesSet(t)
	_, err := s.Session().Create("/notes", Record{"title": "t", "owner": strings.Repeat("o", 5000)})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Pointer != "/owner" {
		t.Errorf("Create(owner of 5000 bytes)=%v, want an error at /owner", err)
	}
}

func TestNotJSON(t *testing.T) {
	s := notesSet(t)
	_, err := s.Session().Create("/notes", Record{"title": "t", "ch": make(chan int)})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Create() with a channel=%v, want ErrInvalid", err)
	}
}

// A string or field name that is not UTF-8 is refused: JSON would store
// U+FFFD in its place, so that two records could hold one unique value and
// two fields one name.
func TestNotUTF8(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	_, err := ss.Create("/notes", Record{"id": "a", "title": "t", "email": "a\xff"})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Pointer != "/email" || ve.Fields[0].Message != "must be valid UTF-8" {
		t.Errorf("Create(email a\\xff)=%v, want an error at /email", err)
	}
	_, err = ss.Put("/notes", "b", Record{"title": "t", "meta": map[string]any{"l": []any{"ok", "\xfe"}, "k\xff": 1.0}})
	if !errors.As(err, &ve) || len(ve.Fields) != 2 || ve.Fields[0].Pointer != "/meta/k\xff" || ve.Fields[1].Pointer != "/meta/l/1" {
		t.Errorf("Put(meta with bad bytes)=%v, want errors at /meta/k\\xff and /meta/l/1", err)
	}
	if got := ss.Changes(); len(got) != 0 {
		t.Errorf("Changes()=%v, want none", got)
	}
}

func TestNoCollectionReadOnlyClosed(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	calls := map[string]func(ss *Session, coll string) error{
		"get":    func(ss *Session, c string) error { _, err := ss.Get(c, "x", ReadOptions{}); return err },
		"list":   func(ss *Session, c string) error { _, err := ss.List(c, ListOptions{}); return err },
		"count":  func(ss *Session, c string) error { _, err := ss.Count(c); return err },
		"create": func(ss *Session, c string) error { _, err := ss.Create(c, Record{"title": "t"}); return err },
		"put":    func(ss *Session, c string) error { _, err := ss.Put(c, "x", Record{"title": "t"}); return err },
		"patch":  func(ss *Session, c string) error { _, err := ss.Patch(c, "x", Record{}, AnyVersion); return err },
		"delete": func(ss *Session, c string) error { _, err := ss.Delete(c, "x", AnyVersion); return err },
	}
	writes := map[string]bool{"create": true, "put": true, "patch": true, "delete": true}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(ss, "/nope"); !errors.Is(err, ErrNoCollection) {
				t.Errorf("%s(/nope)=%v, want ErrNoCollection", name, err)
			}
			err := call(s.ReadOnlySession(), "/notes")
			if writes[name] && !errors.Is(err, ErrReadOnly) {
				t.Errorf("%s() on a read-only session=%v, want ErrReadOnly", name, err)
			}
			if !writes[name] && errors.Is(err, ErrReadOnly) {
				t.Errorf("%s() on a read-only session=%v, want no ErrReadOnly", name, err)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, call := range calls {
		if err := call(ss, "/notes"); !errors.Is(err, ErrClosed) {
			t.Errorf("%s() after Close=%v, want ErrClosed", name, err)
		}
	}
	if _, err := s.Begin(); !errors.Is(err, ErrClosed) {
		t.Errorf("Begin() after Close=%v, want ErrClosed", err)
	}
}

func TestCount(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	for i := range 5 {
		if _, err := ss.Create("/notes", Record{"id": fmt.Sprint("c", i), "title": "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := ss.Count("/notes"); n != 5 || err != nil {
		t.Errorf("Count() with 5 pending creates=%d, %v, want 5", n, err)
	}
	commit(t, s, ss)
	ss = s.Session()
	ss.Delete("/notes", "c0", AnyVersion)
	ss.Put("/notes", "c1", Record{"title": "again"})
	ss.Create("/notes", Record{"id": "c9", "title": "t"})
	if n, _ := ss.Count("/notes"); n != 5 {
		t.Errorf("Count() with delete, put, create pending=%d, want 5", n)
	}
	if n, _ := s.Session().Count("/notes"); n != 5 {
		t.Errorf("Count() committed=%d, want 5", n)
	}
	ss.Reset()
	if n, _ := ss.Count("/notes"); n != 5 || len(ss.Changes()) != 0 {
		t.Errorf("Count() after Reset=%d with %d changes, want 5 and none", n, len(ss.Changes()))
	}
}

// TestVersionThatCannotMatch: a version that no record can be at (0, -0, a
// fraction, NaN, an infinity, one past 2^53) is a conflict for patch and
// delete, and the message names it as given.
func TestVersionThatCannotMatch(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	if _, err := ss.Create("/notes", Record{"id": "v1", "title": "t"}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, ss)
	tests := []struct {
		version Version
		want    string
	}{
		{At(0), "based on 0"},
		{At(-3), "based on -3"},
		{VersionOf(0), "based on 0"},
		{VersionOf(math.Copysign(0, -1)), "based on -0"},
		{VersionOf(1.9), "based on 1.9"},
		{VersionOf(2), "based on 2"},
		{VersionOf(9223372036854775807), "based on 9223372036854776000"},
		{VersionOf(1 << 60), "based on 1152921504606847000"},
		{VersionOf(math.NaN()), "based on NaN"},
		{VersionOf(math.Inf(1)), "based on +Inf"},
		{VersionOf(-1e300), "based on -1e+300"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			_, err := s.Session().Patch("/notes", "v1", Record{"n": 1}, tc.version)
			if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "record is at version 1, the patch is "+tc.want) {
				t.Errorf("Patch()=%v, want a conflict %q", err, tc.want)
			}
			ok, err := s.Session().Delete("/notes", "v1", tc.version)
			if ok || !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "the delete is "+tc.want) {
				t.Errorf("Delete()=%v, %v, want a conflict %q", ok, err, tc.want)
			}
		})
	}
	for _, v := range []Version{VersionOf(1), At(1), AnyVersion} {
		if _, err := s.Session().Patch("/notes", "v1", Record{"n": 1}, v); err != nil {
			t.Errorf("Patch(version %v)=%v, want it to apply", v, err)
		}
		if ok, err := s.Session().Delete("/notes", "v1", v); !ok || err != nil {
			t.Errorf("Delete(version %v)=%v, %v, want true", v, ok, err)
		}
	}
}

// TestReadThenWriteConflict: a command that read a record and writes it
// after another command changed it is a conflict, whichever call read it
// and whichever writes it; without the read, the write is based on what is
// stored then.
func TestReadThenWriteConflict(t *testing.T) {
	reads := map[string]func(ss *Session, id string) error{
		"get": func(ss *Session, id string) error {
			_, err := ss.Get("/notes", id, ReadOptions{})
			return ignoreNotFound(err)
		},
		"get json": func(ss *Session, id string) error {
			return ignoreNotFound(ss.GetJSON("/notes", id, ReadOptions{}, func([]byte, int, []string) error { return nil }))
		},
		"list": func(ss *Session, _ string) error { _, err := ss.List("/notes", ListOptions{}); return err },
		"list where": func(ss *Session, _ string) error {
			_, err := ss.List("/notes", ListOptions{Where: map[string]any{"owner": "ada"}})
			return err
		},
		"none": func(*Session, string) error { return nil },
	}
	writes := map[string]func(ss *Session, id string) error{
		"put": func(ss *Session, id string) error {
			_, err := ss.Put("/notes", id, Record{"title": "mine", "owner": "ada"})
			return err
		},
		"patch": func(ss *Session, id string) error {
			_, err := ss.Patch("/notes", id, Record{"n": 1}, AnyVersion)
			return err
		},
		"delete": func(ss *Session, id string) error {
			_, err := ss.Delete("/notes", id, AnyVersion)
			return err
		},
	}
	for rname, read := range reads {
		for wname, write := range writes {
			t.Run(rname+" then "+wname, func(t *testing.T) {
				s := notesSet(t)
				seed := s.Session()
				if _, err := seed.Put("/notes", "a", Record{"title": "first", "owner": "ada"}); err != nil {
					t.Fatal(err)
				}
				commit(t, s, seed)

				mine := s.Session()
				if err := read(mine, "a"); err != nil {
					t.Fatalf("read: %v", err)
				}
				other := s.Session()
				if _, err := other.Patch("/notes", "a", Record{"title": "theirs"}, AnyVersion); err != nil {
					t.Fatal(err)
				}
				commit(t, s, other)

				err := write(mine, "a")
				if rname == "none" {
					if err != nil {
						t.Errorf("%s without a read=%v, want it based on the stored version", wname, err)
					}
					return
				}
				if !errors.Is(err, ErrConflict) {
					t.Errorf("%s after another command's change=%v, want a conflict", wname, err)
				}
			})
		}
	}

	t.Run("read missing, then created by another", func(t *testing.T) {
		s := notesSet(t)
		mine := s.Session()
		if _, err := mine.Get("/notes", "b", ReadOptions{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get()=%v, want not found", err)
		}
		other := s.Session()
		if _, err := other.Create("/notes", Record{"id": "b", "title": "theirs"}); err != nil {
			t.Fatal(err)
		}
		commit(t, s, other)
		if _, err := mine.Put("/notes", "b", Record{"title": "mine"}); !errors.Is(err, ErrConflict) ||
			!strings.Contains(err.Error(), "another command created it (version 1) since this request read it") {
			t.Errorf("Put()=%v, want a conflict that says another command created it", err)
		}
	})
	t.Run("own writes and rereads", func(t *testing.T) {
		s := notesSet(t)
		mine := s.Session()
		if _, err := mine.Put("/notes", "c", Record{"title": "one"}); err != nil {
			t.Fatal(err)
		}
		if _, err := mine.Get("/notes", "c", ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := mine.Patch("/notes", "c", Record{"n": 2}, AnyVersion); err != nil {
			t.Errorf("Patch() of the session's own write=%v", err)
		}
		commit(t, s, mine)
		// After its commit the session starts over: its own change is not
		// another command's.
		if _, err := mine.Patch("/notes", "c", Record{"n": 3}, AnyVersion); err != nil {
			t.Errorf("Patch() after the session's commit=%v", err)
		}
		commit(t, s, mine)
	})
	// A list notes the records it returns, not those its limit cut off.
	t.Run("a record a list left out", func(t *testing.T) {
		s := notesSet(t)
		seed := s.Session()
		for _, id := range []string{"b", "c"} {
			if _, err := seed.Put("/notes", id, Record{"title": id}); err != nil {
				t.Fatal(err)
			}
		}
		commit(t, s, seed)
		mine := s.Session()
		if _, err := mine.Put("/notes", "a", Record{"title": "a"}); err != nil {
			t.Fatal(err)
		}
		recs, err := mine.List("/notes", ListOptions{Limit: 2})
		if err != nil || len(recs) != 2 || recs[1][FieldID] != "b" {
			t.Fatalf("List(limit 2)=%v, %v, want a and b", recs, err)
		}
		other := s.Session()
		if _, err := other.Patch("/notes", "c", Record{"title": "theirs"}, AnyVersion); err != nil {
			t.Fatal(err)
		}
		commit(t, s, other)
		if _, err := mine.Put("/notes", "c", Record{"title": "mine"}); err != nil {
			t.Errorf("Put() of a record the list did not return=%v, want it based on the stored version", err)
		}
	})
	t.Run("rereads without a write", func(t *testing.T) {
		s := notesSet(t)
		seed := s.Session()
		if _, err := seed.Put("/notes", "d", Record{"title": "first"}); err != nil {
			t.Fatal(err)
		}
		commit(t, s, seed)
		mine, other := s.Session(), s.Session()
		if _, err := mine.Get("/notes", "d", ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Patch("/notes", "d", Record{"title": "second"}, AnyVersion); err != nil {
			t.Fatal(err)
		}
		commit(t, s, other)
		if rec, err := mine.Get("/notes", "d", ReadOptions{}); err != nil || rec["title"] != "second" {
			t.Errorf("second Get()=%v, %v, want the committed record: only a write conflicts", rec, err)
		}
	})
}

// ignoreNotFound is err, or nil when it is ErrNotFound.
func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// TestSchemaNamesID: a schema that names "id" (in properties or required)
// validates the record's id like any field; one that does not never sees
// it, so "additionalProperties": false needs no "id" property.
// TestWriteAfterAnotherDelete: a delete keeps the version the record was at,
// yet a write based on the record as it stood is a conflict once another
// command deleted it, whether the delete came after this request read the
// record or after it wrote it: a put must not bring the record back.
func TestWriteAfterAnotherDelete(t *testing.T) {
	writes := map[string]func(ss *Session) error{
		"put": func(ss *Session) error { _, err := ss.Put("/notes", "a", Record{"title": "mine"}); return err },
		"patch": func(ss *Session) error {
			_, err := ss.Patch("/notes", "a", Record{"n": 1}, AnyVersion)
			return err
		},
		"create": func(ss *Session) error { _, err := ss.Create("/notes", Record{"id": "a", "title": "mine"}); return err },
		"delete": func(ss *Session) error { _, err := ss.Delete("/notes", "a", AnyVersion); return err },
	}
	setUp := func(t *testing.T) *Set {
		s := notesSet(t)
		seed := s.Session()
		if _, err := seed.Put("/notes", "a", Record{"title": "first"}); err != nil {
			t.Fatal(err)
		}
		commit(t, s, seed)
		return s
	}
	deleteA := func(t *testing.T, s *Set) {
		other := s.Session()
		if ok, err := other.Delete("/notes", "a", AnyVersion); !ok || err != nil {
			t.Fatalf("Delete()=%v, %v", ok, err)
		}
		commit(t, s, other)
	}
	for name, write := range writes {
		t.Run("read, deleted, "+name, func(t *testing.T) {
			s := setUp(t)
			mine := s.Session()
			if _, err := mine.Get("/notes", "a", ReadOptions{}); err != nil {
				t.Fatal(err)
			}
			deleteA(t, s)
			if err := write(mine); !errors.Is(err, ErrConflict) ||
				!strings.Contains(err.Error(), "another command deleted it (it was at version 1) since this request read it") {
				t.Errorf("%s=%v, want a conflict that says another command deleted it", name, err)
			}
		})
	}
	for _, name := range []string{"put", "patch", "delete"} {
		t.Run(name+", deleted, commit", func(t *testing.T) {
			s := setUp(t)
			mine := s.Session()
			if err := writes[name](mine); err != nil {
				t.Fatal(err)
			}
			deleteA(t, s)
			if _, err := s.Commit(mine); !errors.Is(err, ErrConflict) ||
				!strings.Contains(err.Error(), "record was deleted at version 1, the write was based on it") {
				t.Errorf("Commit()=%v, want a conflict that says the record was deleted", err)
			}
			if _, err := s.Session().Get("/notes", "a", ReadOptions{}); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get() after the conflict=%v, want the record still deleted", err)
			}
		})
	}
	// A write based on the delete itself goes on from its version.
	t.Run("deleted, read, put", func(t *testing.T) {
		s := setUp(t)
		deleteA(t, s)
		mine := s.Session()
		if _, err := mine.Get("/notes", "a", ReadOptions{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get()=%v, want not found", err)
		}
		rec, err := mine.Put("/notes", "a", Record{"title": "again"})
		if err != nil || rec[FieldVersion] != 2 {
			t.Fatalf("Put()=%v, %v, want version 2", rec, err)
		}
		commit(t, s, mine)
	})
}

func TestSchemaNamesID(t *testing.T) {
	tests := []struct {
		name, schema string
		rec          Record
		fail         string // the pointer of the failure, or "" for none
	}{
		{"pattern refuses", `{"properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}}}`, Record{"id": "ABC-123!"}, "/id"},
		{"pattern accepts", `{"properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}}}`, Record{"id": "abc"}, ""},
		{"pattern and a generated id", `{"properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}}}`, Record{}, "/id"},
		{"required id given", `{"required": ["id", "t"]}`, Record{"id": "abc", "t": "x"}, ""},
		{"required id generated", `{"required": ["id", "t"]}`, Record{"t": "x"}, ""},
		{"required t missing", `{"required": ["id", "t"]}`, Record{"id": "abc"}, "/t"},
		{"id not named", `{"properties": {"t": {"type": "string"}}, "additionalProperties": false}`, Record{"id": "abc", "t": "x"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := mustSchema(t, `{"schema": {"type": "object", `+strings.TrimPrefix(tc.schema, "{")+`}`)
			s := openSet(t, Options{Collections: []CollectionSpec{{Path: "/things", Schema: sc}}})
			_, err := s.Session().Create("/things", tc.rec)
			var verr *ValidationError
			switch {
			case tc.fail == "" && err != nil:
				t.Errorf("Create(%v)=%v, want it accepted", tc.rec, err)
			case tc.fail != "" && (!errors.As(err, &verr) || len(verr.Fields) != 1 || verr.Fields[0].Pointer != tc.fail):
				t.Errorf("Create(%v)=%v, want one failure at %s", tc.rec, err, tc.fail)
			}
		})
	}
}
