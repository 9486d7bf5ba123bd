package eventsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// history commits a mix of creates, patches and deletes in every store
// (the memory store only withCache).
func history(t *testing.T, s *service, withCache bool) {
	t.Helper()
	for i := range 3 {
		create(t, s.log, s.set, notes, stash.Record{"id": fmt.Sprintf("n%d", i), "title": "note", "email": fmt.Sprintf("u%d@example.com", i)})
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprintf("t%d", i), "n": i})
		if withCache {
			create(t, s.log, s.set, cache, stash.Record{"id": fmt.Sprintf("c%d", i)})
		}
	}
	commit(t, s.log, s.set, "/notes/n1", func(ss *stash.Session) error {
		if _, err := ss.Patch(notes, "n1", stash.Record{"title": "patched", "email": "moved@example.com"}, stash.At(1)); err != nil {
			return err
		}
		_, err := ss.Put(tags, "t1", stash.Record{"n": 10})
		return err
	})
	commit(t, s.log, s.set, "/tags/t2", func(ss *stash.Session) error {
		_, err := ss.Delete(tags, "t2", stash.AnyVersion)
		if err != nil || !withCache {
			return err
		}
		_, err = ss.Delete(cache, "c0", stash.AnyVersion)
		return err
	})
	if _, err := s.log.Commit(t.Context(), command("POST", "/ping"), 202, nil, []Emit{{Type: "ping"}}); err != nil {
		t.Fatalf("Commit() of an emit-only command=%v", err)
	}
}

// checkCounts fails unless every collection's counter matches its records.
func checkCounts(t *testing.T, set *stash.Set, recs map[string][]stash.Record) {
	t.Helper()
	ss := set.ReadOnlySession()
	for _, c := range set.Collections() {
		n, err := ss.Count(c.Path())
		if err != nil {
			t.Fatalf("Count(%s)=%v", c.Path(), err)
		}
		if n != len(recs[c.Path()]) {
			t.Fatalf("Count(%s)=%d, want %d", c.Path(), n, len(recs[c.Path()]))
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCatchUpAfterCrash simulates a crash between the default store's commit
// and the tags store's: the tags file goes back to an older copy. Open
// catches it up from the log, and a second Open has nothing to do.
func TestCatchUpAfterCrash(t *testing.T) {
	s := newService(t, Options{})
	create(t, s.log, s.set, tags, stash.Record{"id": "old"})
	s.close(t)
	tagsFile := filepath.Join(s.dir, "tags.db")
	copyFile(t, tagsFile, tagsFile+".old")

	s.reopen(t, Options{})
	history(t, s, false)
	want := dump(t, s.set)
	wantApplied := s.set.Applied()
	s.close(t)
	copyFile(t, tagsFile+".old", tagsFile)

	var logs syncbuf.Buffer
	s.reopen(t, Options{Logger: textLogger(&logs)})
	if !strings.Contains(logs.String(), "catching stores up") || !strings.Contains(logs.String(), "from=1") {
		t.Fatalf("log=%q, want a catch-up from seq 1", logs.String())
	}
	got := dump(t, s.set)
	sameRecords(t, got, want)
	checkCounts(t, s.set, got)
	if a := s.set.Applied(); a[tags] != wantApplied[tags] {
		t.Fatalf("Applied()[%s]=%d, want %d", tags, a[tags], wantApplied[tags])
	}

	var again syncbuf.Buffer
	s.reopen(t, Options{Logger: textLogger(&again)})
	if strings.Contains(again.String(), "catching stores up") {
		t.Fatalf("second Open log=%q, want no catch-up", again.String())
	}
	if a := s.set.Applied(); a[tags] != wantApplied[tags] {
		t.Fatalf("Applied()[%s]=%d, want %d", tags, a[tags], wantApplied[tags])
	}
	sameRecords(t, dump(t, s.set), want)
}

// TestCatchUpMemoryStore: a memory store is empty after a restart and is
// refilled from the log at Open.
func TestCatchUpMemoryStore(t *testing.T) {
	s := newService(t, Options{})
	history(t, s, true)
	want := dump(t, s.set)
	if len(want[cache]) != 2 {
		t.Fatalf("records of %s=%v, want 2", cache, want[cache])
	}
	s.reopen(t, Options{})
	got := dump(t, s.set)
	sameRecords(t, got, want)
	checkCounts(t, s.set, got)
	// The log goes on where it was.
	if ev := create(t, s.log, s.set, cache, stash.Record{"id": "after"}); ev.Seq != s.log.Head() || ev.Seq != uint64(len(readAll(t, s.log))) {
		t.Fatalf("seq after reopening=%d, want the head %d", ev.Seq, s.log.Head())
	}
	checkGapFree(t, readAll(t, s.log))
}

// TestRebuild empties every store and replays the log: every record of
// every collection is as before.
func TestRebuild(t *testing.T) {
	s := newService(t, Options{})
	history(t, s, true)
	want := dump(t, s.set)
	wantApplied := s.set.Applied()
	if err := s.log.Rebuild(t.Context()); err != nil {
		t.Fatalf("Rebuild()=%v", err)
	}
	got := dump(t, s.set)
	sameRecords(t, got, want)
	checkCounts(t, s.set, got)
	if a := s.set.Applied(); fmt.Sprint(a) != fmt.Sprint(wantApplied) {
		t.Fatalf("Applied()=%v, want %v", a, wantApplied)
	}
	// Commands go on after a rebuild, with the unique index rebuilt too.
	ss := s.set.Session()
	if _, err := ss.Create(notes, stash.Record{"title": "dup", "email": "moved@example.com"}); !errors.Is(err, stash.ErrConflict) {
		t.Fatalf("Create() with a taken email=%v, want ErrConflict", err)
	}
	create(t, s.log, s.set, notes, stash.Record{"title": "new", "email": "u1@example.com"})
}

// TestRebuildInterrupted: a rebuild stopped half-way is finished by the next Open.
func TestRebuildInterrupted(t *testing.T) {
	s := newService(t, Options{})
	history(t, s, true)
	want := dump(t, s.set)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.log.Rebuild(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Rebuild(cancelled)=%v, want context.Canceled", err)
	}
	if got := dump(t, s.set); len(got[notes])+len(got[tags])+len(got[cache]) != 0 {
		t.Fatalf("records after a cancelled rebuild=%v, want none yet", got)
	}
	s.reopen(t, Options{})
	sameRecords(t, dump(t, s.set), want)
}
