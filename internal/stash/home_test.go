package stash

import (
	"cmp"
	"errors"
	"strings"
	"testing"
	"time"
)

// where is the store of /notes in notesIn: the default store, or a store
// of a name, driver and file.
type where struct{ name, driver, file string }

var (
	inDefault = where{}
	inMemory  = where{"/notes", DriverMemory, ""}
	inFile    = where{"/notes", DriverBbolt, "notes.db"}
)

// notesIn declares /a in the default store and /notes at w.
func notesIn(dir string, w where) Options {
	opts := Options{DataDir: dir, Timeout: 100 * time.Millisecond, NoSync: true,
		Collections: []CollectionSpec{{Path: "/a"}, {Path: "/notes"}}}
	if w != inDefault {
		opts.Stores = []StoreSpec{{Name: w.name, Driver: w.driver, File: w.file}}
		opts.Collections[1].Store = w.name
	}
	return opts
}

// writeBoth commits a record to /a and one to /notes as event l.seq+1, so
// that the applied seq of both stores moves on; it closes s.
func writeBoth(t *testing.T, s *Set, l *eventLog) {
	t.Helper()
	ss := s.Session()
	if _, err := ss.Create("/a", Record{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Create("/notes", Record{}); err != nil {
		t.Fatal(err)
	}
	l.commit(t, s, ss)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// wantMoved checks that err, of Open, is a *MovedError of /notes from from to to.
func wantMoved(t *testing.T, err error, from, to string) {
	t.Helper()
	var me *MovedError
	if !errors.As(err, &me) || !errors.Is(err, ErrMoved) || me.Collection != "/notes" || me.From != from || me.To != to ||
		me.Applied == 0 || !strings.Contains(err.Error(), `run "minimi replay"`) {
		t.Fatalf("Open()=%v, want a *MovedError of /notes from %s to %s", err, from, to)
	}
}

// TestOpenMovedCollection: a collection moved into a store that has applied
// events is refused at Open, naming it, the stores and what to do; a move
// into memory or a store at seq 0 (which the log catches up whole), a
// store renamed that keeps its file, or no move, opens.
func TestOpenMovedCollection(t *testing.T) {
	tests := []struct {
		name     string
		from, to where
		refused  bool
	}{
		{"memory to default", inMemory, inDefault, true},
		{"file to default", inFile, inDefault, true},
		{"default to memory", inDefault, inMemory, false},
		{"default to new file", inDefault, inFile, false},
		{"memory to new file", inMemory, inFile, false},
		{"same default", inDefault, inDefault, false},
		{"same memory", inMemory, inMemory, false},
		{"same file", inFile, inFile, false},
		{"store renamed, same file", inFile, where{"/n", DriverBbolt, "./notes.db"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBoth(t, openSet(t, notesIn(dir, tc.from)), &eventLog{})
			s, err := Open(notesIn(dir, tc.to))
			if !tc.refused {
				if err != nil {
					t.Fatalf("Open()=%v, want no error", err)
				}
				s.Close()
				return
			}
			wantMoved(t, err, cmp.Or(tc.from.file, memoryHome), DefaultFile)
		})
	}
}

// TestOpenMovedBack: a move into a new file is recorded, so that moving
// back into the default store, which has applied events since, is refused.
func TestOpenMovedBack(t *testing.T) {
	dir := t.TempDir()
	l := &eventLog{}
	writeBoth(t, openSet(t, notesIn(dir, inDefault)), l)
	writeBoth(t, openSet(t, notesIn(dir, inFile)), l)
	_, err := Open(notesIn(dir, inDefault))
	wantMoved(t, err, "notes.db", DefaultFile)
}

// TestOpenNewCollection: a collection declared for the first time in a
// store that has applied events opens, as does one removed and declared
// again in its store; declared again in another store, it is refused.
func TestOpenNewCollection(t *testing.T) {
	dir := t.TempDir()
	only := Options{DataDir: dir, Timeout: 100 * time.Millisecond, NoSync: true, Collections: []CollectionSpec{{Path: "/a"}}}
	l := &eventLog{}
	s := openSet(t, only)
	ss := s.Session()
	ss.Create("/a", Record{})
	l.commit(t, s, ss)
	s.Close()
	writeBoth(t, openSet(t, notesIn(dir, inDefault)), l) // /notes is new
	openSet(t, only).Close()                             // /notes removed
	writeBoth(t, openSet(t, notesIn(dir, inDefault)), l) // and declared again where it was
	openSet(t, notesIn(dir, inMemory)).Close()
	openSet(t, only).Close()
	_, err := Open(notesIn(dir, inDefault)) // declared again, not where it was
	wantMoved(t, err, memoryHome, DefaultFile)
}

// TestTruncateRecordsHomes: a fresh Open takes a moved collection, and
// Truncate records where it lives now, so that the next Open takes it too;
// a collection that Truncate emptied while undeclared is refused later in
// a store that has applied events.
func TestTruncateRecordsHomes(t *testing.T) {
	dir := t.TempDir()
	l := &eventLog{}
	writeBoth(t, openSet(t, notesIn(dir, inMemory)), l)

	opts := notesIn(dir, inDefault)
	opts.Fresh = true
	s := openSet(t, opts)
	if err := s.Truncate(); err != nil {
		t.Fatalf("Truncate()=%v", err)
	}
	l.replay(t, s, 1)
	s.Close()
	s = openSet(t, notesIn(dir, inDefault))
	if n, err := s.ReadOnlySession().Count("/notes"); err != nil || n != 1 {
		t.Errorf("Count(/notes) after replay and Open=%d, %v, want 1", n, err)
	}
	s.Close()

	opts.Collections = opts.Collections[:1] // replay without /notes
	s = openSet(t, opts)
	if err := s.Truncate(); err != nil {
		t.Fatalf("Truncate()=%v", err)
	}
	l.replay(t, s, 1)
	s.Close()
	_, err := Open(notesIn(dir, inDefault))
	wantMoved(t, err, replayedHome, DefaultFile)
}

// TestCheckFilesMoved: CheckFiles reports the collections that Open would
// refuse as moved.
func TestCheckFilesMoved(t *testing.T) {
	dir := t.TempDir()
	writeBoth(t, openSet(t, notesIn(dir, inMemory)), &eventLog{})
	if _, err := CheckFiles(notesIn(dir, inMemory)); err != nil {
		t.Fatalf("CheckFiles() unmoved=%v, want no error", err)
	}
	_, err := CheckFiles(notesIn(dir, inDefault)) // what Open would say
	wantMoved(t, err, memoryHome, DefaultFile)
}
