package stash

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
)

// Every store records, per collection, the fields it keeps an index for and
// which of them are unique (meta key "indexes:" + path), so that Reindex can
// tell when a schema file gained or lost an index or a unique field since
// the store was indexed.

func indexedKey(c *Collection) []byte { return []byte("indexes:" + c.path) }

// indexed is the value of indexedKey.
type indexed struct {
	Fields []string `json:"fields"` // sorted
	Unique []string `json:"unique"` // sorted
}

// indexedFields is what the store records for c's current schema.
func indexedFields(c *Collection) []byte {
	x := indexed{Fields: slices.Sorted(maps.Keys(c.indexes)), Unique: slices.Sorted(maps.Keys(c.unique))}
	b, _ := json.Marshal(x)
	return b
}

// Reindex brings the index entries of every collection in line with its
// schema; a serving process calls it once the stores have caught up with the
// event log. A collection whose indexed or unique fields are not the ones
// its store recorded (its schema file changed between two starts, it lives
// in a memory store, it was truncated for a replay, or its store comes from
// a version that recorded none) gets the indexes of the old and new fields
// emptied and those of the new ones rebuilt from its records, in one write
// transaction per store. Two records that hold the same value of a unique
// field stop it with a *ConflictError naming both; the store with the
// conflict is left as it was. A store whose collections all match is not
// written.
func (s *Set) Reindex() error {
	for _, st := range s.stores {
		var colls []*Collection
		for _, c := range s.colls {
			if c.store == st {
				colls = append(colls, c)
			}
		}
		slices.SortFunc(colls, func(a, b *Collection) int { return cmp.Compare(a.path, b.path) })
		if err := s.reindexStore(st, colls); err != nil {
			return err
		}
	}
	return nil
}

func (s *Set) reindexStore(st *store, colls []*Collection) (err error) {
	defer recoverDamage(&err, st.path, st.name == "", debug.SetPanicOnFault(true))
	tx, err := st.kv.begin(true)
	if err != nil {
		return fmt.Errorf("store %q: %w", st.name, err)
	}
	defer tx.rollback()
	wrote := false
	for _, c := range colls {
		old, stale := staleIndexes(tx, c)
		if !stale {
			continue
		}
		n, err := rebuildIndexes(tx, c, old.Fields)
		if err != nil {
			return err
		}
		if err := tx.put(metaBucket, indexedKey(c), indexedFields(c)); err != nil {
			return fmt.Errorf("%s: record the indexed fields: %w", c.path, err)
		}
		wrote = true
		if n > 0 {
			s.log.Info("indexes rebuilt", logKeyStash, c.path, "fields", c.indexOrder, "records", n)
		}
	}
	if !wrote {
		return nil
	}
	if err := tx.commit(); err != nil {
		return fmt.Errorf("store %q: commit the rebuilt indexes: %w", st.name, err)
	}
	return nil
}

// staleIndexes reports whether the indexed and unique fields that tx's
// store recorded for c are not those of c's schema, and returns the
// recorded ones (none when the store recorded none, or nothing readable).
func staleIndexes(tx kvTx, c *Collection) (old indexed, stale bool) {
	had := tx.get(metaBucket, indexedKey(c))
	if bytes.Equal(had, indexedFields(c)) {
		return old, false
	}
	if had != nil {
		_ = json.Unmarshal(had, &old) // unreadable: only the current fields are emptied
	}
	return old, true
}

// rebuildIndexes empties the indexes of the fields in old and of c's
// current ones, then indexes every record of c again, checking its unique
// fields. It returns the number of records.
func rebuildIndexes(tx kvTx, c *Collection, old []string) (int, error) {
	type entry struct {
		field string
		key   []byte
	}
	// The entries are made first: a bbolt cursor must not see writes it
	// walks past.
	var entries []entry
	n, err := indexRecords(tx, c, func(f string, key []byte) { entries = append(entries, entry{f, key}) })
	if err != nil {
		return 0, err
	}
	for _, f := range append(old, c.indexOrder...) {
		if err := emptyBucket(tx, newBucket(c.path, "index", f)); err != nil {
			return 0, fmt.Errorf("%s: empty the index of %s: %w", c.path, f, err)
		}
	}
	for _, e := range entries {
		if err := tx.put(c.indexes[e.field], e.key, indexMark); err != nil {
			return 0, fmt.Errorf("%s: index %s: %w", c.path, e.field, err)
		}
	}
	return n, nil
}

// indexRecords reads every record of c and calls add (unless nil) with
// each index entry that c's indexed fields give it; it writes nothing, so
// that CheckFiles runs it in a read transaction. Two records that hold the
// same value of a unique field stop it with a *ConflictError naming both; a
// record that does not decode stops it with an error naming the record. It
// returns the number of records.
func indexRecords(tx kvTx, c *Collection, add func(field string, key []byte)) (int, error) {
	holders := map[string]string{} // unique field + 0x00 + encoded value → id
	n := 0
	var serr error
	tx.scan(c.records, nil, func(k, v []byte) bool {
		n++
		rec, err := decodeStored(v)
		if err != nil {
			serr = fmt.Errorf("%s %s: %w", c.path, k, err)
			return false
		}
		id := string(k)
		for _, f := range c.indexOrder {
			val := rec[f]
			if val == nil {
				continue
			}
			enc := encodeValue(val)
			if c.unique[f] {
				hk := f + "\x00" + string(enc)
				if holder, ok := holders[hk]; ok {
					serr = &ConflictError{Collection: c.path, ID: id, Field: f,
						Err: fmt.Errorf("%w: record %s holds the same value: make them differ, or take %s out of unique in the schema file",
							ErrConflict, holder, f)}
					return false
				}
				holders[hk] = id
			}
			if add != nil {
				add(f, indexKey(enc, id))
			}
		}
		return true
	})
	return n, serr
}

// emptyBucket deletes every key of b.
func emptyBucket(tx kvTx, b bucket) error {
	var keys [][]byte
	tx.scan(b, nil, func(k, _ []byte) bool {
		keys = append(keys, bytes.Clone(k))
		return true
	})
	for _, k := range keys {
		if err := tx.del(b, k); err != nil {
			return err
		}
	}
	return nil
}
