package stash

import "sync/atomic"

// Collection is the record collection declared by one schema file.
type Collection struct {
	path    string
	store   *store
	schema  *Schema // nil: any JSON object, no indexes
	records bucket
	indexes map[string]bucket // indexed and unique fields
	unique  map[string]bool
	// indexOrder lists the indexed fields, unique ones first, for choosing
	// the index of a List.
	indexOrder []string
	countKey   []byte
	// visited counts the stored records List examined (for tests).
	visited atomic.Int64
}

func newCollection(spec CollectionSpec, st *store) *Collection {
	c := &Collection{
		path:     spec.Path,
		store:    st,
		schema:   spec.Schema,
		records:  newBucket(spec.Path, "records"),
		indexes:  map[string]bucket{},
		unique:   map[string]bool{},
		countKey: []byte("count:" + spec.Path),
	}
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

// Schema is the collection's schema, or nil.
func (c *Collection) Schema() *Schema { return c.schema }

// hidden reports whether field f is left out of reads.
func (c *Collection) hidden(f string) bool { return c.schema != nil && c.schema.hidden[f] }

// stripHidden removes the x-hidden fields from rec in place and returns it.
func (c *Collection) stripHidden(rec Record) Record {
	if c.schema == nil {
		return rec
	}
	for f := range c.schema.hidden {
		delete(rec, f)
	}
	return rec
}
