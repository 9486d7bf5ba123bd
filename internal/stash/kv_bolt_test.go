package stash

import (
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// TestAppendFillsPages writes growing keys in rounds of 25, as generated ids
// arrive, and checks that the pages they fill are nearly full: a page split
// half full would stay so, as no later key goes before it. The keys go at
// the end of the bucket, or before keys put earlier (ids given by a seed).
func TestAppendFillsPages(t *testing.T) {
	for _, seeded := range []bool{false, true} {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		b := newBucket("/notes", recordsBucket)
		val := make([]byte, 150)
		put := func(keys ...[]byte) {
			t.Helper()
			if err := db.Update(func(tx *bbolt.Tx) error {
				bt := newBoltTx(tx)
				for _, k := range keys {
					if err := bt.put(b, k, val); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		n := 1000
		if seeded {
			put([]byte("n0000"), []byte("n0001"))
			n += 2
		}
		for round := 0; round < 40; round++ {
			var keys [][]byte
			for i := 0; i < 25; i++ {
				keys = append(keys, fmt.Appendf(nil, "k%06d", round*25+i))
			}
			put(keys...)
		}
		err = db.View(func(tx *bbolt.Tx) error {
			st := tx.Bucket([]byte(topBucket)).Bucket([]byte("/notes")).Bucket([]byte(recordsBucket)).Stats()
			used := float64(st.LeafInuse) / float64(st.LeafPageN*db.Info().PageSize)
			if st.KeyN != n || used < 0.85 {
				t.Errorf("seeded %v: %d keys on %d leaf pages, %.0f%% in use; want %d keys on pages at least 85%% in use", seeded, st.KeyN, st.LeafPageN, used*100, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestInsertKeepsDefaultFill checks that a transaction that puts keys into
// more than one gap between a bucket's keys splits its pages as bbolt does
// by default, for later inserts among them, and that one whose keys all go
// into one gap (or among the endKeys keys before it) fills them.
func TestInsertKeepsDefaultFill(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := newBucket("/notes", recordsBucket)
	var first []string // k1000 to k1127: the last endKeys of them are the end
	for i := 0; i < 2*endKeys; i++ {
		first = append(first, fmt.Sprintf("k%04d", 1000+i))
	}
	last := first[len(first)-1]
	for _, c := range []struct {
		keys []string
		want float64
	}{
		{first, 1.0}, // into an empty bucket
		{[]string{"z1", "z0"}, 1.0},
		{[]string{last + "a", first[endKeys-1]}, bbolt.DefaultFillPercent}, // after the last key, then before the end
		{[]string{"k2000", first[len(first)-5]}, 1.0},                      // between k1127 and z0, then among the keys before it
		{[]string{"k2001", "z0"}, 1.0},                                     // the same gap, and its upper end
		{[]string{"k2002", "z1"}, bbolt.DefaultFillPercent},                // the same gap, and after its upper end
		{[]string{"a0", "k1050"}, bbolt.DefaultFillPercent},                // before the first key, then among the keys
		{[]string{"zz", "zz0"}, 1.0},                                       // after the last key
		{[]string{last}, 1.0},                                              // a key put again
	} {
		var fp float64
		if err := db.Update(func(tx *bbolt.Tx) error {
			bt := newBoltTx(tx)
			for _, k := range c.keys {
				if err := bt.put(b, []byte(k), []byte("v")); err != nil {
					return err
				}
			}
			fp = bt.lookup(b).b.FillPercent
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fp != c.want {
			t.Errorf("after puts of %v: FillPercent %v, want %v", c.keys, fp, c.want)
		}
	}
}
