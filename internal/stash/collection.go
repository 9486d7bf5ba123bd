package stash

import (
	"fmt"
	"sync/atomic"
)

// Collection is the record collection declared by one schema file.
type Collection struct {
	path    string
	store   *store
	schema  atomic.Pointer[Schema] // nil: any JSON object, no indexes; Set.SetSchema swaps it
	records bucket
	// deleted holds the version each deleted record was at when it was
	// deleted, so that a record created again under its id goes on from
	// there: a version names one state of an id, never two.
	deleted bucket
	// hasDeleted is whether deleted may hold an id: until the first delete
	// a write needs not look.
	hasDeleted atomic.Bool
	indexes    map[string]bucket // indexed and unique fields
	unique     map[string]bool
	// indexOrder lists the indexed fields, unique ones first, for choosing
	// the index of a List.
	indexOrder []string
	countKey   []byte
	// visited counts the stored records List examined (for tests).
	visited atomic.Int64
	// anyID is CollectionSpec.AnyID: new ids need not be routable.
	anyID bool
}

func newCollection(spec CollectionSpec, st *store) *Collection {
	c := &Collection{
		path:     spec.Path,
		store:    st,
		records:  newBucket(spec.Path, recordsBucket),
		deleted:  newBucket(spec.Path, "deleted"),
		indexes:  map[string]bucket{},
		unique:   map[string]bool{},
		countKey: []byte("count:" + spec.Path),
		anyID:    spec.AnyID,
	}
	c.schema.Store(spec.Schema)
	if spec.Schema == nil {
		return c
	}
	for _, f := range spec.Schema.unique {
		c.unique[f] = true
		c.addIndex(f)
	}
	for _, f := range spec.Schema.indexes {
		c.addIndex(f)
	}
	return c
}

func (c *Collection) addIndex(f string) {
	if _, ok := c.indexes[f]; ok {
		return
	}
	c.indexes[f] = newBucket(c.path, "index", f)
	c.indexOrder = append(c.indexOrder, f)
}

// Path is the URL of the folder that declares the collection.
func (c *Collection) Path() string { return c.path }

// Store is the name of the store the collection lives in ("" for the default store).
func (c *Collection) Store() string { return c.store.name }

// File is the file of the store the collection lives in, relative to the
// data dir (minimi.db for the default store), or "" for a memory store.
func (c *Collection) File() string {
	if c.store.spec.Driver == DriverMemory {
		return ""
	}
	return c.store.spec.File
}

// Schema is the collection's schema, or nil.
func (c *Collection) Schema() *Schema { return c.schema.Load() }

// hidden reports whether field f is left out of reads.
func (c *Collection) hidden(f string) bool {
	sc := c.Schema()
	return sc != nil && sc.hidden[f]
}

// stripHidden removes the x-hidden fields from rec in place and returns it.
func (c *Collection) stripHidden(rec Record) Record { return stripHiddenOf(c.Schema(), rec) }

// stripHiddenOf removes sc's x-hidden fields from rec in place and returns it.
func stripHiddenOf(sc *Schema, rec Record) Record {
	if sc != nil {
		for f := range sc.hidden {
			delete(rec, f)
		}
	}
	return rec
}

// SetSchemas replaces the schemas of collections, for a service whose
// schema files changed while it runs: all of them, or none if one fails.
// Only what stored data does not depend on may change: the JSON Schema and
// x-hidden. A schema with other indexes, unique fields, x-hash or
// x-lowercase fields is an error wrapping ErrSchemaShape (the records and
// indexes would need rebuilding: a restart), as is a collection without a
// schema; an unknown collection wraps ErrNoCollection.
func (s *Set) SetSchemas(specs []CollectionSpec) error {
	for _, cs := range specs {
		c := s.colls[cs.Path]
		if c == nil {
			return fmt.Errorf("%w: %s", ErrNoCollection, cs.Path)
		}
		if old := c.Schema(); old == nil || !old.SameShape(cs.Schema) {
			return fmt.Errorf("%w: %s", ErrSchemaShape, cs.Path)
		}
	}
	for _, cs := range specs {
		s.colls[cs.Path].schema.Store(cs.Schema)
	}
	return nil
}
