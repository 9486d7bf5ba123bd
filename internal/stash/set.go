package stash

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// Set is every store and collection of a service. It is safe for concurrent
// use; writes go through Sessions and one Writer at a time.
type Set struct {
	log    *slog.Logger
	def    *store            // the default store
	stores []*store          // the default store first, then Options.Stores in order
	byName map[string]*store // by store name
	colls  map[string]*Collection

	// vis is held for writing while a Writer commits more than one store, and
	// for reading while a reader begins a transaction, so that no reader
	// sees one store with a group and another without it.
	vis sync.RWMutex

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open opens the default store (<DataDir>/minimi.db) and every declared store,
// in that order, and sets up the declared collections. A bbolt file held by
// another process fails after Options.Timeout with an error wrapping
// ErrInUse; a damaged one, with an error wrapping ErrDamaged. A collection
// that a stash file moved into a store that has applied events (its records
// there, if any, miss the writes made since) fails with a *MovedError for
// each, unless Options.Fresh; otherwise the default store records where
// each collection lives.
func Open(opts Options) (*Set, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Set{log: lg.With(logKeyComponent, "stash"), byName: map[string]*store{}, colls: map[string]*Collection{}}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("open stash: %w", err)
	}
	for _, sp := range opts.allStores() {
		st, err := openStore(opts, sp)
		if err != nil {
			_ = s.closeStores()
			return nil, err
		}
		s.stores = append(s.stores, st)
		s.byName[sp.Name] = st
		s.log.Debug("store opened", logKeyStore, sp.Name, logKeyDriver, sp.Driver, logKeyFile, st.path)
	}
	s.def = s.stores[0]
	for _, cs := range opts.Collections {
		c := newCollection(cs, s.byName[cs.Store])
		s.colls[cs.Path] = c
		err := s.read(c.store, func(tx kvTx) error {
			tx.scan(c.deleted, nil, func([]byte, []byte) bool { c.hasDeleted.Store(true); return false })
			return nil
		})
		if err != nil {
			_ = s.closeStores()
			return nil, fmt.Errorf("open stash: %s: %w", c.path, err)
		}
	}
	if !opts.Fresh { // Truncate records the homes of a rebuild
		if err := s.settleHomes(); err != nil {
			_ = s.closeStores()
			return nil, fmt.Errorf("open stash: %w", err)
		}
	}
	return s, nil
}

func openStore(opts Options, sp StoreSpec) (*store, error) {
	st := &store{name: sp.Name, spec: sp}
	if sp.Driver == DriverMemory {
		st.kv = newMemStore()
		return st, nil
	}
	st.path = filepath.Join(opts.DataDir, sp.File)
	if err := os.MkdirAll(filepath.Dir(st.path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %q: %w", sp.Name, err)
	}
	if opts.Fresh && sp.Name != "" {
		// Cut to nothing, the file keeps its owner and mode; bbolt makes
		// it anew.
		if err := os.Truncate(st.path, 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("empty store %q: %w", sp.Name, err)
		}
	}
	db, err := openBolt(st.path, sp.Name == "", &bbolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if err != nil {
		return nil, err
	}
	err = st.guard(func() error {
		return db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists([]byte(topBucket))
			return err
		})
	})
	if err != nil {
		_ = db.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, err // it names the file
		}
		return nil, fmt.Errorf("open %s: %w", st.path, err)
	}
	st.cache = newRecordCache(cacheBytes)
	st.kv = &boltStore{db: db, cache: st.cache}
	return st, nil
}

// Behind names the stores that failed to commit after the default store
// did: they miss acknowledged writes, and refuse new ones, until the Set is
// opened again and they catch up from the log.
func (s *Set) Behind() []string {
	var out []string
	for _, st := range s.stores {
		if st.behind.Load() {
			out = append(out, st.name)
		}
	}
	return out
}

// Close closes every store. It waits for open transactions to end, and is
// safe to call more than once.
func (s *Set) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = s.closeStores()
	})
	return s.closeErr
}

func (s *Set) closeStores() error {
	var errs []error
	for _, st := range s.stores {
		if err := st.kv.close(); err != nil {
			errs = append(errs, fmt.Errorf("close store %q: %w", st.name, err))
		}
	}
	return errors.Join(errs...)
}

// DB returns the default store's bbolt database, which also holds the event
// log. The stash keeps its own buckets under the top-level bucket "stash".
func (s *Set) DB() *bbolt.DB { return s.def.kv.(*boltStore).db }

// Collection returns the collection declared at path, or nil.
func (s *Set) Collection(path string) *Collection { return s.colls[path] }

// Collections returns every collection, sorted by path.
func (s *Set) Collections() []*Collection {
	out := make([]*Collection, 0, len(s.colls))
	for _, c := range s.colls {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// collection resolves a collection path for a call.
func (s *Set) collection(path string) (*Collection, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	c := s.colls[path]
	if c == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoCollection, path)
	}
	return c, nil
}

// read runs fn in a read transaction on st. A damaged page that fn reaches
// is an error wrapping ErrDamaged.
func (s *Set) read(st *store, fn func(tx kvTx) error) (err error) {
	if s.closed.Load() {
		return ErrClosed
	}
	s.vis.RLock()
	tx, err := st.kv.begin(false)
	s.vis.RUnlock()
	if err != nil {
		return fmt.Errorf("read store %q: %w", st.name, err)
	}
	defer tx.rollback()
	defer recoverDamage(&err, st.path, st.name == "", debug.SetPanicOnFault(true))
	return fn(tx)
}

// Applied returns, for each store by name, the seq of the last event applied
// to it. Memory stores start at 0 on every Open.
func (s *Set) Applied() map[string]uint64 {
	out := make(map[string]uint64, len(s.stores))
	for _, st := range s.stores {
		_ = s.read(st, func(tx kvTx) error {
			out[st.name] = readApplied(tx)
			return nil
		})
	}
	return out
}

// Truncate drops every record, index, counter and applied seq of every store,
// for rebuilding them by replay, and records where each collection lives
// now. The event log's buckets are left alone.
func (s *Set) Truncate() error {
	w, err := s.Begin()
	if err != nil {
		return err
	}
	defer w.Rollback()
	var homes map[string]string
	def := w.txs[s.def]
	if err := s.def.guard(func() error { homes = s.truncatedHomes(readHomes(def)); return nil }); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	for _, st := range s.stores {
		tx, err := w.txFor(st)
		if err != nil {
			return err
		}
		if err := st.guard(tx.drop); err != nil {
			return fmt.Errorf("truncate store %q: %w", st.name, err)
		}
		w.dirty[st] = true
	}
	if err := s.def.guard(func() error { return writeHomes(def, homes) }); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	return w.Commit()
}

// Commit commits a session's changes without an event log: Begin, Apply(0,
// changes), Commit. On success it returns the changes and resets the session.
func (s *Set) Commit(ss *Session) ([]Change, error) {
	changes := ss.Changes()
	w, err := s.Begin()
	if err != nil {
		return nil, err
	}
	defer w.Rollback()
	if err := w.Apply(0, changes); err != nil {
		return nil, err
	}
	if err := w.Commit(); err != nil {
		return nil, err
	}
	ss.Reset()
	return changes, nil
}
