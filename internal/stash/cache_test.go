package stash

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// getVersion reads id of /notes with GetJSON and returns its version and
// title, or ErrNotFound.
func getVersion(t testing.TB, s *Set, id string) (int, string, error) {
	t.Helper()
	var version int
	var title string
	err := s.ReadOnlySession().GetJSON("/notes", id, ReadOptions{}, func(doc []byte, v int, _ []string) error {
		version = v
		if i := strings.Index(string(doc), `"title":"`); i >= 0 {
			title, _, _ = strings.Cut(string(doc[i+len(`"title":"`):]), `"`)
		}
		return nil
	})
	return version, title, err
}

// TestCachedReadSeesWrites: a record read by id is read from the cache the
// next time, and every kind of write to it, committed, is what the next
// read returns.
func TestCachedReadSeesWrites(t *testing.T) {
	writes := map[string]struct {
		write     func(t *testing.T, s *Set)
		version   int
		title     string
		wantGone  bool
		wantCache bool // the record stays cached: the write did not touch it
	}{
		"put": {write: func(t *testing.T, s *Set) {
			ss := s.Session()
			if _, err := ss.Put("/notes", "n1", Record{"title": "put"}); err != nil {
				t.Fatal(err)
			}
			commit(t, s, ss)
		}, version: 2, title: "put"},
		"patch": {write: func(t *testing.T, s *Set) {
			ss := s.Session()
			if _, err := ss.Patch("/notes", "n1", Record{"title": "patched"}, AnyVersion); err != nil {
				t.Fatal(err)
			}
			commit(t, s, ss)
		}, version: 2, title: "patched"},
		"delete": {write: func(t *testing.T, s *Set) {
			ss := s.Session()
			if _, err := ss.Delete("/notes", "n1", AnyVersion); err != nil {
				t.Fatal(err)
			}
			commit(t, s, ss)
		}, wantGone: true},
		"truncate": {write: func(t *testing.T, s *Set) {
			if err := s.Truncate(); err != nil {
				t.Fatal(err)
			}
		}, wantGone: true},
		"another record": {write: func(t *testing.T, s *Set) {
			ss := s.Session()
			if _, err := ss.Put("/notes", "n2", Record{"title": "other"}); err != nil {
				t.Fatal(err)
			}
			commit(t, s, ss)
		}, version: 1, title: "first", wantCache: true},
		"a write that fails": {write: func(t *testing.T, s *Set) {
			ss := s.Session()
			if _, err := ss.Put("/notes", "n1", Record{"title": "stale"}); err != nil {
				t.Fatal(err)
			}
			// Another command changes n1 meanwhile: the first one's put,
			// based on version 1, is a conflict and writes nothing.
			other := s.Session()
			if _, err := other.Patch("/notes", "n1", Record{"title": "other"}, At(1)); err != nil {
				t.Fatal(err)
			}
			commit(t, s, other)
			if _, err := s.Commit(ss); !errors.Is(err, ErrConflict) {
				t.Fatalf("Commit() of a stale put=%v, want ErrConflict", err)
			}
		}, version: 2, title: "other"},
	}
	for name, w := range writes {
		t.Run(name, func(t *testing.T) {
			s := openSet(t, Options{Collections: []CollectionSpec{{Path: "/notes"}}})
			ss := s.Session()
			if _, err := ss.Create("/notes", Record{"id": "n1", "title": "first"}); err != nil {
				t.Fatal(err)
			}
			commit(t, s, ss)
			if v, title, err := getVersion(t, s, "n1"); err != nil || v != 1 || title != "first" {
				t.Fatalf("GetJSON()=%d %q %v, want version 1 of first", v, title, err)
			}
			cache := s.Collection("/notes").store.cache
			if cache.get("/notes", "n1") == nil {
				t.Fatal("n1 is not cached after a read")
			}
			w.write(t, s)
			if cached := cache.get("/notes", "n1") != nil; cached != w.wantCache {
				t.Errorf("n1 cached after the write=%v, want %v", cached, w.wantCache)
			}
			v, title, err := getVersion(t, s, "n1")
			switch {
			case w.wantGone:
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("GetJSON() after the write=%d %q %v, want ErrNotFound", v, title, err)
				}
			case err != nil || v != w.version || title != w.title:
				t.Fatalf("GetJSON() after the write=%d %q %v, want version %d of %q", v, title, err, w.version, w.title)
			}
		})
	}
}

// TestCacheNeverBehind: while one goroutine writes a record again and
// again, readers never get a version older than the last one committed
// before their read began, cached or not.
func TestCacheNeverBehind(t *testing.T) {
	s := openSet(t, Options{NoSync: true, Collections: []CollectionSpec{{Path: "/notes"}}})
	ss := s.Session()
	if _, err := ss.Create("/notes", Record{"id": "n1", "title": "0"}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, ss)
	var committed atomic.Int64
	committed.Store(1)
	writes := 500
	if testing.Short() {
		writes = 100
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var behind atomic.Int64
	var reads atomic.Int64
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
				want := committed.Load()
				v, _, err := getVersion(t, s, "n1")
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
				if int64(v) < want {
					behind.Add(1)
				}
			}
		}()
	}
	for i := range writes {
		ss := s.Session()
		if _, err := ss.Put("/notes", "n1", Record{"title": fmt.Sprint(i + 1)}); err != nil {
			t.Fatal(err)
		}
		commit(t, s, ss)
		committed.Store(int64(i + 2))
	}
	close(done)
	wg.Wait()
	if n := behind.Load(); n > 0 {
		t.Errorf("%d of %d reads returned a version older than the one committed before them", n, reads.Load())
	}
}

// TestCacheLimit: the cache holds at most its limit of bytes, evicting
// records to make room, and keeps no record larger than the limit.
func TestCacheLimit(t *testing.T) {
	c := newRecordCache(1000)
	rec := make([]byte, 300)
	for i := range 10 {
		c.keep(c.start(), "/notes", fmt.Sprint(i), rec)
		if c.bytes > 1000 || c.bytes != 300*len(c.recs) {
			t.Fatalf("after %d records: %d bytes in %d records, want at most 1000 and 300 each", i+1, c.bytes, len(c.recs))
		}
	}
	if len(c.recs) != 3 || c.get("/notes", "9") == nil {
		t.Errorf("cache holds %d records, the last one %v; want 3, the last one among them", len(c.recs), c.get("/notes", "9") != nil)
	}
	// Readers that missed a record at once each keep it; a later copy may
	// be larger (a write came between), and need room.
	for range 20 {
		c := newRecordCache(1000)
		for i := range 3 {
			c.keep(c.start(), "/notes", fmt.Sprint(i), rec)
		}
		c.keep(c.start(), "/notes", "0", make([]byte, 500))
		sum := 0
		for _, raw := range c.recs {
			sum += len(raw)
		}
		if c.bytes != sum || sum > 1000 || len(c.get("/notes", "0")) != 500 {
			t.Fatalf("after keeping a record again: counted %d bytes, holds %d, record 0 of %d bytes; want them equal, at most 1000, and 500",
				c.bytes, sum, len(c.get("/notes", "0")))
		}
	}
	c.keep(c.start(), "/notes", "big", make([]byte, 1001))
	if c.get("/notes", "big") != nil {
		t.Error("a record larger than the limit is cached")
	}
	c.writing()
	gen := c.start()
	c.keep(gen, "/notes", "during", rec)
	c.written()
	c.keep(gen, "/notes", "after", rec)
	if c.get("/notes", "during") != nil || c.get("/notes", "after") != nil {
		t.Error("a record read while a write transaction ran is cached")
	}
}
