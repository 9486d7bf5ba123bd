package stash

import (
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"
)

// Ops of a Change.
const (
	OpCreate = "create"
	OpPut    = "put"
	OpPatch  = "patch"
	OpDelete = "delete"
)

// Change is one write of a Session, as the Writer applies it and the event
// log records it.
type Change struct {
	Op      string `json:"op"`      // create | put | patch | delete
	Stash   string `json:"stash"`   // collection path
	ID      string `json:"id"`      // record id
	Version int    `json:"version"` // version after the write (for delete: the version deleted)
	// Base is the version the write was based on, checked at commit: for
	// a record that does not exist, the version it was deleted at, or 0.
	Base int `json:"base"`
	// Record is the full record as stored: transforms applied, hidden fields
	// included, hashes instead of plain values; nil for delete. It is shared:
	// do not modify it.
	Record map[string]any `json:"record,omitempty"`

	// stored is Record's value as the store keeps it (version and JSON),
	// encoded by the session on the request's goroutine so that the single
	// committer only copies it; nil for a change decoded from the log.
	stored []byte
	// gone says that Base is the version the record was deleted at, not
	// that of a stored record: a delete committed in between leaves the
	// version as it was, so the version alone cannot tell them apart.
	gone bool
}

// RecordJSON returns Record's JSON as the store keeps it, or nil when the
// change does not carry it (a delete, a change decoded from the log). It
// must not be modified.
func (ch *Change) RecordJSON() []byte {
	if len(ch.stored) < 8 {
		return nil
	}
	return ch.stored[8:]
}

// ReadOptions tunes Get.
type ReadOptions struct {
	Hidden bool // include x-hidden fields
}

// DefaultLimit is the page size of List when ListOptions.Limit is zero.
const DefaultLimit = 100

// ListOptions tunes List.
type ListOptions struct {
	After  string         // only ids after this one (exclusive); "" starts at the first
	Limit  int            // at most this many records; 0 means DefaultLimit
	Where  map[string]any // top-level fields that must equal these values (nil matches null or missing)
	Prefix string         // only ids that start with this
	Hidden bool           // include x-hidden fields
}

// Session is one request's view of all stashes. Reads see committed state
// plus the session's own pending writes; writes are validated and recorded
// as Changes, and touch no store until a Writer applies them. A Session is
// meant for one request; its methods are serialized by a mutex.
type Session struct {
	s        *Set
	mu       sync.Mutex
	readOnly bool
	changes  []Change
	bytes    int                    // the stored size of the changes' records
	pend     map[pendingKey]pending // the records the session wrote
	// reads holds, for a session that can write, the state of each record
	// it read from the store, as it first read it. A write to a record that
	// another command changed or deleted since is a conflict: it would be
	// based on a state this one did not see.
	reads map[pendingKey]seen
}

// seen is a record's state as a session read it: its version, or the
// version it was deleted at (0: there never was one) when !exists.
type seen struct {
	version int
	exists  bool
}

// pendingKey names a record: its collection path and id.
type pendingKey struct{ coll, id string }

// pending is a record as the session's writes left it.
type pending struct {
	rec     Record // as stored; nil once deleted
	version int    // once deleted, the version deleted
}

// pendingIn yields the id and state of each record of the collection at
// path that the session wrote, in no particular order.
func (ss *Session) pendingIn(path string) iter.Seq2[string, pending] {
	return func(yield func(string, pending) bool) {
		for k, p := range ss.pend {
			if k.coll == path && !yield(k.id, p) {
				return
			}
		}
	}
}

// wrote reports whether the session wrote the record id of the collection at path.
func (ss *Session) wrote(path, id string) bool {
	_, ok := ss.pend[pendingKey{path, id}]
	return ok
}

// Session starts a session.
func (s *Set) Session() *Session { return &Session{s: s} }

// ReadOnlySession starts a session whose writes fail with ErrReadOnly (for
// queries: GET and HEAD).
func (s *Set) ReadOnlySession() *Session { return &Session{s: s, readOnly: true} }

// Changes returns the session's writes in call order. The slice is shared
// with the session, which only ever appends to its own: do not modify its
// changes.
func (ss *Session) Changes() []Change {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return slices.Clip(ss.changes)
}

