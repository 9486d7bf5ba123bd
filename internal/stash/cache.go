package stash

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// Limits of a bbolt store's record cache.
const (
	cacheBytes     = 16 << 20 // the most bytes of records it holds
	cacheRecordMax = 64 << 10 // a larger record is not cached
)

// recordCache holds copies of records that were read by id from a bbolt
// store, as stored (version and JSON), so that reading one again costs no
// bbolt transaction. A read transaction costs two locks that every core
// shares, and the search of three nested buckets: for a GET that reads one
// record, more than the Lua that handles it.
//
// It never holds a record older than the store's committed state: a write
// transaction removes each record it writes or deletes as it writes it,
// before the commit makes the change visible, and a record read from bbolt
// is kept only if no write transaction began, ended or was running while it
// was read (gen counts their beginnings and ends, active those running).
type recordCache struct {
	gen    atomic.Uint64
	active atomic.Int64
	mu     sync.RWMutex
	recs   map[recordKey][]byte
	bytes  int
	limit  int // the most bytes of records it holds
}

// recordKey is a record's collection and id.
type recordKey struct{ coll, id string }

func newRecordCache(limit int) *recordCache {
	return &recordCache{recs: map[recordKey][]byte{}, limit: limit}
}

// get returns the record of coll and id, stored form, if it is cached; the
// slice must not be modified. A nil cache (a memory store's) has none.
func (c *recordCache) get(coll, id string) []byte {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	raw := c.recs[recordKey{coll, id}]
	c.mu.RUnlock()
	return raw
}

// start returns the generation to pass to keep after reading from bbolt.
func (c *recordCache) start() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// keep caches a copy of raw, read from bbolt as the record of coll and id
// after start returned gen, unless a write transaction ran meanwhile.
func (c *recordCache) keep(gen uint64, coll, id string, raw []byte) {
	if c == nil || len(raw) > min(cacheRecordMax, c.limit) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Under mu, which forget takes: a write transaction that begins after
	// this check removes the record again when it writes it.
	if c.active.Load() != 0 || c.gen.Load() != gen {
		return
	}
	k := recordKey{coll, id}
	if old, ok := c.recs[k]; ok { // another reader kept it meanwhile
		c.bytes -= len(old)
		delete(c.recs, k)
	}
	for k := range c.recs { // evict at random until raw fits
		if c.bytes+len(raw) <= c.limit {
			break
		}
		c.bytes -= len(c.recs[k])
		delete(c.recs, k)
	}
	c.recs[k] = bytes.Clone(raw)
	c.bytes += len(raw)
}

// writing marks a write transaction as running, until written.
func (c *recordCache) writing() {
	c.active.Add(1)
	c.gen.Add(1)
}

// written marks a write transaction as ended, committed or not.
func (c *recordCache) written() {
	c.gen.Add(1)
	c.active.Add(-1)
}

// forget removes the record of coll and id.
func (c *recordCache) forget(coll string, id []byte) {
	c.mu.Lock()
	if old, ok := c.recs[recordKey{coll, string(id)}]; ok {
		c.bytes -= len(old)
		delete(c.recs, recordKey{coll, string(id)})
	}
	c.mu.Unlock()
}

// clear removes every record.
func (c *recordCache) clear() {
	c.mu.Lock()
	clear(c.recs)
	c.bytes = 0
	c.mu.Unlock()
}
