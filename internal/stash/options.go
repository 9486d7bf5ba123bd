package stash

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// DefaultFile is the name of the default store's bbolt file in the data
// directory. It also holds the event log.
const DefaultFile = "minimi.db"

// DefaultTimeout is how long Open waits for a data file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// Store drivers.
const (
	DriverBbolt  = "bbolt"
	DriverMemory = "memory"
)

// Options configures Open.
type Options struct {
	// DataDir is the directory of minimi.db and of the stores' bbolt files;
	// it is created if missing. Required.
	DataDir string
	// Timeout is how long Open waits for another process to release a data
	// file before failing with ErrInUse; zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives the stash's logs; nil discards them.
	Logger *slog.Logger
	// Stores are the stores declared by stash files. The default store ""
	// is always opened and must not be listed; nil declares none.
	Stores []StoreSpec
	// Collections are the collections declared by schema files; nil declares none.
	Collections []CollectionSpec
	// NoSync skips fsync on commit. Only for tests and benchmarks: a crash
	// can lose or corrupt data.
	NoSync bool
	// Fresh is for rebuilding every store from the event log (minimi
	// replay): every bbolt store other than the default one starts from an
	// empty file, its old pages, damaged or not, unread. The default store,
	// which holds the log, is opened first, as it is: its lock keeps a
	// service from running on the files that Open empties. Check that the
	// log reads through before: the emptied stores can be rebuilt only from
	// it. False opens every file as it is.
	Fresh bool
}

// allStores returns the default store's spec, then those of opts.Stores.
func (opts Options) allStores() []StoreSpec {
	return append([]StoreSpec{{Name: "", File: DefaultFile, Driver: DriverBbolt}}, opts.Stores...)
}

// StoreSpec is where the collections of a folder's subtree live.
type StoreSpec struct {
	// Name is the URL of the folder that declares the store ("/notes").
	Name string
	// File is the bbolt file, relative to the data directory; empty for memory.
	File string
	// Driver is DriverBbolt or DriverMemory.
	Driver string
}

// CollectionSpec declares one collection.
type CollectionSpec struct {
	// Path is the URL of the folder that declares the collection ("/notes",
	// "/users/[id]/posts", "/" for the root).
	Path string
	// Store is the name of the store the collection lives in; "" is the default store.
	Store string
	// Schema validates and transforms records; nil accepts any JSON object
	// and declares no indexes.
	Schema *Schema
	// AnyID lets Create and Put take an id that no URL can carry: ".",
	// "..", or one with a "." or ".." segment or an empty one ("a//b",
	// "/a"). False refuses such ids, so that a [id] or [...name] parameter
	// can name every record of a folder's collection; a collection that no
	// URL serves (MiniMi's own) may set it.
	AnyID bool
}

// DefaultOptions returns the options of a service in ./data with the default timeout.
func DefaultOptions() Options {
	return Options{DataDir: "data", Timeout: DefaultTimeout}
}

// Validate reports the first problem with o: a missing data directory, a
// bad or duplicate store, a duplicate collection or one in an unknown store.
func (o Options) Validate() error {
	if o.DataDir == "" {
		return fmt.Errorf("%w: data directory is empty", ErrInvalidOptions)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("%w: timeout %v is negative", ErrInvalidOptions, o.Timeout)
	}
	stores, err := validateStores(o.Stores)
	if err != nil {
		return err
	}
	return validateCollections(o.Collections, stores)
}

func validateStores(specs []StoreSpec) (map[string]bool, error) {
	names := map[string]bool{"": true}
	files := map[string]string{DefaultFile: ""}
	for _, sp := range specs {
		if sp.Name == "" || !strings.HasPrefix(sp.Name, "/") {
			return nil, fmt.Errorf("%w: store name %q is not a folder URL", ErrInvalidOptions, sp.Name)
		}
		if names[sp.Name] {
			return nil, fmt.Errorf("%w: store %s is declared twice", ErrInvalidOptions, sp.Name)
		}
		if err := sp.Validate(); err != nil {
			return nil, fmt.Errorf("store %s: %w", sp.Name, err)
		}
		names[sp.Name] = true
		if sp.Driver != DriverBbolt {
			continue
		}
		f := filepath.Clean(sp.File)
		if other, ok := files[f]; ok {
			return nil, fmt.Errorf("%w: stores %q and %q share the file %s", ErrInvalidOptions, other, sp.Name, sp.File)
		}
		files[f] = sp.Name
	}
	return names, nil
}

func validateCollections(specs []CollectionSpec, stores map[string]bool) error {
	seen := make(map[string]bool)
	for _, c := range specs {
		if !strings.HasPrefix(c.Path, "/") {
			return fmt.Errorf("%w: collection path %q is not a folder URL", ErrInvalidOptions, c.Path)
		}
		if seen[c.Path] {
			return fmt.Errorf("%w: collection %s is declared twice", ErrInvalidOptions, c.Path)
		}
		seen[c.Path] = true
		if !stores[c.Store] {
			return fmt.Errorf("%w: collection %s is in unknown store %q", ErrInvalidOptions, c.Path, c.Store)
		}
	}
	return nil
}

// Validate checks the driver and file of a store: a bbolt store needs a file
// inside the data directory (relative, no ".."); a memory store has none.
func (sp StoreSpec) Validate() error {
	switch sp.Driver {
	case DriverBbolt:
		if sp.File == "" {
			return fmt.Errorf("%w: driver bbolt needs a file", ErrInvalidStore)
		}
		if filepath.IsAbs(sp.File) || !filepath.IsLocal(sp.File) {
			return fmt.Errorf("%w: file %q must be a relative path inside the data directory", ErrInvalidStore, sp.File)
		}
		if clean := filepath.Clean(sp.File); clean == "." || strings.HasSuffix(sp.File, "/") || strings.HasSuffix(clean, "/.") {
			return fmt.Errorf("%w: file %q names a directory, not a file", ErrInvalidStore, sp.File)
		}
		if filepath.Clean(sp.File) == DefaultFile {
			return fmt.Errorf("%w: file %q is the default store's", ErrInvalidStore, sp.File)
		}
	case DriverMemory:
		if sp.File != "" {
			return fmt.Errorf("%w: driver memory takes no file", ErrInvalidStore)
		}
	case "":
		return fmt.Errorf("%w: driver is missing (want %q or %q)", ErrInvalidStore, DriverBbolt, DriverMemory)
	default:
		return fmt.Errorf("%w: unknown driver %q (want %q or %q)", ErrInvalidStore, sp.Driver, DriverBbolt, DriverMemory)
	}
	return nil
}
