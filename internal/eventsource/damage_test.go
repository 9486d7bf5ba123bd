package eventsource

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/stash/stashtest"
)

// TestCommitToDamagedStore: a command whose change reaches a damaged page of
// a store file fails with an error naming the file, and appends no event;
// the committer goes on, and the next command commits.
func TestCommitToDamagedStore(t *testing.T) {
	s := newService(t, Options{})
	commit(t, s.log, s.set, tags, func(ss *stash.Session) error {
		for i := range 300 {
			if _, err := ss.Create(tags, stash.Record{"id": fmt.Sprintf("t%03d", i), "body": strings.Repeat("b", 1000)}); err != nil {
				return err
			}
		}
		return nil
	})
	s.close(t)
	path := filepath.Join(s.dir, "tags.db")
	stashtest.DamageMiddleLeaf(t, path)
	s.set = openSet(t, s.dir)
	s.log = openLog(t, s.set, Options{})

	bad := "" // a record on the damaged page
	ss := s.set.ReadOnlySession()
	for i := 0; i < 300 && bad == ""; i++ {
		id := fmt.Sprintf("t%03d", i)
		if _, err := ss.Get(tags, id, stash.ReadOptions{}); errors.Is(err, stash.ErrDamaged) {
			bad = id
		}
	}
	if bad == "" {
		t.Fatal("no record of tags.db reads as damaged")
	}
	head := s.log.Head()
	put := stash.Change{Op: stash.OpPut, Stash: tags, ID: bad, Version: 2, Base: 1,
		Record: stash.Record{"id": bad, "_version": 2, "body": "new"}}
	_, err := s.log.Commit(t.Context(), command("PUT", tags+"/"+bad), 200, []stash.Change{put}, nil)
	if !errors.Is(err, stash.ErrDamaged) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Commit() of a change on a damaged page=%v, want ErrDamaged naming %s", err, path)
	}
	if got := s.log.Head(); got != head {
		t.Fatalf("Head()=%d after the failed command, want %d", got, head)
	}
	create(t, s.log, s.set, notes, stash.Record{"title": "after the damaged page"})
	if got := s.log.Head(); got != head+1 {
		t.Fatalf("Head()=%d after the next command, want %d", got, head+1)
	}
}

// TestReadDamagedLog: reading the log (minimi events, replay, the event
// stream) through a damaged page of minimi.db is an error that names the
// file and says to restore it, not a bbolt panic.
func TestReadDamagedLog(t *testing.T) {
	s := newService(t, Options{})
	for i := range 200 {
		create(t, s.log, s.set, cache, stash.Record{"id": fmt.Sprintf("c%03d", i), "body": strings.Repeat("b", 1000)})
	}
	s.close(t)
	path := filepath.Join(s.dir, stash.DefaultFile)
	stashtest.DamageMiddleLeaf(t, path)
	db, err := stash.OpenLogReadOnly(s.dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = ReadLog(db, 0, 0, func(*Event) error { return nil })
	if !errors.Is(err, stash.ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "restore it from a backup") {
		t.Fatalf("ReadLog() through a damaged page=%v, want ErrDamaged naming %s and saying to restore it", err, path)
	}
	if err := CheckLog(db); !errors.Is(err, stash.ErrDamaged) || !strings.Contains(err.Error(), path) {
		t.Fatalf("CheckLog() through a damaged page=%v, want ErrDamaged naming %s", err, path)
	}
}

// TestCheckLog: CheckLog passes a healthy log and names the first event
// that is not JSON, which a rebuild could not replay.
func TestCheckLog(t *testing.T) {
	s := newService(t, Options{})
	for i := range 20 {
		create(t, s.log, s.set, cache, stash.Record{"id": fmt.Sprintf("c%03d", i)})
	}
	s.close(t)
	path := filepath.Join(s.dir, stash.DefaultFile)
	check := func() error {
		db, err := stash.OpenLogReadOnly(s.dir, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return CheckLog(db)
	}
	if err := check(); err != nil {
		t.Fatalf("CheckLog() of a healthy log=%v", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(eventsBucket)
		v := b.Get(seqKey(7))
		return b.Put(seqKey(7), append([]byte(nil), v[:len(v)/2]...))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := check(); !errors.Is(err, ErrBadEvent) || !strings.Contains(err.Error(), "event 7 ") {
		t.Fatalf("CheckLog() of a log whose event 7 is cut in half=%v, want ErrBadEvent naming event 7", err)
	}
}