// Reset forgets the pending writes and the versions read.
func (ss *Session) Reset() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.changes, ss.pend, ss.bytes, ss.reads = nil, nil, 0, nil
}

// Bytes is the size of the records the pending writes store, as stored:
// about what they add to the event of their command.
func (ss *Session) Bytes() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.bytes
}

// Get returns the record id of collection coll, or an error wrapping ErrNotFound.
func (ss *Session) Get(coll, id string, o ReadOptions) (Record, error) {
	c, err := ss.s.collection(coll)
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", coll, id, err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	rec, _, err := ss.current(c, id, false)
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", coll, id, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("get %s %s: %w", coll, id, ErrNotFound)
	}
	return ss.out(c, rec, o.Hidden), nil
}

// GetJSON is Get for callers that decode records themselves: it calls fn
// with the record id of coll as a JSON object and its version. doc is
// valid only while fn runs; it holds every stored field, and drop names the
// x-hidden fields the caller must leave out (none with o.Hidden). A missing record is an error
// wrapping ErrNotFound, and fn is not called.
func (ss *Session) GetJSON(coll, id string, o ReadOptions, fn func(doc []byte, version int, drop []string) error) error {
	c, err := ss.s.collection(coll)
	if err != nil {
		return fmt.Errorf("get %s %s: %w", coll, id, err)
	}
	var drop []string
	if sc := c.Schema(); !o.Hidden && sc != nil && len(sc.hidden) > 0 {
		drop = sc.Hidden()
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if p, ok := ss.pend[pendingKey{c.path, id}]; ok {
		if p.rec == nil {
			return fmt.Errorf("get %s %s: %w", coll, id, ErrNotFound)
		}
		doc, err := json.Marshal(p.rec)
		if err != nil {
			return fmt.Errorf("get %s %s: %w", coll, id, err)
		}
		return fn(doc, p.version, drop)
	}
	// stored hands fn a record in its stored form (version, then JSON).
	stored := func(raw []byte) error {
		ss.noteRead(c, id, seen{storedVersion(raw), true})
		return fn(raw[8:], storedVersion(raw), drop)
	}
	rc := c.store.cache
	if raw := rc.get(c.path, id); raw != nil && !ss.s.closed.Load() {
		if err := stored(raw); err != nil {
			return fmt.Errorf("get %s %s: %w", coll, id, err)
		}
		return nil
	}
	gen := rc.start()
	found := false
	err = ss.s.read(c.store, func(tx kvTx) error {
		raw := loadRaw(tx, c, id)
		if raw == nil {
			if !ss.readOnly {
				ss.noteRead(c, id, seen{deletedVersion(tx, c, id), false})
			}
			return nil
		}
		if len(raw) < 8 {
			return fmt.Errorf("%s %s: stored record is truncated", c.path, id)
		}
		found = true
		rc.keep(gen, c.path, id, raw)
		return stored(raw)
	})
	if err != nil {
		return fmt.Errorf("get %s %s: %w", coll, id, err)
	}
	if !found {
		return fmt.Errorf("get %s %s: %w", coll, id, ErrNotFound)
	}
	return nil
}

// Count returns the number of records of coll in the session's view. It
// reads a counter, not the records.
func (ss *Session) Count(coll string) (int, error) {
	c, err := ss.s.collection(coll)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", coll, err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var n int
	err = ss.s.read(c.store, func(tx kvTx) error {
		n = readCount(tx, c)
		for id, p := range ss.pendingIn(c.path) {
			stored := loadRaw(tx, c, id) != nil
			switch {
			case p.rec != nil && !stored:
				n++
			case p.rec == nil && stored:
				n--
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", coll, err)
	}
	return n, nil
}

// Create adds a record. Its id is rec["id"] if given (an id that exists is a
// conflict), else a new id that sorts by creation time.
func (ss *Session) Create(coll string, rec Record) (Record, error) {
	c, in, err := ss.begin(OpCreate, coll, rec)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	_, given := in[FieldID]
	id, err := takeID(c, in, "", OpCreate)
	if err != nil {
		return nil, err
	}
	base := 0
	if given { // a generated id is new; the commit checks it all the same
		cur, ver, err := ss.current(c, id, true)
		if err != nil {
			return nil, fmt.Errorf("create %s %s: %w", coll, id, err)
		}
		if cur != nil {
			return nil, &ConflictError{Collection: c.path, ID: id, Err: fmt.Errorf("%w: id exists", ErrConflict)}
		}
		base = ver // an id deleted before goes on from its version
	}
	return ss.write(OpCreate, c, id, base, nil, in, touchedHashes(c, in, nil))
}

// target checks that in names no other id than the call's, and reads the
// record id as the session sees it (nil when it does not exist). The
// caller holds ss.mu.
func (ss *Session) target(op string, c *Collection, in map[string]any, id string) (Record, int, error) {
	if _, err := takeID(c, in, id, op); err != nil {
		return nil, 0, err
	}
	cur, ver, err := ss.current(c, id, true)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s %s: %w", op, c.path, id, err)
	}
	return cur, ver, nil
}

// Put replaces the record id, or creates it.
func (ss *Session) Put(coll, id string, rec Record) (Record, error) {
	c, in, err := ss.begin(OpPut, coll, rec)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	cur, ver, err := ss.target(OpPut, c, in, id)
	if err != nil {
		return nil, err
	}
	return ss.write(OpPut, c, id, ver, cur, in, touchedHashes(c, in, cur))
}

// Patch merges fields into the record id (RFC 7386: null removes a field,
// objects merge). A version other than AnyVersion that is not the record's
// current one is a conflict. A missing record is ErrNotFound.
func (ss *Session) Patch(coll, id string, fields Record, version Version) (Record, error) {
	c, in, err := ss.begin(OpPatch, coll, fields)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	cur, ver, err := ss.target(OpPatch, c, in, id)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("patch %s %s: %w", coll, id, ErrNotFound)
	}
	if err := version.check(c, id, OpPatch, ver); err != nil {
		return nil, err
	}
	merged := userFields(cur)
	mergePatch(merged, in)
	return ss.write(OpPatch, c, id, ver, cur, merged, touchedHashes(c, in, cur))
}

// Delete removes the record id; false if it did not exist. A version other
// than AnyVersion that is not the record's current one is a conflict.
func (ss *Session) Delete(coll, id string, version Version) (bool, error) {
	c, err := ss.writable(OpDelete, coll)
	if err != nil {
		return false, err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	cur, ver, err := ss.current(c, id, true)
	if err != nil {
		return false, fmt.Errorf("delete %s %s: %w", coll, id, err)
	}
	if cur == nil {
		return false, nil
	}
	if err := version.check(c, id, OpDelete, ver); err != nil {
		return false, err
	}
	ss.record(c, Change{Op: OpDelete, Stash: c.path, ID: id, Version: ver, Base: ver}, nil)
	return true, nil
}

func (ss *Session) writable(op, coll string) (*Collection, error) {
	if ss.readOnly {
		return nil, fmt.Errorf("%s %s: %w", op, coll, ErrReadOnly)
	}
	c, err := ss.s.collection(coll)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, coll, err)
	}
	return c, nil
}

// begin resolves the collection and copies the caller's record, then locks
// the session; the caller unlocks it when begin succeeds.
func (ss *Session) begin(op, coll string, rec Record) (*Collection, map[string]any, error) {
	c, err := ss.writable(op, coll)
	if err != nil {
		return nil, nil, err
	}
	in, err := input(c, rec)
	if err != nil {
		return nil, nil, err
	}
	ss.mu.Lock()
	return c, in, nil
}

// current returns a private copy of id's record in the session's view and
// its version; a nil record if there is none. For a write (forWrite), a
// stored record in another version than the session read before is a
// conflict.
func (ss *Session) current(c *Collection, id string, forWrite bool) (Record, int, error) {
	if p, ok := ss.pend[pendingKey{c.path, id}]; ok {
		if p.rec == nil {
			return nil, p.version, nil // deleted by the session at that version
		}
		return Record(cloneMap(p.rec)), p.version, nil
	}
	var rec Record
	var ver int
	err := ss.s.read(c.store, func(tx kvTx) error {
		var err error
		rec, ver, err = loadRecord(tx, c, id)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	now := seen{ver, rec != nil}
	if was, ok := ss.reads[pendingKey{c.path, id}]; ok && forWrite && was != now {
		return nil, 0, &ConflictError{Collection: c.path, ID: id,
			Err: fmt.Errorf("%w: %s since this request read it", ErrConflict, changedSince(was, now))}
	}
	ss.noteRead(c, id, now)
	return rec, ver, nil
}

// noteRead records that a session that can write read the record id in
// state st, unless it read that record before.
func (ss *Session) noteRead(c *Collection, id string, st seen) {
	if ss.readOnly {
		return
	}
	k := pendingKey{c.path, id}
	if _, ok := ss.reads[k]; ok {
		return
	}
	if ss.reads == nil {
		ss.reads = map[pendingKey]seen{}
	}
	ss.reads[k] = st
}

// changedSince says how a record went from state was to now.
func changedSince(was, now seen) string {
	switch {
	case !was.exists && now.exists:
		return fmt.Sprintf("another command created it (version %d)", now.version)
	case was.exists && !now.exists:
		return fmt.Sprintf("another command deleted it (it was at version %d)", was.version)
	}
	return fmt.Sprintf("another command changed it from version %d to %d", was.version, now.version)
}

// write finishes a create, put or patch: transforms and validates fields,
// checks unique values, and records the change.
func (ss *Session) write(op string, c *Collection, id string, base int, cur Record, fields map[string]any, touched map[string]bool) (Record, error) {
	if err := prepare(c, id, fields, touched); err != nil {
		return nil, err
	}
	if err := checkIndexable(c, fields); err != nil {
		return nil, err
	}
	if err := ss.checkUnique(c, id, fields); err != nil {
		return nil, err
	}
	rec := Record(fields)
	var t any = now() // boxed once for both fields
	rec[FieldID] = id
	rec[FieldVersion] = base + 1
	rec[FieldCreated] = t
	if _, ok := cur[FieldCreated].(string); ok {
		rec[FieldCreated] = cur[FieldCreated] // as boxed in cur
	}
	rec[FieldUpdated] = t
	stored, err := encodeStored(base+1, rec)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", c.path, id, err)
	}
	// The change and the pending state share rec: neither is ever modified
	// (current hands out copies).
	ss.record(c, Change{Op: op, Stash: c.path, ID: id, Version: base + 1, Base: base, Record: rec, stored: stored,
		gone: cur == nil && base > 0}, rec)
	return ss.out(c, Record(cloneMap(rec)), false), nil
}

// record appends a change and sets the pending state of its record.
func (ss *Session) record(c *Collection, ch Change, rec Record) {
	ss.changes = append(ss.changes, ch)
	ss.bytes += len(ch.stored)
	if ss.pend == nil {
		ss.pend = map[pendingKey]pending{}
	}
	p := pending{rec: rec, version: ch.Version} // a delete's: the version deleted
	ss.pend[pendingKey{c.path, ch.ID}] = p
}

// out prepares a record for the caller: hidden fields removed unless asked for.
func (ss *Session) out(c *Collection, rec Record, hidden bool) Record {
	if hidden {
		return rec
	}
	return c.stripHidden(rec)
}

// checkUnique reports a conflict if a unique field of rec holds a value that
// another record holds in the session's view.
func (ss *Session) checkUnique(c *Collection, id string, rec map[string]any) error {
	if len(c.unique) == 0 {
		return nil
	}
	mine := func(other string) bool { return ss.wrote(c.path, other) }
	for _, f := range c.Schema().unique {
		v := rec[f]
		if v == nil {
			continue
		}
		holder := pendingHolder(ss.pendingIn(c.path), f, v, id)
		if holder == "" {
			err := ss.s.read(c.store, func(tx kvTx) error {
				holder = uniqueTaken(tx, c, f, v, id, mine)
				return nil
			})
			if err != nil {
				return err
			}
		}
		if holder != "" {
			return &ConflictError{Collection: c.path, ID: id, Field: f,
				Holder: holder, Err: ErrConflict}
		}
	}
	return nil
}

func pendingHolder(pend iter.Seq2[string, pending], f string, v any, id string) string {
	var ids []string
	for other, p := range pend {
		if other != id && p.rec != nil && p.rec[f] != nil && sameValue(p.rec[f], v) {
			ids = append(ids, other)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	sort.Strings(ids)
	return ids[0]
}
