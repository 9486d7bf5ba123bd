package stash

import (
	"archive/tar"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
)

// Backup writes a copy of the set's store files to w as a tar archive, each
// file under its name in the data directory (DefaultFile, and each store's
// File), while the service goes on reading and writing. Each file is copied
// inside one read transaction of its store, so it is the file as of one
// commit. The stores that collections declare come first and the default
// store, which holds the event log, last: a commit reaches the default store
// before the others, so no copied store is ahead of the copied log, and one
// that is behind it catches up from it when a service starts on the copy.
// A memory store has no file; it is filled from the log there too.
func (s *Set) Backup(w io.Writer, modTime time.Time) error {
	tw := tar.NewWriter(w)
	order := append(append([]*store{}, s.stores[1:]...), s.def)
	for _, st := range order {
		bs, ok := st.kv.(*boltStore)
		if !ok {
			continue
		}
		err := st.guard(func() error {
			return bs.db.View(func(tx *bbolt.Tx) error {
				hdr := &tar.Header{Name: filepath.ToSlash(st.spec.File), Mode: 0o600, Size: tx.Size(),
					ModTime: modTime, Typeflag: tar.TypeReg}
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
				_, err := tx.WriteTo(tw)
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("back up %s: %w", st.spec.File, err)
		}
	}
	return tw.Close()
}
