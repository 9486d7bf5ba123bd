package stash

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestOpenInUse(t *testing.T) {
	dir := t.TempDir()
	openSet(t, Options{DataDir: dir})
	_, err := Open(Options{DataDir: dir, Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "data file is in use") {
		t.Errorf("Open() of a file in use=%v, want ErrInUse saying the data file is in use", err)
	}
}

func TestOpenInUseOwnStore(t *testing.T) {
	dir := t.TempDir()
	stores := []StoreSpec{{Name: "/x", Driver: DriverBbolt, File: "x.db"}}
	openSet(t, Options{DataDir: dir, Stores: stores})
	_, err := Open(Options{DataDir: t.TempDir(), Timeout: 50 * time.Millisecond,
		Stores: []StoreSpec{{Name: "/y", Driver: DriverBbolt, File: "x.db"}}})
	if err != nil {
		t.Fatalf("Open() of another directory=%v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(Options{DataDir: t.TempDir(), Stores: []StoreSpec{{Name: "/m", Driver: DriverMemory}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close()=%v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() twice=%v, want nil", err)
	}
	// The file is released: it opens again at once.
	s2, err := Open(Options{DataDir: s.def.path[:len(s.def.path)-len(DefaultFile)], Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open() after Close=%v", err)
	}
	s2.Close()
}

func TestOptionsValidate(t *testing.T) {
	sc := &Schema{}
	tests := []struct {
		name string
		o    Options
		want error
	}{
		{"defaults", DefaultOptions(), nil},
		{"no data dir", Options{}, ErrInvalidOptions},
		{"negative timeout", Options{DataDir: "d", Timeout: -1}, ErrInvalidOptions},
		{"default store listed", Options{DataDir: "d", Stores: []StoreSpec{{Driver: DriverMemory}}}, ErrInvalidOptions},
		{"store twice", Options{DataDir: "d", Stores: []StoreSpec{{Name: "/a", Driver: DriverMemory}, {Name: "/a", Driver: DriverMemory}}}, ErrInvalidOptions},
		{"shared file", Options{DataDir: "d", Stores: []StoreSpec{{Name: "/a", Driver: DriverBbolt, File: "x.db"}, {Name: "/b", Driver: DriverBbolt, File: "./x.db"}}}, ErrInvalidOptions},
		{"default file", Options{DataDir: "d", Stores: []StoreSpec{{Name: "/a", Driver: DriverBbolt, File: "minimi.db"}}}, ErrInvalidStore},
		{"escaping file", Options{DataDir: "d", Stores: []StoreSpec{{Name: "/a", Driver: DriverBbolt, File: "../x.db"}}}, ErrInvalidStore},
		{"absolute file", Options{DataDir: "d", Stores: []StoreSpec{{Name: "/a", Driver: DriverBbolt, File: "/tmp/x.db"}}}, ErrInvalidStore},
		{"unknown driver", Options{DataDir: "d", Stores: []StoreSpec{{Name: "/a", Driver: "redis"}}}, ErrInvalidStore},
		{"collection twice", Options{DataDir: "d", Collections: []CollectionSpec{{Path: "/n", Schema: sc}, {Path: "/n"}}}, ErrInvalidOptions},
		{"collection path", Options{DataDir: "d", Collections: []CollectionSpec{{Path: "n"}}}, ErrInvalidOptions},
		{"unknown store", Options{DataDir: "d", Collections: []CollectionSpec{{Path: "/n", Store: "/x"}}}, ErrInvalidOptions},
		{"good", Options{DataDir: "d", Stores: []StoreSpec{{Name: "/x", Driver: DriverBbolt, File: "sub/x.db"}},
			Collections: []CollectionSpec{{Path: "/", Schema: sc}, {Path: "/x/[id]", Store: "/x"}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("Validate()=%v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if _, err := Open(tc.o); !errors.Is(err, tc.want) {
					t.Errorf("Open()=%v, want %v", err, tc.want)
				}
			}
		})
	}
}

func TestDBHasOneTopBucket(t *testing.T) {
	s := notesSet(t)
	mustCreate(t, s, "/notes", Record{"title": "t"})
	var names []string
	s.DB().View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
	})
	if !slices.Equal(names, []string{topBucket}) {
		t.Errorf("top-level buckets=%v, want only %q", names, topBucket)
	}
}

func TestCollections(t *testing.T) {
	s := threeStores(t, t.TempDir())
	var got []string
	for _, c := range s.Collections() {
		got = append(got, c.Path()+"@"+c.Store())
	}
	if want := []string{"/a@", "/b@/b", "/c@/c"}; !slices.Equal(got, want) {
		t.Errorf("Collections()=%v, want %v", got, want)
	}
	if s.Collection("/nope") != nil || s.Collection("/a").Schema() == nil {
		t.Errorf("Collection() lookups wrong")
	}
}
