package stash

import (
	"bytes"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// topBucket is the one top-level bucket the stash owns in a bbolt file; other
// packages (the event log) keep their own top-level buckets in the default file.
const topBucket = "stash"

type boltStore struct {
	db    *bbolt.DB
	cache *recordCache
	// gaps holds, for each bucket id, the ceil of the one gap the last
	// write transaction that put into the bucket put into (nil: its end).
	// Only write transactions use it, one at a time.
	gaps map[string][]byte
}

var _ kvStore = (*boltStore)(nil)

func (s *boltStore) begin(writable bool) (kvTx, error) {
	if writable {
		s.cache.writing()
	}
	tx, err := s.db.Begin(writable)
	if err != nil && writable {
		s.cache.written()
	}
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, err
	}
	t := newBoltTx(tx)
	if writable {
		t.cache = s.cache
		if s.gaps == nil {
			s.gaps = map[string][]byte{}
		}
		t.gaps = s.gaps
	}
	return t, nil
}

func (s *boltStore) close() error { return s.db.Close() }

// boltTx maps each bucket path to nested bbolt buckets under topBucket.
type boltTx struct {
	tx      *bbolt.Tx
	buckets []openBucket // the buckets found so far: a read finds one or two
	inline  [4]openBucket
	// cache is the store's record cache, for a write transaction until it
	// ends: it forgets each record the transaction writes.
	cache *recordCache
	// gaps is the store's gaps, for a write transaction: notePut reads them,
	// commit records this transaction's.
	gaps map[string][]byte
}

// openBucket is a bucket of the transaction and its bucket id.
type openBucket struct {
	id    string
	b     *bbolt.Bucket
	puts  putKind // where the transaction's puts went in b
	floor []byte  // the key endKeys before ceil (nil: none so far back)
	ceil  []byte  // the first key at or after the first put's (nil: none)
}

// putKind tells where a write transaction's puts went in a bucket.
type putKind uint8

const (
	putsNone   putKind = iota // no put yet
	putsOneGap                // every put went after floor and at or before ceil
	putsMixed                 // some put went elsewhere
)

// endKeys is how many keys before a gap between two keys count as part of
// it: a few pages of records. Generated ids grow, but a command whose id
// came first can commit a round later than one whose id came after it, and
// so put its record just before the last new one.
const endKeys = 64

// notePut records a put of key into ob. While every put of the transaction
// goes into one gap between the keys ob held (at its end, or before other
// keys), and the last transaction that put into ob put into the same gap
// (its ceil in gaps), as ids that grow do (generated ids, and the index
// entries of one value for them), ob's split pages fill to the brim: later
// keys will go into that gap again, after these, so a page split half full,
// as bbolt splits for inserts anywhere, would stay half empty, and each
// commit would write more pages. A put anywhere else brings back bbolt's
// default for the transaction. So does a gap other than the last one:
// every lone put goes into one gap, and keys put one per transaction at
// random places (an index of values in no order, updates) would split
// full pages into a full one and one of two keys, again and again.
func (ob *openBucket) notePut(key []byte, gaps map[string][]byte) {
	switch ob.puts {
	case putsMixed:
		return
	case putsNone:
		c := ob.b.Cursor()
		k, _ := c.Seek(key)
		if k == nil {
			k, _ = c.Last()
		} else {
			ob.ceil = k
			k, _ = c.Prev()
		}
		for i := 1; i < endKeys && k != nil; i++ {
			k, _ = c.Prev()
		}
		ob.floor = k
		ob.puts = putsOneGap
		if last, ok := gaps[ob.id]; ok && bytes.Equal(last, ob.ceil) {
			ob.b.FillPercent = 1.0
		}
	}
	if (ob.floor != nil && bytes.Compare(key, ob.floor) <= 0) || (ob.ceil != nil && bytes.Compare(key, ob.ceil) > 0) {
		ob.puts = putsMixed
		ob.b.FillPercent = bbolt.DefaultFillPercent
	}
}

var _ kvTx = (*boltTx)(nil)

func newBoltTx(tx *bbolt.Tx) *boltTx {
	t := &boltTx{tx: tx}
	t.buckets = t.inline[:0]
	return t
}

