package stash

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"go.etcd.io/bbolt"
)

// TestFillRandom runs transactions of puts (appended, inserted, updated) and
// deletes into a few buckets, some nested in others, and checks after each
// that the file is consistent, that every bucket holds what a map says it
// should, and that a bucket ends a transaction filling its pages only if its
// puts went into one window of at most endKeys keys.
func TestFillRandom(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, &bbolt.Options{PageSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	buckets := []bucket{newBucket("/a", recordsBucket), newBucket("/a", "index"), newBucket("/b", recordsBucket), newBucket("/a")}
	model := make([]map[string]string, len(buckets))
	for i := range model {
		model[i] = map[string]string{}
	}
	next := 0
	gaps := map[string][]byte{}
	full, mixed := 0, 0
	defer func() {
		if full == 0 || mixed == 0 {
			t.Errorf("%d transactions filled a bucket's pages and %d did not; want some of each", full, mixed)
		}
	}()
	key := func(bi int, kind int) string {
		m := model[bi]
		switch {
		case kind == 0 || len(m) == 0: // a growing id
			next++
			return fmt.Sprintf("k%08d", next*10)
		case kind == 1: // between existing keys
			next++
			return fmt.Sprintf("k%08d", rng.IntN(next*10))
		default: // an existing key
			keys := modelKeys(m)
			return keys[rng.IntN(len(keys))]
		}
	}
	for round := 0; round < 120; round++ {
		type window struct {
			before []string // the bucket's keys at the first put
			lo, hi string
			puts   int
		}
		wins := make([]*window, len(buckets))
		var fps []float64
		err := db.Update(func(tx *bbolt.Tx) error {
			bt := newBoltTx(tx)
			bt.gaps = gaps
			pattern := rng.IntN(3)
			ops := 1 + rng.IntN(200)
			for range ops {
				bi := rng.IntN(len(buckets))
				m := model[bi]
				if len(m) > 0 && rng.IntN(6) == 0 {
					k := key(bi, 2)
					if err := bt.del(buckets[bi], []byte(k)); err != nil {
						return err
					}
					delete(m, k)
					continue
				}
				kind := 0
				if pattern > 0 {
					kind = rng.IntN(3)
				} else if rng.IntN(50) == 0 {
					kind = 1
				}
				k := key(bi, kind)
				v := fmt.Sprintf("v%d-%s", round, bytes.Repeat([]byte("x"), rng.IntN(300)))
				w := wins[bi]
				if w == nil {
					w = &window{before: modelKeys(m), lo: k, hi: k}
					wins[bi] = w
				}
				w.lo, w.hi = min(w.lo, k), max(w.hi, k)
				w.puts++
				if err := bt.put(buckets[bi], []byte(k), []byte(v)); err != nil {
					return err
				}
				m[k] = v
			}
			for _, b := range buckets {
				fp := bbolt.DefaultFillPercent
				if ob := bt.found(b.id); ob != nil {
					fp = ob.b.FillPercent
				}
				fps = append(fps, fp)
			}
			bt.noteGaps()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for bi, w := range wins {
			if w == nil || fps[bi] != 1.0 {
				if w != nil {
					mixed++
				}
				continue
			}
			full++
			n := 0
			for _, k := range w.before {
				if k >= w.lo && k < w.hi {
					n++
				}
			}
			if n >= endKeys {
				t.Fatalf("round %d, bucket %d: FillPercent 1.0 after puts from %s to %s, across %d keys", round, bi, w.lo, w.hi, n)
			}
		}
		err = db.View(func(tx *bbolt.Tx) error {
			for err := range tx.Check() {
				t.Fatalf("round %d: tx.Check: %v", round, err)
			}
			bt := newBoltTx(tx)
			for bi, b := range buckets {
				got := map[string]string{}
				bt.scan(b, nil, func(k, v []byte) bool {
					if v != nil {
						got[string(k)] = string(v)
					}
					return true
				})
				if len(got) != len(model[bi]) {
					t.Fatalf("round %d, bucket %d: %d keys, want %d", round, bi, len(got), len(model[bi]))
				}
				for k, v := range model[bi] {
					if got[k] != v {
						t.Fatalf("round %d, bucket %d: key %s is %q, want %q", round, bi, k, got[k], v)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func modelKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
