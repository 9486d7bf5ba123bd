package stash

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// openSet opens a Set under t.TempDir() (unless opts.DataDir is set). Its
// cleanup runs bbolt's consistency check on every bbolt store, checks that
// counters and indexes agree with the records, and closes the Set.
func openSet(t testing.TB, opts Options) *Set {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Timeout == 0 {
		opts.Timeout = 100 * time.Millisecond
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open()=%v", err)
	}
	t.Cleanup(func() {
		if !s.closed.Load() {
			checkBolt(t, s)
			checkIndexes(t, s)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close()=%v", err)
		}
	})
	return s
}

// checkBolt runs tx.Check on every bbolt store.
func checkBolt(t testing.TB, s *Set) {
	t.Helper()
	for _, st := range s.stores {
		bs, ok := st.kv.(*boltStore)
		if !ok {
			continue
		}
		err := bs.db.View(func(tx *bbolt.Tx) error {
			for err := range tx.Check() {
				t.Errorf("store %q: tx.Check: %v", st.name, err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("store %q: View()=%v", st.name, err)
		}
	}
}

// checkIndexes verifies that every collection's counter equals its number of
// records and that its index entries are exactly those of its records.
func checkIndexes(t testing.TB, s *Set) {
	t.Helper()
	for _, c := range s.colls {
		err := s.read(c.store, func(tx kvTx) error {
			want := map[string]bool{}
			n := 0
			var err error
			tx.scan(c.records, nil, func(k, v []byte) bool {
				n++
				var rec Record
				if rec, err = decodeStored(v); err != nil {
					return false
				}
				for f := range c.indexes {
					if key := indexEntry(rec, f, string(k)); key != nil {
						want[f+"\x00"+string(key)] = true
					}
				}
				return true
			})
			if err != nil {
				return err
			}
			if got := readCount(tx, c); got != n {
				t.Errorf("%s: counter=%d, want %d records", c.path, got, n)
			}
			for f, b := range c.indexes {
				tx.scan(b, nil, func(k, _ []byte) bool {
					key := f + "\x00" + string(k)
					if !want[key] {
						t.Errorf("%s: stray index entry %q", c.path, key)
					}
					delete(want, key)
					return true
				})
			}
			for key := range want {
				t.Errorf("%s: missing index entry %q", c.path, key)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("%s: check indexes: %v", c.path, err)
		}
	}
}

func mustSchema(t testing.TB, src string) *Schema {
	t.Helper()
	sc, err := ParseSchema("test.schema.json", []byte(src))
	if err != nil {
		t.Fatalf("ParseSchema()=%v", err)
	}
	return sc
}

// commit commits a session's changes and fails the test on error.
func commit(t testing.TB, s *Set, ss *Session) []Change {
	t.Helper()
	ch, err := s.Commit(ss)
	if err != nil {
		t.Fatalf("Commit()=%v", err)
	}
	return ch
}

// fileContains reports whether the file at path contains sub.
func fileContains(data []byte, sub string) bool { return bytes.Contains(data, []byte(sub)) }
