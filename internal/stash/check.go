package stash

import (
	"cmp"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"go.etcd.io/bbolt"
)

// CheckFiles checks the bbolt file of every store in opts, the default
// store's first, read-only: every page that the file's buckets reach is
// read, and bbolt's own consistency check runs on it. This costs a read of
// every file. Then, for each collection of opts.Collections in an undamaged
// file, it runs what Reindex runs at start-up, without writing: a
// collection whose indexed or unique fields are not the ones its store
// recorded has its records scanned for two that share a value of a unique
// field. A memory store (it has no file) and a file that does not exist
// yet, or is empty, are skipped. It returns the files it checked, and an error for each
// one that is damaged, wrapping ErrDamaged and naming it, and for each
// collection that Reindex would stop on, naming the file and wrapping what
// Reindex would return (a *ConflictError for a shared unique value), and
// a *MovedError for each collection that Open would refuse as moved. The
// files must not be in use: a file held for writing (by a running service)
// stops CheckFiles with ErrInUse after opts.Timeout.
func CheckFiles(opts Options) ([]string, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var files []string
	var errs []error
	var homes map[string]string // nil: minimi.db is missing or damaged
	applied := map[string]uint64{}
	stores := map[string]*store{}
	for _, sp := range opts.allStores() {
		st := &store{name: sp.Name, spec: sp, path: filepath.Join(opts.DataDir, sp.File)}
		stores[sp.Name] = st
		if sp.Driver != DriverBbolt {
			continue
		}
		if notStarted(st.path) {
			continue
		}
		// The files stay open (and locked) until all are checked, so that
		// no service or replay starts writing them meanwhile.
		db, err := openBolt(st.path, sp.Name == "", &bbolt.Options{ReadOnly: true, PreLoadFreelist: true,
			Timeout: cmp.Or(opts.Timeout, DefaultTimeout)})
		if errors.Is(err, ErrInUse) {
			return files, err
		}
		files = append(files, st.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		defer db.Close()
		if err := st.check(db); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, st.checkIndexes(db, collectionsIn(opts.Collections, st)))
		_ = db.View(func(btx *bbolt.Tx) error {
			tx := newBoltTx(btx)
			if applied[sp.Name] = readApplied(tx); sp.Name == "" {
				homes = readHomes(tx)
			}
			return nil
		})
	}
	if homes != nil {
		var colls []*Collection
		for _, cs := range opts.Collections {
			colls = append(colls, newCollection(cs, stores[cs.Store]))
		}
		slices.SortFunc(colls, func(a, b *Collection) int { return cmp.Compare(a.path, b.path) })
		_, err := moves(homes, colls, func(st *store) uint64 { return applied[st.name] })
		errs = append(errs, err)
	}
	return files, errors.Join(errs...)
}

// notStarted says whether the store file at path does not exist or is
// empty (cut to zero bytes): Open makes it a new store, with nothing to
// check.
func notStarted(path string) bool {
	fi, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist) || err == nil && fi.Size() == 0
}

// StoresAhead returns an AheadError for each bbolt store of opts that holds
// a collection of opts.Collections and has applied events past head, the
// last seq of the event log beside it, which Open of the event log refuses.
// A file that does not exist is skipped. The files must not be in use: a
// file held for writing stops it with ErrInUse after opts.Timeout.
func StoresAhead(opts Options, head uint64) error {
	holds := map[string]bool{}
	for _, cs := range opts.Collections {
		holds[cs.Store] = true
	}
	var errs []error
	for _, sp := range opts.allStores() {
		path := filepath.Join(opts.DataDir, sp.File)
		if sp.Driver != DriverBbolt || !holds[sp.Name] {
			continue
		}
		if notStarted(path) {
			continue
		}
		db, err := openBolt(path, sp.Name == "", &bbolt.Options{ReadOnly: true, Timeout: cmp.Or(opts.Timeout, DefaultTimeout)})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var applied uint64
		_ = db.View(func(btx *bbolt.Tx) error {
			applied = readApplied(newBoltTx(btx))
			return nil
		})
		db.Close()
		if applied > head {
			errs = append(errs, AheadError(sp.File, applied, head))
		}
	}
	return errors.Join(errs...)
}

// check reads every key and value of every bucket of db, st's file, then
// runs bbolt's own consistency check (Tx.Check) on it. The first problem is
// an error wrapping ErrDamaged that names the file. The reads come first:
// a damaged page panics or faults on this goroutine, where it is recovered,
// rather than on the one that Tx.Check starts, where a fault would end the
// process.
func (st *store) check(db *bbolt.DB) error {
	return st.guard(func() error {
		return db.View(func(tx *bbolt.Tx) error {
			readAll(tx.Cursor().Bucket())
			var first error
			more := 0
			for err := range tx.Check() {
				if first == nil {
					first = err
				} else {
					more++
				}
			}
			if first == nil {
				return nil
			}
			also := ""
			if more > 0 {
				also = fmt.Sprintf(" (and %d more problems)", more)
			}
			return fmt.Errorf("check %s: %w: %v%s; %s", st.path, ErrDamaged, first, also, damageFix(st.name == ""))
		})
	})
}

// collectionsIn returns the collections of specs that live in st, sorted
// by path, as Reindex visits them.
func collectionsIn(specs []CollectionSpec, st *store) []*Collection {
	var colls []*Collection
	for _, cs := range specs {
		if cs.Store == st.name {
			colls = append(colls, newCollection(cs, st))
		}
	}
	slices.SortFunc(colls, func(a, b *Collection) int { return cmp.Compare(a.path, b.path) })
	return colls
}

// checkIndexes runs on colls, the collections in db (st's file), in one
// read transaction, the scan that Reindex runs at start-up on those whose
// indexed or unique fields are not the ones the store recorded. It returns
// an error for each collection the scan stops on, naming the file.
func (st *store) checkIndexes(db *bbolt.DB, colls []*Collection) error {
	var errs []error
	err := st.guard(func() error {
		return db.View(func(btx *bbolt.Tx) error {
			tx := newBoltTx(btx)
			for _, c := range colls {
				if _, stale := staleIndexes(tx, c); !stale {
					continue
				}
				if _, err := indexRecords(tx, c, nil); err != nil {
					errs = append(errs, fmt.Errorf("check %s: %w", st.path, err))
				}
			}
			return nil
		})
	})
	return errors.Join(append(errs, err)...)
}

// readAll reads every byte of every key and value in b and in the buckets
// nested in it, and returns a checksum of them, which keeps the reads. It
// also seeks each key from the root of b's tree: a walk from key to key
// reads no key of a branch page, while a search for a key compares it with
// the key of the branch element it descends through, so that seeking every
// key reads every branch key (a damaged one faults here, not in Tx.Check).
func readAll(b *bbolt.Bucket) uint32 {
	var sum uint32
	c, search := b.Cursor(), b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		search.Seek(k)
		sum = crc32.Update(sum, crc32.IEEETable, k)
		if v != nil {
			sum = crc32.Update(sum, crc32.IEEETable, v)
		} else if nested := b.Bucket(k); nested != nil {
			sum ^= readAll(nested)
		}
	}
	return sum
}
