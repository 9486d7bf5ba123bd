// Package stashtest damages bbolt files for the tests of the packages that
// keep data in them: a store file overwritten inside, at its full size.
package stashtest

import (
	"math/rand/v2"
	"os"
	"testing"

	"go.etcd.io/bbolt"
)

// Pages returns the ids of the pages of type typ ("leaf", "branch",
// "freelist") in use in the bbolt file at path, in file order.
func Pages(t testing.TB, path, typ string) []int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int
	err = db.View(func(tx *bbolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == typ {
				ids = append(ids, id)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// DamagePage overwrites page id of the bbolt file at path with garbage, the
// same on every run, and leaves the file's size alone.
func DamagePage(t testing.TB, path string, id int) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	size := db.Info().PageSize
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, size)
	r := rand.NewChaCha8([32]byte{byte(id)})
	_, _ = r.Read(junk)
	if _, err := f.WriteAt(junk, int64(id)*int64(size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// DamageMiddleLeaf overwrites the middle one of the leaf pages of the bbolt
// file at path with garbage (DamagePage) and returns its id. In a file that
// one bucket fills, it is a page of that bucket.
func DamageMiddleLeaf(t testing.TB, path string) int {
	t.Helper()
	ids := Pages(t, path, "leaf")
	if len(ids) < 3 {
		t.Fatalf("%s has %d leaf pages, want at least 3 to damage one in the middle", path, len(ids))
	}
	id := ids[len(ids)/2]
	DamagePage(t, path, id)
	return id
}
