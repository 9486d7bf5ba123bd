package stash

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
)

// The default store records each collection's home, where its records live
// (meta key "home:" + path): the file of its store, relative to the data
// directory, or memoryHome. A store catches up with the log from its own
// applied seq, so a collection that moved into a store that has applied
// events would miss the writes made while it lived elsewhere; Open refuses
// such a move, which needs a replay.

// memoryHome is the home of a collection in a memory store.
const memoryHome = "(memory)"

// replayedHome is the home of a collection that Truncate emptied while no
// schema declared it: the log holds its records, no store does.
const replayedHome = "(emptied by a replay)"

var homePrefix = []byte("home:")

func homeKey(path string) []byte { return append(bytes.Clone(homePrefix), path...) }

// home is where st keeps its data: renaming a store that keeps its file is
// not a move.
func (st *store) home() string {
	if st.spec.Driver == DriverMemory {
		return memoryHome
	}
	return filepath.ToSlash(filepath.Clean(st.spec.File))
}

// readHomes returns the homes recorded in tx, the default store's, by
// collection path.
func readHomes(tx kvTx) map[string]string {
	homes := map[string]string{}
	tx.scan(metaBucket, homePrefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, homePrefix) {
			return false
		}
		homes[string(k[len(homePrefix):])] = string(v)
		return true
	})
	return homes
}

func writeHomes(tx kvTx, homes map[string]string) error {
	for path, h := range homes {
		if err := tx.put(metaBucket, homeKey(path), []byte(h)); err != nil {
			return fmt.Errorf("record the home of %s: %w", path, err)
		}
	}
	return nil
}

// moves compares colls, sorted by path, with the homes recorded. It returns
// a *MovedError for each collection that moved into a store that has
// applied events (applied returns its seq), and otherwise the homes that
// changed. A collection without a recorded home is new, or comes from a
// version that recorded none.
func moves(homes map[string]string, colls []*Collection, applied func(*store) uint64) (map[string]string, error) {
	changed := map[string]string{}
	var errs []error
	for _, c := range colls {
		from, to := homes[c.path], c.store.home()
		if from == to {
			continue
		}
		if seq := applied(c.store); from != "" && seq > 0 {
			errs = append(errs, &MovedError{Collection: c.path, From: from, To: to, Applied: seq})
		}
		changed[c.path] = to
	}
	return changed, errors.Join(errs...)
}

// settleHomes refuses the collections that moved into a store that has
// applied events, and records the homes of the others in the default store.
func (s *Set) settleHomes() error {
	var homes map[string]string
	if err := s.read(s.def, func(tx kvTx) error { homes = readHomes(tx); return nil }); err != nil {
		return err
	}
	applied := s.Applied()
	changed, err := moves(homes, s.Collections(), func(st *store) uint64 { return applied[st.name] })
	if err != nil || len(changed) == 0 {
		return err
	}
	return s.def.guard(func() error {
		tx, err := s.def.kv.begin(true)
		if err != nil {
			return err
		}
		defer tx.rollback()
		if err := writeHomes(tx, changed); err != nil {
			return err
		}
		return tx.commit()
	})
}

// truncatedHomes returns the homes that Truncate records: every declared
// collection's store, and for a collection no schema declares, the home
// recorded before unless Truncate emptied that store.
func (s *Set) truncatedHomes(old map[string]string) map[string]string {
	emptied := map[string]bool{}
	for _, st := range s.stores {
		emptied[st.home()] = true
	}
	homes := map[string]string{}
	for path, h := range old {
		if emptied[h] {
			h = replayedHome
		}
		homes[path] = h
	}
	for path, c := range s.colls {
		homes[path] = c.store.home()
	}
	return homes
}
