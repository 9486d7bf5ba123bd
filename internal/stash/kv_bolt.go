package stash

import (
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
}

// openBucket is a bucket of the transaction and its bucket id.
type openBucket struct {
	id string
	b  *bbolt.Bucket
}

var _ kvTx = (*boltTx)(nil)

func newBoltTx(tx *bbolt.Tx) *boltTx {
	t := &boltTx{tx: tx}
	t.buckets = t.inline[:0]
	return t
}

// found returns the bucket of id found earlier, or nil.
func (t *boltTx) found(id string) *bbolt.Bucket {
	for _, ob := range t.buckets {
		if ob.id == id {
			return ob.b
		}
	}
	return nil
}

// keep remembers bk as the bucket of id, which found does not know yet.
func (t *boltTx) keep(id string, bk *bbolt.Bucket) {
	t.buckets = append(t.buckets, openBucket{id, bk})
}

// lookup returns the bbolt bucket for b, or nil if it does not exist.
func (t *boltTx) lookup(b bucket) *bbolt.Bucket {
	if bk := t.found(b.id); bk != nil {
		return bk
	}
	bk := t.tx.Bucket([]byte(topBucket))
	for _, n := range b.names {
		if bk == nil {
			return nil
		}
		bk = bk.Bucket([]byte(n))
	}
	if bk != nil {
		t.keep(b.id, bk)
	}
	return bk
}

// create returns the bbolt bucket for b, creating it and its parents.
func (t *boltTx) create(b bucket) (*bbolt.Bucket, error) {
	if bk := t.lookup(b); bk != nil {
		return bk, nil
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
	t.keep(b.id, bk)
	return bk, nil
}

func (t *boltTx) get(b bucket, key []byte) []byte {
	bk := t.lookup(b)
	if bk == nil {
		return nil
	}
	return bk.Get(key)
}

func (t *boltTx) put(b bucket, key, val []byte) error {
	bk, err := t.create(b)
	if err != nil {
		return err
	}
	t.forget(b, key)
	return bk.Put(key, val)
}

func (t *boltTx) del(b bucket, key []byte) error {
	bk := t.lookup(b)
	if bk == nil {
		return nil
	}
	t.forget(b, key)
	return bk.Delete(key)
}

// forget removes the record at key of b from the cache, if b holds a
// collection's records.
func (t *boltTx) forget(b bucket, key []byte) {
	if t.cache != nil && len(b.names) == 2 && b.names[1] == recordsBucket {
		t.cache.forget(b.names[0], key)
	}
}

func (t *boltTx) scan(b bucket, from []byte, fn func(k, v []byte) bool) {
	bk := t.lookup(b)
	if bk == nil {
		return
	}
	c := bk.Cursor()
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
	err := t.tx.DeleteBucket([]byte(topBucket))
	if err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	_, err = t.tx.CreateBucket([]byte(topBucket))
	return err
}

func (t *boltTx) commit() error {
	err := t.tx.Commit()
	t.end()
	return err
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
