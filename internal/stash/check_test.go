package stash

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/minimi-go/minimi/internal/stash/stashtest"
)

// TestCheckFiles: CheckFiles reads every store file, and names the one
// with a damaged page; memory stores and files not made yet are skipped.
func TestCheckFiles(t *testing.T) {
	opts, path := damagedNotes(t)
	opts.Stores = append(opts.Stores, StoreSpec{Name: "/cache", Driver: DriverMemory},
		StoreSpec{Name: "/later", Driver: DriverBbolt, File: "later.db"})
	all := []string{filepath.Join(opts.DataDir, DefaultFile), path}
	files, err := CheckFiles(opts)
	if err != nil || !reflect.DeepEqual(files, all) {
		t.Fatalf("CheckFiles()=%q, %v, want %q and no error", files, err, all)
	}
	stashtest.DamageMiddleLeaf(t, path)
	files, err = CheckFiles(opts)
	if !reflect.DeepEqual(files, all) {
		t.Fatalf("CheckFiles() of a damaged file checked %q, want %q", files, all)
	}
	wantDamaged(t, "CheckFiles()", err, path)
}

// TestCheckFilesBranchKey: a branch page whose key points outside the file
// is damage that CheckFiles reports, naming the file, rather than a fault
// that ends the process in bbolt's own check.
func TestCheckFilesBranchKey(t *testing.T) {
	opts, path := damagedNotes(t)
	stashtest.DamageBranchKey(t, path)
	_, err := CheckFiles(opts)
	wantDamaged(t, "CheckFiles()", err, path)
}
