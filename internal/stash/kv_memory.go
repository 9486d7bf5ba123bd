package stash

import (
	"strings"
	"sync"

	"github.com/google/btree"
)

// memStore keeps a store in an ordered in-memory tree. A write transaction
// works on a copy-on-write clone of the committed tree and swaps it in on
// commit, so readers see either all of a transaction or none of it.
type memStore struct {
	wmu    sync.Mutex   // held by the one write transaction
	mu     sync.RWMutex // guards tree and closed
	tree   *btree.BTreeG[memItem]
	closed bool
}

var _ kvStore = (*memStore)(nil)

type memItem struct {
	k string // bucket id + 0x00 + key
	v []byte
}

func memLess(a, b memItem) bool { return a.k < b.k }

func newMemTree() *btree.BTreeG[memItem] { return btree.NewG(32, memLess) }

func newMemStore() *memStore { return &memStore{tree: newMemTree()} }

func (s *memStore) begin(writable bool) (kvTx, error) {
	if writable {
		s.wmu.Lock()
	}
	s.mu.RLock()
	tree, closed := s.tree, s.closed
	s.mu.RUnlock()
	if closed {
		if writable {
			s.wmu.Unlock()
		}
		return nil, ErrClosed
	}
	if writable {
		tree = tree.Clone()
	}
	return &memTx{s: s, tree: tree, writable: writable}, nil
}

func (s *memStore) close() error {
	s.mu.Lock()
	s.closed = true
	s.tree = newMemTree()
	s.mu.Unlock()
	return nil
}

type memTx struct {
	s        *memStore
	tree     *btree.BTreeG[memItem]
	writable bool
	done     bool
}

var _ kvTx = (*memTx)(nil)

func memKey(b bucket, key []byte) string { return b.id + "\x00" + string(key) }

func (t *memTx) get(b bucket, key []byte) []byte {
	it, ok := t.tree.Get(memItem{k: memKey(b, key)})
	if !ok {
		return nil
	}
	return it.v
}

func (t *memTx) put(b bucket, key, val []byte) error {
	if !t.writable || t.done {
		return ErrReadOnly
	}
	t.tree.ReplaceOrInsert(memItem{k: memKey(b, key), v: val})
	return nil
}

func (t *memTx) del(b bucket, key []byte) error {
	if !t.writable || t.done {
		return ErrReadOnly
	}
	t.tree.Delete(memItem{k: memKey(b, key)})
	return nil
}

func (t *memTx) scan(b bucket, from []byte, fn func(k, v []byte) bool) {
	prefix := b.id + "\x00"
	t.tree.AscendGreaterOrEqual(memItem{k: prefix + string(from)}, func(it memItem) bool {
		k, ok := strings.CutPrefix(it.k, prefix)
		if !ok {
			return false
		}
		return fn([]byte(k), it.v)
	})
}

func (t *memTx) drop() error {
	if !t.writable || t.done {
		return ErrReadOnly
	}
	t.tree = newMemTree()
	return nil
}

func (t *memTx) commit() error {
	if !t.writable || t.done {
		return ErrReadOnly
	}
	t.done = true
	t.s.mu.Lock()
	closed := t.s.closed
	if !closed {
		t.s.tree = t.tree
	}
	t.s.mu.Unlock()
	t.s.wmu.Unlock()
	if closed {
		return ErrClosed
	}
	return nil
}

func (t *memTx) rollback() {
	if t.done {
		return
	}
	t.done = true
	if t.writable {
		t.s.wmu.Unlock()
	}
}
