// Package stashtest damages bbolt files for the tests of the packages that
// keep data in them: a store file overwritten inside, at its full size.
package stashtest

import (
	"encoding/binary"
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
	f, size := openPages(t, path)
	defer f.Close()
	junk := make([]byte, size)
	r := rand.NewChaCha8([32]byte{byte(id)})
	_, _ = r.Read(junk)
	if _, err := f.WriteAt(junk, int64(id)*size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// openPages opens the bbolt file at path for writing around bbolt, and
// returns it with its page size.
func openPages(t testing.TB, path string) (*os.File, int64) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	size := int64(db.Info().PageSize)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f, size
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

// DamageBranchKey points the key of the last element of the first branch
// page of the bbolt file at path far past the end of the file, and returns
// the page's id. Walking the tree from key to key reads no branch key, so a
// read of every key and value finds nothing wrong; a search through the page,
// or a check of its key order, reads outside the file.
func DamageBranchKey(t testing.TB, path string) int {
	t.Helper()
	ids := Pages(t, path, "branch")
	if len(ids) == 0 {
		t.Fatalf("%s has no branch page", path)
	}
	f, size := openPages(t, path)
	defer f.Close()
	// A page starts with a 16-byte header whose count of elements is a
	// uint16 at byte 10; a branch element is 16 bytes: the key's offset from
	// the element (uint32), the key's size (uint32) and the child's page id.
	page := int64(ids[0]) * size
	var count [2]byte
	if _, err := f.ReadAt(count[:], page+10); err != nil {
		t.Fatal(err)
	}
	last := page + 16 + 16*int64(binary.LittleEndian.Uint16(count[:])-1)
	var pos [4]byte
	binary.LittleEndian.PutUint32(pos[:], 1<<30)
	if _, err := f.WriteAt(pos[:], last); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return ids[0]
}