// found returns the bucket of id found earlier, or nil. The pointer is
// valid until the next keep.
func (t *boltTx) found(id string) *openBucket {
	for i := range t.buckets {
		if t.buckets[i].id == id {
			return &t.buckets[i]
		}
	}
	return nil
}

// keep remembers bk as the bucket of id, which found does not know yet.
func (t *boltTx) keep(id string, bk *bbolt.Bucket) *openBucket {
	t.buckets = append(t.buckets, openBucket{id: id, b: bk})
	return &t.buckets[len(t.buckets)-1]
}

// lookup returns the bucket for b, or nil if it does not exist.
func (t *boltTx) lookup(b bucket) *openBucket {
	if ob := t.found(b.id); ob != nil {
		return ob
	}
	bk := t.tx.Bucket([]byte(topBucket))
	for _, n := range b.names {
		if bk == nil {
			return nil
		}
		bk = bk.Bucket([]byte(n))
	}
	if bk == nil {
		return nil
	}
	return t.keep(b.id, bk)
}

// create returns the bucket for b, creating it and its parents.
func (t *boltTx) create(b bucket) (*openBucket, error) {
	if ob := t.lookup(b); ob != nil {
		return ob, nil
	}
	bk, err := t.tx.CreateBucketIfNotExists([]byte(topBucket))
	if err != nil {
		return nil, err
	}
	for _, n := range b.names {
		if bk, err = bk.CreateBucketIfNotExists([]byte(n)); err != nil {
			return nil, fmt.Errorf("create bucket %q: %w", n, err)
		}
	}
	return t.keep(b.id, bk), nil
}

func (t *boltTx) get(b bucket, key []byte) []byte {
	ob := t.lookup(b)
	if ob == nil {
		return nil
	}
	return ob.b.Get(key)
}

func (t *boltTx) put(b bucket, key, val []byte) error {
	ob, err := t.create(b)
	if err != nil {
		return err
	}
	t.forget(b, key)
	ob.notePut(key, t.gaps)
	return ob.b.Put(key, val)
}

func (t *boltTx) del(b bucket, key []byte) error {
	ob := t.lookup(b)
	if ob == nil {
		return nil
	}
	t.forget(b, key)
	return ob.b.Delete(key)
}

// forget removes the record at key of b from the cache, if b holds a
// collection's records.
func (t *boltTx) forget(b bucket, key []byte) {
	if t.cache != nil && len(b.names) == 2 && b.names[1] == recordsBucket {
		t.cache.forget(b.names[0], key)
	}
}

func (t *boltTx) scan(b bucket, from []byte, fn func(k, v []byte) bool) {
	ob := t.lookup(b)
	if ob == nil {
		return
	}
	c := ob.b.Cursor()
	for k, v := c.Seek(from); k != nil; k, v = c.Next() {
		if !fn(k, v) {
			return
		}
	}
}

func (t *boltTx) drop() error {
	if t.cache != nil {
		t.cache.clear()
	}
	clear(t.buckets)
	t.buckets = t.buckets[:0]
	clear(t.gaps)
	err := t.tx.DeleteBucket([]byte(topBucket))
	if err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	_, err = t.tx.CreateBucket([]byte(topBucket))
	return err
}

func (t *boltTx) commit() error {
	t.noteGaps()
	err := t.tx.Commit()
	t.end()
	return err
}

// noteGaps records, before the commit ends the transaction (and with it
// the store's lock), the gap of each bucket whose puts all went into one,
// and forgets that of each bucket whose puts did not.
func (t *boltTx) noteGaps() {
	if t.gaps == nil {
		return
	}
	for _, ob := range t.buckets {
		switch ob.puts {
		case putsOneGap:
			t.gaps[ob.id] = bytes.Clone(ob.ceil)
		case putsMixed:
			delete(t.gaps, ob.id)
		}
	}
}

func (t *boltTx) rollback() {
	_ = t.tx.Rollback()
	t.end()
}

// end tells the cache, once, that a write transaction ended.
func (t *boltTx) end() {
	if t.cache != nil {
		t.cache.written()
		t.cache = nil
	}
}
