package stash

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

// mustCreate commits one record through a session.
func mustCreate(t testing.TB, s *Set, coll string, rec Record) Record {
	t.Helper()
	ss := s.Session()
	out, err := ss.Create(coll, rec)
	if err != nil {
		t.Fatalf("Create(%v)=%v", rec, err)
	}
	commit(t, s, ss)
	return out
}

func TestWriterGroupMiddleConflict(t *testing.T) {
	s := notesSet(t)
	mustCreate(t, s, "/notes", Record{"id": "x", "title": "v1"})

	a := s.Session()
	a.Create("/notes", Record{"id": "g1", "title": "a"})
	b := s.Session()
	b.Create("/notes", Record{"id": "b1", "title": "b"})
	if _, err := b.Patch("/notes", "x", Record{"title": "from b"}, At(1)); err != nil {
		t.Fatal(err)
	}
	c := s.Session()
	c.Create("/notes", Record{"id": "g3", "title": "c"})
	d := s.Session() // one change, checked without a journal
	if _, err := d.Patch("/notes", "x", Record{"title": "from d"}, At(1)); err != nil {
		t.Fatal(err)
	}

	other := s.Session() // wins the race for x
	other.Patch("/notes", "x", Record{"title": "v2"}, At(1))
	commit(t, s, other)

	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Apply(1, a.Changes()); err != nil {
		t.Fatalf("Apply(a)=%v", err)
	}
	err = w.Apply(2, b.Changes())
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.ID != "x" || !errors.Is(err, ErrConflict) {
		t.Fatalf("Apply(b)=%v, want a *ConflictError on x", err)
	}
	if err := w.Apply(3, c.Changes()); err != nil {
		t.Fatalf("Apply(c)=%v", err)
	}
	if err := w.Apply(4, d.Changes()); !errors.As(err, &ce) || ce.ID != "x" {
		t.Fatalf("Apply(d)=%v, want a *ConflictError on x", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit()=%v", err)
	}
	r := s.Session()
	for _, id := range []string{"g1", "g3"} {
		if _, err := r.Get("/notes", id, ReadOptions{}); err != nil {
			t.Errorf("Get(%s)=%v, want the record of a committed Apply", id, err)
		}
	}
	if _, err := r.Get("/notes", "b1", ReadOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(b1)=%v, want ErrNotFound: the conflicting Apply must leave nothing", err)
	}
	if x, _ := r.Get("/notes", "x", ReadOptions{}); x["title"] != "v2" || x[FieldVersion] != 2 {
		t.Errorf("Get(x)=%v, want v2 at version 2", x)
	}
	if got := s.Applied()[""]; got != 3 {
		t.Errorf("Applied()[\"\"]=%d, want 3", got)
	}
	if n, _ := r.Count("/notes"); n != 3 {
		t.Errorf("Count()=%d, want 3", n)
	}
}

func TestApplySeesEarlierCalls(t *testing.T) {
	s, _ := usersSet(t)
	a, b, c := s.Session(), s.Session(), s.Session()
	a.Create("/users", Record{"id": "dup", "name": "a", "password": plain})
	b.Create("/users", Record{"id": "dup", "name": "b", "password": plain})
	a2 := s.Session()
	a2.Create("/users", Record{"id": "u1", "name": "a", "email": "same@x.io", "password": plain})
	c.Create("/users", Record{"id": "u2", "name": "c", "email": "same@x.io", "password": plain})

	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rollback()
	if err := w.Apply(1, a.Changes()); err != nil {
		t.Fatal(err)
	}
	var ce *ConflictError
	if err := w.Apply(2, b.Changes()); !errors.As(err, &ce) || ce.ID != "dup" {
		t.Errorf("Apply(create of an id created earlier in the group)=%v, want a conflict", err)
	}
	if err := w.Apply(3, a2.Changes()); err != nil {
		t.Fatal(err)
	}
	if err := w.Apply(4, c.Changes()); !errors.As(err, &ce) || ce.Field != "email" {
		t.Errorf("Apply(email taken earlier in the group)=%v, want a conflict on email", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Commit(c)
	if want := "conflict on /users field email: another record holds the same value (u1 holds it; u2 was written)"; !errors.Is(err, ErrConflict) || err.Error() != want {
		t.Errorf("Commit(email taken)=%v, want ErrConflict saying %q", err, want)
	}
}

func TestApplyRejects(t *testing.T) {
	s := notesSet(t)
	rec := map[string]any{"id": "r", "title": "t", "_version": 1}
	tests := []struct {
		name string
		ch   Change
		want error
	}{
		{"unknown collection", Change{Op: OpCreate, Stash: "/nope", ID: "r", Version: 1, Record: rec}, ErrNoCollection},
		{"unknown op", Change{Op: "upsert", Stash: "/notes", ID: "r", Version: 1, Record: rec}, ErrBadChange},
		{"version jump", Change{Op: OpPut, Stash: "/notes", ID: "r", Version: 3, Record: rec}, ErrBadChange},
		{"id mismatch", Change{Op: OpCreate, Stash: "/notes", ID: "q", Version: 1, Record: rec}, ErrBadChange},
		{"delete nothing", Change{Op: OpDelete, Stash: "/notes", ID: "r"}, ErrBadChange},
		{"stale delete", Change{Op: OpDelete, Stash: "/notes", ID: "r", Version: 1, Base: 1}, ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := s.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Rollback()
			if err := w.Apply(1, []Change{tc.ch}); !errors.Is(err, tc.want) {
				t.Errorf("Apply(%+v)=%v, want %v", tc.ch, err, tc.want)
			}
		})
	}
}

func TestWriterRollbackAndTx(t *testing.T) {
	s := notesSet(t)
	for _, commitIt := range []bool{false, true} {
		t.Run(fmt.Sprint("commit=", commitIt), func(t *testing.T) {
			id := fmt.Sprint("w", commitIt)
			ss := s.Session()
			ss.Create("/notes", Record{"id": id, "title": "t"})
			w, err := s.Begin()
			if err != nil {
				t.Fatal(err)
			}
			b, err := w.Tx().CreateBucketIfNotExists([]byte("events"))
			if err != nil {
				t.Fatal(err)
			}
			b.Put([]byte(id), []byte("event"))
			if err := w.Apply(1, ss.Changes()); err != nil {
				t.Fatal(err)
			}
			if commitIt {
				err = w.Commit()
			} else {
				w.Rollback()
			}
			w.Rollback() // safe after either
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Session().Get("/notes", id, ReadOptions{})
			var event []byte
			s.DB().View(func(tx *bbolt.Tx) error {
				if b := tx.Bucket([]byte("events")); b != nil {
					event = b.Get([]byte(id))
				}
				return nil
			})
			if (err == nil) != commitIt || (event != nil) != commitIt {
				t.Errorf("after commit=%v: Get()=%v, event=%q, want both present only if committed", commitIt, err, event)
			}
			if err := w.Apply(2, nil); err == nil {
				t.Errorf("Apply() after the Writer ended=nil, want an error")
			}
		})
	}
}

// eventLog stands in for the event log: Apply with increasing seqs and keep
// each change set as JSON, as the log would.
type eventLog struct {
	seq     uint64
	entries [][]byte
}

func (l *eventLog) commit(t *testing.T, s *Set, ss *Session) {
	t.Helper()
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	chs := ss.Changes()
	if err := w.Apply(l.seq+1, chs); err != nil {
		w.Rollback()
		t.Fatalf("Apply()=%v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	l.seq++
	data, err := json.Marshal(chs)
	if err != nil {
		t.Fatal(err)
	}
	l.entries = append(l.entries, data)
	ss.Reset()
}

func (l *eventLog) replay(t *testing.T, s *Set, from uint64) {
	t.Helper()
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i, data := range l.entries {
		if uint64(i+1) < from {
			continue
		}
		var chs []Change
		if err := json.Unmarshal(data, &chs); err != nil {
			t.Fatal(err)
		}
		if err := w.Replay(uint64(i+1), chs); err != nil {
			w.Rollback()
			t.Fatalf("Replay(%d)=%v", i+1, err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// threeStores opens a Set with /a in the default store, /b in its own bbolt
// file and /c in memory.
func threeStores(t *testing.T, dir string) *Set {
	t.Helper()
	return openSet(t, Options{
		DataDir: dir,
		Stores:  []StoreSpec{{Name: "/b", Driver: DriverBbolt, File: "stores/b.db"}, {Name: "/c", Driver: DriverMemory}},
		Collections: []CollectionSpec{
			{Path: "/a", Schema: mustSchema(t, notesSchema)},
			{Path: "/b", Store: "/b", Schema: mustSchema(t, notesSchema)},
			{Path: "/c", Store: "/c", Schema: mustSchema(t, notesSchema)},
		},
	})
}

func snapshot(t *testing.T, s *Set) map[string][]Record {
	t.Helper()
	out := map[string][]Record{}
	for _, c := range s.Collections() {
		recs, err := s.Session().List(c.Path(), ListOptions{Limit: 10000, Hidden: true})
		if err != nil {
			t.Fatal(err)
		}
		out[c.Path()] = recs
	}
	return out
}

func writeSome(t *testing.T, s *Set, l *eventLog) {
	t.Helper()
	for i := range 4 {
		ss := s.Session()
		for _, coll := range []string{"/a", "/b", "/c"} {
			id := fmt.Sprint("r", i)
			if _, err := ss.Create(coll, Record{"id": id, "title": coll, "owner": fmt.Sprint("o", i%2), "email": id + coll + "@x.io"}); err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				ss.Patch(coll, "r0", Record{"n": i}, AnyVersion)
			}
			if i == 3 {
				ss.Delete(coll, "r1", AnyVersion)
			}
		}
		l.commit(t, s, ss)
	}
}

func TestMultiStoreAndReplay(t *testing.T) {
	dir := t.TempDir()
	s := threeStores(t, dir)
	l := &eventLog{}
	writeSome(t, s, l)
	want := snapshot(t, s)
	if len(want["/b"]) != 3 || len(want["/c"]) != 3 {
		t.Fatalf("snapshot=%v, want 3 records in each store", want)
	}
	if _, err := os.Stat(filepath.Join(dir, "stores", "b.db")); err != nil {
		t.Errorf("store /b file: %v", err)
	}
	if got, wantApplied := s.Applied(), map[string]uint64{"": 4, "/b": 4, "/c": 4}; !reflect.DeepEqual(got, wantApplied) {
		t.Errorf("Applied()=%v, want %v", got, wantApplied)
	}

	// Replaying what every store has seen changes nothing.
	l.replay(t, s, 1)
	if got := snapshot(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("after replaying applied events: %v, want %v", got, want)
	}

	// Truncate, then replay: the same records, counts and indexes.
	if err := s.Truncate(); err != nil {
		t.Fatal(err)
	}
	if got := s.Applied(); got[""] != 0 || got["/b"] != 0 || got["/c"] != 0 {
		t.Errorf("Applied() after Truncate=%v, want all 0", got)
	}
	if n, _ := s.Session().Count("/a"); n != 0 {
		t.Errorf("Count() after Truncate=%d, want 0", n)
	}
	l.replay(t, s, 1)
	l.replay(t, s, 1)
	if got := snapshot(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("after Truncate and replay: %v, want %v", got, want)
	}
	if n, _ := s.Session().Count("/b"); n != 3 {
		t.Errorf("Count(/b) after replaying twice=%d, want 3", n)
	}
	if got, _ := s.Session().List("/c", ListOptions{Where: map[string]any{"owner": "o0"}}); !slices.Equal(ids(got), []string{"r0", "r2"}) {
		t.Errorf("List(/c owner o0) after replay=%v, want [r0 r2]", ids(got))
	}
}

func TestReopenCatchUp(t *testing.T) {
	dir := t.TempDir()
	s := threeStores(t, dir)
	l := &eventLog{}
	writeSome(t, s, l)
	want := snapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = threeStores(t, dir)
	if got := s.Applied(); got[""] != 4 || got["/b"] != 4 || got["/c"] != 0 {
		t.Errorf("Applied() after reopening=%v, want 4, 4 and 0 for memory", got)
	}
	if n, _ := s.Session().Count("/c"); n != 0 {
		t.Errorf("Count(/c) after reopening=%d, want 0: memory starts empty", n)
	}
	l.replay(t, s, 1) // only the memory store takes the events
	if got := snapshot(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("after catching up: %v, want %v", got, want)
	}
}

func TestApplyUndoAcrossStores(t *testing.T) {
	s := threeStores(t, t.TempDir())
	mustCreate(t, s, "/c", Record{"id": "taken", "title": "t"})
	ss := s.Session()
	ss.Create("/a", Record{"id": "a1", "title": "t", "owner": "o"})
	ss.Create("/b", Record{"id": "b1", "title": "t", "owner": "o"})
	chs := append(ss.Changes(), Change{Op: OpCreate, Stash: "/c", ID: "taken", Version: 1,
		Record: map[string]any{"id": "taken", "title": "t", "_version": 1}})
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Apply(9, chs); !errors.Is(err, ErrConflict) {
		t.Fatalf("Apply()=%v, want ErrConflict", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, coll := range []string{"/a", "/b"} {
		if n, _ := s.Session().Count(coll); n != 0 {
			t.Errorf("Count(%s)=%d, want 0 after a failed Apply", coll, n)
		}
	}
	if got := s.Applied(); got[""] != 0 || got["/b"] != 0 {
		t.Errorf("Applied()=%v, want 0: the failed Apply recorded its seq", got)
	}
}

// TestConcurrentPatches runs many sessions that each read a record and patch
// it with the version read, committing one Writer at a time: exactly one
// patch wins per version.
func TestConcurrentPatches(t *testing.T) {
	for _, driver := range []string{DriverBbolt, DriverMemory} {
		t.Run(driver, func(t *testing.T) {
			s := openSet(t, Options{
				NoSync:      true,
				Stores:      []StoreSpec{{Name: "/s", Driver: driver, File: fileFor(driver, "s.db")}},
				Collections: []CollectionSpec{{Path: "/n", Store: "/s", Schema: mustSchema(t, notesSchema)}},
			})
			mustCreate(t, s, "/n", Record{"id": "hot", "title": "t", "n": 0})
			const workers, rounds = 8, 25
			var (
				commitMu sync.Mutex
				mu       sync.Mutex
				wins     = map[int]int{} // version read -> wins
				total    int
				wg       sync.WaitGroup
			)
			for g := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range rounds {
						ss := s.Session()
						rec, err := ss.Get("/n", "hot", ReadOptions{})
						if err != nil {
							t.Error(err)
							return
						}
						v := rec[FieldVersion].(int)
						if _, err := ss.Patch("/n", "hot", Record{"n": g}, At(v)); err != nil {
							continue // lost before commit: another patch was committed after the read
						}
						commitMu.Lock()
						_, err = s.Commit(ss)
						commitMu.Unlock()
						switch {
						case err == nil:
							mu.Lock()
							wins[v]++
							total++
							mu.Unlock()
						case !errors.Is(err, ErrConflict):
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			for v, n := range wins {
				if n != 1 {
					t.Errorf("version %d was patched by %d winners, want 1", v, n)
				}
			}
			rec, err := s.Session().Get("/n", "hot", ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rec[FieldVersion] != 1+total || total == 0 {
				t.Errorf("final _version=%v after %d wins, want %d", rec[FieldVersion], total, 1+total)
			}
		})
	}
}

// TestReadersSeeWholeGroups reads two stores while groups that write both
// commit: a reader never sees one store ahead of the other once both are read
// after the first.
func TestReadersSeeWholeGroups(t *testing.T) {
	s := threeStores(t, t.TempDir())
	const groups = 40
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				ss := s.Session()
				na, errA := ss.Count("/a")
				nc, errC := ss.Count("/c")
				if errA != nil || errC != nil {
					t.Error(errA, errC)
					return
				}
				if nc < na {
					t.Errorf("read /a with %d records, then /c with %d: a group was half visible", na, nc)
					return
				}
			}
		}()
	}
	for i := range groups {
		ss := s.Session()
		ss.Create("/a", Record{"id": fmt.Sprint(i), "title": "t"})
		ss.Create("/c", Record{"id": fmt.Sprint(i), "title": "t"})
		if _, err := s.Commit(ss); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

func TestStoreBehindAfterFailedCommit(t *testing.T) {
	s := threeStores(t, t.TempDir())
	ss := s.Session()
	ss.Create("/a", Record{"id": "x", "title": "t"})
	ss.Create("/c", Record{"id": "x", "title": "t"})
	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Apply(1, ss.Changes()); err != nil {
		t.Fatal(err)
	}
	if b := s.Behind(); len(b) != 0 {
		t.Fatalf("Behind()=%q before a failure, want none", b)
	}
	s.byName["/c"].kv.close() // the memory store fails to commit
	if err := w.Commit(); !errors.Is(err, ErrBehind) {
		t.Fatalf("Commit() with a failing store=%v, want ErrBehind", err)
	}
	if b := s.Behind(); !slices.Equal(b, []string{"/c"}) {
		t.Errorf("Behind()=%q, want [/c]", b)
	}
	if _, err := s.Session().Get("/a", "x", ReadOptions{}); err != nil {
		t.Errorf("Get(/a x)=%v, want the default store committed", err)
	}
	w, err = s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	ch := Change{Op: OpCreate, Stash: "/c", ID: "y", Version: 1, Record: map[string]any{"id": "y", "title": "t", "_version": 1}}
	if err := w.Apply(2, []Change{ch}); !errors.Is(err, ErrBehind) {
		t.Errorf("Apply() to a store that is behind=%v, want ErrBehind", err)
	}
	w.Rollback()
	ss = s.Session()
	ss.Create("/b", Record{"id": "y", "title": "t"})
	if _, err := s.Commit(ss); err != nil {
		t.Errorf("Commit() to another store=%v, want nil", err)
	}
}

// TestReplaySkipsSeqsReplayedEarlierInTheGroup: Replay skips an event whose
// seq is not above the store's applied seq, so that replaying an event twice
// is harmless. That holds within one Writer too, where the applied seq is
// written only at Commit.
func TestReplaySkipsSeqsReplayedEarlierInTheGroup(t *testing.T) {
	s := notesSet(t)
	ss := s.Session()
	if _, err := ss.Create("/notes", Record{"id": "x", "title": "v1"}); err != nil {
		t.Fatal(err)
	}
	ev5 := ss.Changes()
	v2 := ev5[0]
	rec := cloneMap(v2.Record)
	rec["title"], rec[FieldVersion] = "v2", 2
	v2.Op, v2.Base, v2.Version, v2.Record, v2.stored = OpPut, 1, 2, rec, nil
	ev6 := []Change{v2}

	w, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []struct {
		seq     uint64
		changes []Change
	}{{5, ev5}, {6, ev6}, {5, ev5}} {
		if err := w.Replay(ev.seq, ev.changes); err != nil {
			t.Fatalf("Replay(%d)=%v", ev.seq, err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session().Get("/notes", "x", ReadOptions{})
	if err != nil || got["title"] != "v2" || got[FieldVersion] != 2 {
		t.Errorf("Get(x)=%v, %v; want v2 at version 2 (applied %v)", got, err, s.Applied())
	}
}
