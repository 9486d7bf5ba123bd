package stash

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.etcd.io/bbolt"
)

// BackupTo copies the set's store files into dir, which must not exist yet,
// each under its name in the data directory, while the service goes on
// reading and writing, and returns their paths. Each file is copied inside
// one read transaction of its store, so it is the file as of one commit,
// not a torn one. The stores that collections declare come first and the
// default store, which holds the event log, last: a command reaches the
// default store before the others, so no copied store is ahead of the
// copied log, and one that is behind it catches up from it when a service
// starts on the copy. A memory store has no file; it is filled from the log
// there too.
func (s *Set) BackupTo(dir string) ([]string, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("back up: %w", err)
	}
	dirs := []string{dir} // synced once the files are, deepest first
	var files []string
	for _, st := range append(append([]*store{}, s.stores[1:]...), s.def) {
		bs, ok := st.kv.(*boltStore)
		if !ok {
			continue
		}
		path := filepath.Join(dir, st.spec.File)
		if sub := filepath.Dir(path); sub != dir {
			if err := os.MkdirAll(sub, 0o700); err != nil {
				return files, fmt.Errorf("back up %s: %w", st.spec.File, err)
			}
			for d := sub; d != dir && !slices.Contains(dirs, d); d = filepath.Dir(d) {
				dirs = append([]string{d}, dirs...)
			}
		}
		err := st.guard(func() error { return bs.db.View(func(tx *bbolt.Tx) error { return copyFile(tx, path) }) })
		if err != nil {
			return files, fmt.Errorf("back up %s: %w", st.spec.File, err)
		}
		files = append(files, path)
	}
	for _, d := range dirs {
		if err := SyncDir(d); err != nil {
			return files, fmt.Errorf("back up: %w", err)
		}
	}
	return files, nil
}

// BackupSize is the number of bytes BackupTo would write now: the size of
// each bbolt store's file as of its last commit. The commits made while
// BackupTo copies add to it.
func (s *Set) BackupSize() (int64, error) {
	var n int64
	for _, st := range s.stores {
		if bs, ok := st.kv.(*boltStore); ok {
			if err := bs.db.View(func(tx *bbolt.Tx) error { n += tx.Size(); return nil }); err != nil {
				return 0, fmt.Errorf("back up %s: %w", st.spec.File, err)
			}
		}
	}
	return n, nil
}

// SyncDir makes the entries of the directory dir durable: the files
// created, renamed or removed in it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// copyFile writes tx's view of its file to a new file at path and syncs
// it, so that a backup reported written is on disk.
func copyFile(tx *bbolt.Tx, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := tx.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
