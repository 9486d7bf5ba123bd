package stash

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// store is one place where collections live.
type store struct {
	name string // "" for the default store, else the declaring folder's URL
	spec StoreSpec
	path string // the bbolt file; "" for memory
	kv   kvStore
	// cache holds records read by id; nil for a memory store.
	cache *recordCache
	// behind is set when the store failed to commit after the default store
	// did: later groups must not commit to it before the missed one.
	behind atomic.Bool
}

// Keys of the meta bucket: the last applied event seq, and one counter per
// collection ("count:" + path); see also indexedKey and homeKey.
var (
	metaBucket = newBucket("meta")
	appliedKey = []byte("applied")
)

// recordsBucket is the name of a collection's bucket of records.
const recordsBucket = "records"

// indexMark is the value of every index entry (bbolt values must not be empty).
var indexMark = []byte{1}

func getUint(tx kvTx, b bucket, key []byte) uint64 {
	v := tx.get(b, key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(tx kvTx, b bucket, key []byte, n uint64) error {
	return tx.put(b, bytes.Clone(key), binary.BigEndian.AppendUint64(nil, n))
}

func readApplied(tx kvTx) uint64 { return getUint(tx, metaBucket, appliedKey) }

func writeApplied(tx kvTx, seq uint64) error { return putUint(tx, metaBucket, appliedKey, seq) }

func readCount(tx kvTx, c *Collection) int { return int(getUint(tx, metaBucket, c.countKey)) }

func addCount(tx kvTx, c *Collection, delta int) error {
	n := max(readCount(tx, c)+delta, 0)
	return putUint(tx, metaBucket, c.countKey, uint64(n))
}

// loadRaw returns the stored value of id, or nil.
func loadRaw(tx kvTx, c *Collection, id string) []byte {
	return tx.get(c.records, []byte(id))
}

// loadRecord returns id's record and version; a nil record if there is
// none, with the version it had when it was deleted (0: never was).
func loadRecord(tx kvTx, c *Collection, id string) (Record, int, error) {
	raw := loadRaw(tx, c, id)
	if raw == nil {
		return nil, deletedVersion(tx, c, id), nil
	}
	rec, err := decodeStored(raw)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", c.path, id, err)
	}
	return rec, storedVersion(raw), nil
}

// deletedVersion is the version id's record had when it was deleted, 0 if
// it never was (or has been created again since).
func deletedVersion(tx kvTx, c *Collection, id string) int {
	if !c.hasDeleted.Load() {
		return 0
	}
	return storedVersion(tx.get(c.deleted, []byte(id)))
}

// writeRecord stores rec as id's record at version, moving its index
// entries and counting it if it is new. old is id's stored value, nil for
// none; stored is rec's, nil to encode it here.
func writeRecord(tx kvTx, c *Collection, id string, version int, rec map[string]any, stored, old []byte) error {
	if len(c.indexes) > 0 {
		var oldRec Record
		if old != nil {
			var err error
			if oldRec, err = decodeStored(old); err != nil {
				return err
			}
		}
		if err := updateIndexes(tx, c, id, oldRec, rec); err != nil {
			return err
		}
	}
	val := stored
	if val == nil {
		var err error
		if val, err = encodeStored(version, rec); err != nil {
			return fmt.Errorf("encode %s %s: %w", c.path, id, err)
		}
	}
	if err := tx.put(c.records, []byte(id), val); err != nil {
		return err
	}
	if old != nil {
		return nil
	}
	if c.hasDeleted.Load() { // perhaps created again after a delete
		if err := tx.del(c.deleted, []byte(id)); err != nil {
			return err
		}
	}
	return addCount(tx, c, 1)
}

// removeRecord deletes id's record and index entries; false if there was none.
func removeRecord(tx kvTx, c *Collection, id string) (bool, error) {
	old, ver, err := loadRecord(tx, c, id)
	if err != nil || old == nil {
		return false, err
	}
	if err := updateIndexes(tx, c, id, old, nil); err != nil {
		return false, err
	}
	if err := tx.del(c.records, []byte(id)); err != nil {
		return false, err
	}
	c.hasDeleted.Store(true)
	if err := tx.put(c.deleted, []byte(id), binary.BigEndian.AppendUint64(nil, uint64(ver))); err != nil {
		return false, err
	}
	return true, addCount(tx, c, -1)
}

// updateIndexes replaces the index entries of id's old record with those of
// the new one (either may be nil). Null and missing values are not indexed.
func updateIndexes(tx kvTx, c *Collection, id string, old, next map[string]any) error {
	for f, b := range c.indexes {
		oldKey, newKey := indexEntry(old, f, id), indexEntry(next, f, id)
		if bytes.Equal(oldKey, newKey) {
			continue
		}
		if oldKey != nil {
			if err := tx.del(b, oldKey); err != nil {
				return err
			}
		}
		if newKey != nil {
			if err := tx.put(b, newKey, indexMark); err != nil {
				return err
			}
		}
	}
	return nil
}

func indexEntry(rec map[string]any, f, id string) []byte {
	v, ok := rec[f]
	if !ok || v == nil {
		return nil
	}
	return indexKey(encodeValue(v), id)
}

// scanIndex calls fn with the id of each entry for the encoded value enc in
// field f's index, in id order from start (inclusive), until fn returns false.
func scanIndex(tx kvTx, c *Collection, f string, enc []byte, start string, fn func(id string) bool) {
	tx.scan(c.indexes[f], indexKey(enc, start), func(k, _ []byte) bool {
		if !bytes.HasPrefix(k, enc) {
			return false
		}
		return fn(string(k[len(enc):]))
	})
}

// uniqueTaken returns the id of a record other than id whose field f holds
// v, skipping ids for which skip returns true; "" if there is none.
func uniqueTaken(tx kvTx, c *Collection, f string, v any, id string, skip func(string) bool) string {
	var holder string
	scanIndex(tx, c, f, encodeValue(v), "", func(other string) bool {
		if other == id || (skip != nil && skip(other)) {
			return true
		}
		holder = other
		return false
	})
	return holder
}
