package stash

import (
	"fmt"
	"math/rand/v2"
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
		gaps := map[string][]byte{}
		put := func(keys ...[]byte) {
			t.Helper()
			if err := db.Update(func(tx *bbolt.Tx) error {
				bt := newBoltTx(tx)
				bt.gaps = gaps
				for _, k := range keys {
					if err := bt.put(b, k, val); err != nil {
						return err
					}
				}
				bt.noteGaps()
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
// by default, for later inserts among them, and so does one whose keys all
// go into one gap (or among the endKeys keys before it) other than the one
// the last transaction put into; one whose keys go into the same gap as the
// last one's fills them.
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
	gaps := map[string][]byte{}
	for _, c := range []struct {
		keys []string
		want float64
	}{
		{first, bbolt.DefaultFillPercent},                                  // into an empty bucket, with no gap before
		{[]string{"z1", "z0"}, 1.0},                                        // after the last key, as before
		{[]string{"zz", "zz0"}, 1.0},                                       // after the last key again
		{[]string{"zz1", first[len(first)-5]}, 1.0},                        // after the last key, then among the endKeys before the end
		{[]string{last + "a", first[endKeys-1]}, bbolt.DefaultFillPercent}, // before z0, then further back
		{[]string{"k2000", first[len(first)-5]}, bbolt.DefaultFillPercent}, // between k1127 and z0, with no gap before
		{[]string{"k2001", "z0"}, 1.0},                                     // the same gap, and its upper end
		{[]string{"k2002", "z1"}, bbolt.DefaultFillPercent},                // the same gap, and after its upper end
		{[]string{"k2003"}, bbolt.DefaultFillPercent},                      // the same gap, after one elsewhere
		{[]string{"k2004"}, 1.0},                                           // the same gap again
		{[]string{"a0"}, bbolt.DefaultFillPercent},                         // before the first key
		{[]string{"k1050"}, bbolt.DefaultFillPercent},                      // among the keys
		{[]string{"k1050"}, 1.0},                                           // the same key put again
		{[]string{last}, bbolt.DefaultFillPercent},                         // another key put again
	} {
		var fp float64
		if err := db.Update(func(tx *bbolt.Tx) error {
			bt := newBoltTx(tx)
			bt.gaps = gaps
			for _, k := range c.keys {
				if err := bt.put(b, []byte(k), []byte("v")); err != nil {
					return err
				}
			}
			fp = bt.lookup(b).b.FillPercent
			bt.noteGaps()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fp != c.want {
			t.Errorf("after puts of %v: FillPercent %v, want %v", c.keys, fp, c.want)
		}
	}
}

// TestRandomInsertsKeepDefaultFill puts keys one per transaction at random
// places, as an index of values in no order gets them, and updates records
// at random to values of other sizes, and checks that the pages stay about
// as full as bbolt's half-full splits leave them: each lone put goes into
// one gap, and filling the page it splits there to the brim would leave a
// full page and one of two keys, and the next put into the full one would
// split it again.
func TestRandomInsertsKeepDefaultFill(t *testing.T) {
	for _, update := range []bool{false, true} {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, &bbolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		bs := &boltStore{db: db, cache: newRecordCache(0)}
		rng := rand.New(rand.NewPCG(1, 2))
		b := newBucket("/users", "index", "email")
		put := func(k, v []byte) {
			t.Helper()
			tx, err := bs.begin(true)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.rollback()
			if err := tx.put(b, k, v); err != nil {
				t.Fatal(err)
			}
			if err := tx.commit(); err != nil {
				t.Fatal(err)
			}
		}
		n := 3000
		if update {
			for i := range n {
				put(fmt.Appendf(nil, "r%06d", i), []byte("v"))
			}
		}
		for i := range n {
			if update {
				put(fmt.Appendf(nil, "r%06d", rng.IntN(n)), make([]byte, 1+rng.IntN(100)))
			} else {
				put(fmt.Appendf(nil, "%016x@example.org\x00%06d", rng.Uint64(), i), []byte{1})
			}
		}
		err = bs.db.View(func(tx *bbolt.Tx) error {
			st := tx.Bucket([]byte(topBucket)).Bucket([]byte("/users")).Bucket([]byte("index")).Bucket([]byte("email")).Stats()
			used := float64(st.LeafInuse) / float64(st.LeafPageN*bs.db.Info().PageSize)
			if st.KeyN != n || used < 0.5 {
				t.Errorf("updates %v: %d keys on %d leaf pages, %.0f%% in use; want %d keys on pages at least 50%% in use", update, st.KeyN, st.LeafPageN, used*100, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
