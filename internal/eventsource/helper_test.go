package eventsource

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// Collections of the test service: /notes in the default store (email is
// unique), /plain in the default store without a schema, /tags in a bbolt
// file of its own, /cache in memory.
const (
	notes = "/notes"
	plain = "/plain"
	tags  = "/tags"
	cache = "/cache"
)

func stashOptions(t testing.TB, dir string) stash.Options {
	t.Helper()
	sc, err := stash.ParseSchema("notes.schema.json", []byte(`{"schema": {"type": "object",
		"properties": {"title": {"type": "string"}, "email": {"type": "string"}}}, "unique": ["email"]}`))
	if err != nil {
		t.Fatalf("ParseSchema()=%v", err)
	}
	return stash.Options{
		DataDir: dir,
		Timeout: time.Second,
		Stores: []stash.StoreSpec{
			{Name: tags, File: "tags.db", Driver: stash.DriverBbolt},
			{Name: cache, Driver: stash.DriverMemory},
		},
		Collections: []stash.CollectionSpec{
			{Path: notes, Schema: sc},
			{Path: plain},
			{Path: tags, Store: tags},
			{Path: cache, Store: cache},
		},
	}
}

// openSet opens the test service's stores in dir. The cleanup checks the
// default store's bbolt consistency and closes the Set (again: harmless).
func openSet(t testing.TB, dir string) *stash.Set {
	t.Helper()
	s, err := stash.Open(stashOptions(t, dir))
	if err != nil {
		t.Fatalf("stash.Open()=%v", err)
	}
	t.Cleanup(func() {
		_ = s.DB().View(func(tx *bbolt.Tx) error {
			for err := range tx.Check() {
				t.Errorf("tx.Check: %v", err)
			}
			return nil
		})
		_ = s.Close()
	})
	return s
}

// openLog opens a Log on set; the cleanup closes it.
func openLog(t testing.TB, set *stash.Set, opts Options) *Log {
	t.Helper()
	if opts.Service == "" {
		opts.Service = "test"
	}
	l, err := Open(set, opts)
	if err != nil {
		t.Fatalf("Open()=%v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Errorf("Close()=%v", err)
		}
	})
	return l
}

// service is a Set and a Log in a temporary directory.
type service struct {
	dir string
	set *stash.Set
	log *Log
}

func newService(t testing.TB, opts Options) *service {
	t.Helper()
	dir := t.TempDir()
	set := openSet(t, dir)
	return &service{dir: dir, set: set, log: openLog(t, set, opts)}
}

// reopen closes the log and the set and opens them again.
func (s *service) reopen(t testing.TB, opts Options) {
	t.Helper()
	s.close(t)
	s.set = openSet(t, s.dir)
	s.log = openLog(t, s.set, opts)
}

func (s *service) close(t testing.TB) {
	t.Helper()
	if err := s.log.Close(t.Context()); err != nil {
		t.Fatalf("Log.Close()=%v", err)
	}
	if err := s.set.Close(); err != nil {
		t.Fatalf("Set.Close()=%v", err)
	}
}

// command is the Command of a test request.
func command(method, path string) Command {
	return Command{Method: method, Path: path, Route: path, RequestID: "req-" + path}
}

// commit runs write on a new session and commits its changes.
func commit(t testing.TB, l *Log, set *stash.Set, path string, write func(ss *stash.Session) error) *Event {
	t.Helper()
	ss := set.Session()
	if err := write(ss); err != nil {
		t.Fatalf("session write on %s: %v", path, err)
	}
	ev, err := l.Commit(context.Background(), command("POST", path), 201, ss.Changes(), nil)
	if err != nil {
		t.Fatalf("Commit(%s)=%v", path, err)
	}
	return ev
}

// create commits the creation of one record.
func create(t testing.TB, l *Log, set *stash.Set, coll string, rec stash.Record) *Event {
	t.Helper()
	return commit(t, l, set, coll, func(ss *stash.Session) error {
		_, err := ss.Create(coll, rec)
		return err
	})
}

// dump reads every record (hidden fields included) of every collection.
func dump(t testing.TB, set *stash.Set) map[string][]stash.Record {
	t.Helper()
	out := map[string][]stash.Record{}
	ss := set.ReadOnlySession()
	for _, c := range set.Collections() {
		after := ""
		for {
			page, err := ss.List(c.Path(), stash.ListOptions{After: after, Limit: 100, Hidden: true})
			if err != nil {
				t.Fatalf("List(%s)=%v", c.Path(), err)
			}
			out[c.Path()] = append(out[c.Path()], page...)
			if len(page) < 100 {
				break
			}
			after = page[len(page)-1]["id"].(string)
		}
	}
	return out
}

// readAll returns every event of the log.
func readAll(t testing.TB, l *Log) []*Event {
	t.Helper()
	var evs []*Event
	if err := l.Read(0, 0, func(ev *Event) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatalf("Read()=%v", err)
	}
	return evs
}

// checkGapFree fails unless evs have the seqs 1..len(evs), in order, and unique ids.
func checkGapFree(t testing.TB, evs []*Event) {
	t.Helper()
	ids := map[string]bool{}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d, want %d", i, ev.Seq, i+1)
		}
		if ids[ev.ID] {
			t.Fatalf("event %d repeats id %s", ev.Seq, ev.ID)
		}
		ids[ev.ID] = true
	}
}

// waitFor polls cond until it holds; it fails the test after a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// textLogger logs as text into b.
func textLogger(b *syncbuf.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// sameRecords fails if two dumps differ, naming the first difference.
func sameRecords(t testing.TB, got, want map[string][]stash.Record) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for coll := range want {
		if !reflect.DeepEqual(got[coll], want[coll]) {
			t.Fatalf("records of %s:\n got %s\nwant %s", coll, fmt.Sprint(got[coll]), fmt.Sprint(want[coll]))
		}
	}
	t.Fatalf("records=%v, want %v", got, want)
}
