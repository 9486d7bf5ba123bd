package stash

import (
	"bytes"
	"encoding/binary"
)

// The record, index, counter and meta logic is written once against kvTx;
// bbolt (kv_bolt.go) and memory (kv_memory.go) stores implement it.

// bucket names a keyspace of a store: a path of names under the stash's
// top-level bucket, e.g. {"/notes", "records"}.
type bucket struct {
	names []string
	// id is the length-prefixed encoding of names (0x01, uvarint length,
	// name, for each name). The memory store uses id+0x00 as the key prefix
	// of the bucket; no bucket's prefix is a prefix of another's.
	id string
}

func newBucket(names ...string) bucket {
	var b []byte
	for _, n := range names {
		b = append(b, 0x01)
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	return bucket{names: names, id: string(b)}
}

// kvTx is one transaction on a store. A read transaction sees one committed
// state; a write transaction sees its own writes. Slices returned by get and
// passed to scan are valid until the transaction ends and must not be
// modified; slices passed to put belong to the transaction afterwards.
type kvTx interface {
	// get returns the value of key in b, or nil if there is none.
	get(b bucket, key []byte) []byte
	// put sets key to val in b, creating b if needed. val must not be empty.
	put(b bucket, key, val []byte) error
	// del removes key from b; removing a missing key is not an error.
	del(b bucket, key []byte) error
	// scan calls fn for each key >= from in b, in ascending byte order,
	// until fn returns false.
	scan(b bucket, from []byte, fn func(k, v []byte) bool)
	// drop removes every bucket of the stash in this store.
	drop() error
	// commit makes the writes durable and visible; only for write transactions.
	commit() error
	// rollback ends the transaction, discarding its writes. Safe after commit.
	rollback()
}

// kvStore is a place where collections live: a bbolt file or memory.
type kvStore interface {
	// begin starts a transaction. Only one write transaction runs at a time:
	// begin(true) waits for the previous one to end.
	begin(writable bool) (kvTx, error)
	close() error
}

// journal records the previous state of every key written through it, so
// that a failed Apply can be undone without losing earlier calls' writes in
// the same transactions.
type journal struct {
	entries []undoEntry
}

type undoEntry struct {
	tx  kvTx
	b   bucket
	key []byte
	old []byte // nil: the key did not exist
}

// wrap returns tx with every put and del recorded in j.
func (j *journal) wrap(tx kvTx) kvTx { return journaledTx{kvTx: tx, j: j} }

// undo restores every key written through j, newest first.
func (j *journal) undo() error {
	for i := len(j.entries) - 1; i >= 0; i-- {
		e := j.entries[i]
		var err error
		if e.old == nil {
			err = e.tx.del(e.b, e.key)
		} else {
			err = e.tx.put(e.b, e.key, e.old)
		}
		if err != nil {
			return err
		}
	}
	j.entries = nil
	return nil
}

var _ kvTx = journaledTx{}

type journaledTx struct {
	kvTx
	j *journal
}

func (t journaledTx) remember(b bucket, key []byte) {
	old := t.kvTx.get(b, key)
	if old != nil {
		old = bytes.Clone(old)
	}
	t.j.entries = append(t.j.entries, undoEntry{tx: t.kvTx, b: b, key: bytes.Clone(key), old: old})
}

func (t journaledTx) put(b bucket, key, val []byte) error {
	t.remember(b, key)
	return t.kvTx.put(b, key, val)
}

func (t journaledTx) del(b bucket, key []byte) error {
	t.remember(b, key)
	return t.kvTx.del(b, key)
}
