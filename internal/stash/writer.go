package stash

import (
	"errors"
	"fmt"
	"runtime/debug"

	"go.etcd.io/bbolt"
)

// errWriterDone is a call on a Writer after Commit or Rollback.
var errWriterDone = errors.New("writer is already committed or rolled back")

// Writer is one group commit: a write transaction on each store it touches.
// The default store's transaction opens at Begin; the others open when a
// change first touches them. A Writer must be used by one goroutine only, and
// while it is open no other Writer can begin.
type Writer struct {
	s       *Set
	txs     map[*store]kvTx
	dirty   map[*store]bool
	applied map[*store]uint64 // the seq each store records at Commit
	broken  error             // a write that could not be undone: the transactions cannot be committed
	done    bool
	shared  bool    // Tx was called: the default store's transaction must commit
	call    applier // the state of an Apply or Replay call, reused by each
}

// Begin starts a group commit. It waits for the previous Writer to end.
func (s *Set) Begin() (*Writer, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	tx, err := s.def.kv.begin(true)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	w := &Writer{s: s, txs: map[*store]kvTx{s.def: tx}, dirty: map[*store]bool{}, applied: map[*store]uint64{}}
	w.call = applier{w: w, touched: map[*store]bool{}, wrapped: map[*store]wrappedTx{}}
	return w, nil
}

// Tx returns the default store's write transaction, so that the event log can
// append in the same transaction as the changes it records.
func (w *Writer) Tx() *bbolt.Tx {
	w.shared = true
	return w.txs[w.s.def].(*boltTx).tx
}

// txFor returns st's write transaction, beginning it if needed.
func (w *Writer) txFor(st *store) (kvTx, error) {
	if tx, ok := w.txs[st]; ok {
		return tx, nil
	}
	tx, err := st.kv.begin(true)
	if err != nil {
		return nil, fmt.Errorf("begin store %q: %w", st.name, err)
	}
	w.txs[st] = tx
	return tx, nil
}

// Apply checks changes against the current state, including earlier Apply
// calls of this Writer, and writes them: each change's base version must be
// current, and its unique fields free. It is all-or-nothing: on error nothing
// of this call remains and earlier calls are kept. On success, when seq > 0,
// seq becomes the applied seq of every store the changes touched.
// A lost check is a *ConflictError (errors.Is ErrConflict).
func (w *Writer) Apply(seq uint64, changes []Change) error {
	return w.run(seq, changes, false)
}

// Replay writes recorded changes without checks, to catch a store up with the
// log or rebuild it. For each store, the changes are skipped if seq is not
// above the store's applied seq, so replaying an event twice is harmless.
// Changes of collections that no longer exist are skipped.
func (w *Writer) Replay(seq uint64, changes []Change) error {
	if seq == 0 {
		return fmt.Errorf("%w: replay needs the event's seq", ErrBadChange)
	}
	return w.run(seq, changes, true)
}

func (w *Writer) run(seq uint64, changes []Change, replay bool) error {
	if w.done {
		return errWriterDone
	}
	if w.broken != nil {
		return w.broken
	}
	// A single checked change is checked before it writes anything, so it
	// needs no journal: a write that fails after its checks (an I/O error)
	// breaks the group instead.
	a := &w.call
	a.begin(seq, replay, replay || len(changes) > 1)
	err := a.all(changes)
	switch {
	case errors.Is(err, ErrDamaged):
		// bbolt stopped half-way through a write, and an undo would read
		// the damaged pages again: the transactions cannot be trusted.
		w.broken = err
		return err
	case err != nil && a.j != nil:
		if uerr := a.j.undo(); uerr != nil {
			w.broken = fmt.Errorf("undo failed, the group cannot commit: %w", uerr)
			return errors.Join(err, w.broken)
		}
		return err
	case err != nil && a.wrote:
		w.broken = fmt.Errorf("a write failed half-way, the group cannot commit: %w", err)
		return w.broken
	case err != nil:
		return err
	}
	for st, skip := range a.touched {
		if !skip {
			w.dirty[st] = true
		}
	}
	a.markApplied()
	return nil
}

// applier is the state of one Apply or Replay call. A Writer has one and
// reuses it for each call; begin resets it.
type applier struct {
	w       *Writer
	j       *journal        // nil: no undo (see run); else &journal
	journal journal         // the undo records of this call
	touched map[*store]bool // the stores this call touched, each true if a replay skips it (it has seen seq already)
	wrapped map[*store]wrappedTx
	replay  bool
	seq     uint64
	wrote   bool   // a write was made without a journal
	at      *store // the store of the change being applied
}

// wrappedTx is a store's transaction as calls use it, wrapped once per
// Writer: the wrappers point into the Writer's applier.
type wrappedTx struct {
	marked    kvTx // notes the first write in applier.wrote: for a call without a journal
	journaled kvTx // records every write in applier.journal
}

// begin resets a for a call.
func (a *applier) begin(seq uint64, replay, journaled bool) {
	clear(a.touched)
	clear(a.journal.entries)
	a.journal.entries = a.journal.entries[:0]
	a.j = nil
	if journaled {
		a.j = &a.journal
	}
	a.replay, a.seq, a.wrote = replay, seq, false
}

// markedTx notes its first write, for an Apply without a journal: a failure
// before it leaves nothing to undo, one after it breaks the group.
type markedTx struct {
	kvTx
	wrote *bool
}

func (t markedTx) put(b bucket, key, val []byte) error {
	*t.wrote = true
	return t.kvTx.put(b, key, val)
}

func (t markedTx) del(b bucket, key []byte) error {
	*t.wrote = true
	return t.kvTx.del(b, key)
}

// all applies changes. A damaged page that bbolt meets on the way is an
// error wrapping ErrDamaged.
func (a *applier) all(changes []Change) (err error) {
	defer a.recoverDamage(&err, debug.SetPanicOnFault(true))
	for i := range changes {
		ch := &changes[i]
		c := a.w.s.colls[ch.Stash]
		if c == nil {
			if a.replay {
				a.w.s.log.Warn("replay skips a change of an unknown collection", logKeyStash, ch.Stash, logKeySeq, a.seq)
				continue
			}
			return fmt.Errorf("change %d: %w: %s", i, ErrNoCollection, ch.Stash)
		}
		a.at = c.store
		tx, err := a.tx(c.store)
		if err != nil {
			return err
		}
		if a.touched[c.store] { // replayed already
			continue
		}
		if err := a.one(tx, c, ch); err != nil {
			return err
		}
	}
	return nil
}

// recoverDamage is the package's recoverDamage for the store of the change
// being applied.
func (a *applier) recoverDamage(errp *error, fault bool) {
	debug.SetPanicOnFault(fault)
	if r := recover(); r != nil {
		*errp = damaged(r, a.at.path, a.at.name == "")
	}
}

// tx returns the transaction of st for this call, journaled when the call
// has a journal, deciding on first use whether a replay skips the store.
func (a *applier) tx(st *store) (kvTx, error) {
	if _, ok := a.touched[st]; !ok {
		if err := a.touch(st); err != nil {
			return nil, err
		}
	}
	wt := a.wrapped[st]
	if a.j != nil {
		return wt.journaled, nil
	}
	return wt.marked, nil
}

// touch notes the first use of st in this call.
func (a *applier) touch(st *store) error {
	if !a.replay && st.behind.Load() {
		return fmt.Errorf("store %q: %w", st.name, ErrBehind)
	}
	wt, ok := a.wrapped[st]
	if !ok {
		raw, err := a.w.txFor(st)
		if err != nil {
			return err
		}
		wt = wrappedTx{marked: markedTx{kvTx: raw, wrote: &a.wrote}, journaled: a.journal.wrap(raw)}
		a.wrapped[st] = wt
	}
	// Applied seqs are written at Commit.
	a.touched[st] = a.replay && a.seq <= max(readApplied(wt.marked), a.w.applied[st])
	return nil
}

// markApplied notes seq as the applied seq of every store this call wrote
// to; Commit records it once per store, not once per call.
func (a *applier) markApplied() {
	if a.seq == 0 {
		return
	}
	for st, skip := range a.touched {
		if !skip && a.seq > a.w.applied[st] {
			a.w.applied[st] = a.seq
		}
	}
}

func (a *applier) one(tx kvTx, c *Collection, ch *Change) error {
	if err := checkShape(ch); err != nil {
		return err
	}
	var old []byte // the stored value, read once for the check and the write
	var err error
	switch {
	case !a.replay:
		if old, err = checkCurrent(tx, c, ch); err != nil {
			return err
		}
	case ch.Op != OpDelete:
		old = loadRaw(tx, c, ch.ID)
	}
	if ch.Op == OpDelete {
		_, err = removeRecord(tx, c, ch.ID)
	} else {
		err = writeRecord(tx, c, ch.ID, ch.Version, ch.Record, ch.stored, old)
	}
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", ch.Op, c.path, ch.ID, err)
	}
	return nil
}

// checkShape rejects a change that no Session could have made.
func checkShape(ch *Change) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %s %s %s: %s", ErrBadChange, ch.Op, ch.Stash, ch.ID, why)
	}
	switch ch.Op {
	case OpDelete:
		if ch.Base < 1 {
			return bad("delete needs the version deleted")
		}
		return nil
	case OpCreate, OpPut, OpPatch:
	default:
		return bad("unknown op")
	}
	if ch.Base < 0 {
		return bad("base version is negative")
	}
	if ch.Version != ch.Base+1 {
		return bad("version must be base + 1")
	}
	if id, _ := ch.Record[FieldID].(string); id != ch.ID {
		return bad("record id does not match")
	}
	if v, ok := intOf(ch.Record[FieldVersion]); !ok || v != ch.Version {
		return bad("record _version does not match")
	}
	return nil
}

// checkCurrent is the commit-time check of a change: its base version is
// current and its unique values are not held by another record.
func checkCurrent(tx kvTx, c *Collection, ch *Change) (old []byte, err error) {
	old = loadRaw(tx, c, ch.ID)
	cur := storedVersion(old)
	if old == nil {
		cur = deletedVersion(tx, c, ch.ID)
	}
	if cur != ch.Base || ch.Op == OpCreate && old != nil {
		return nil, &ConflictError{Collection: c.path, ID: ch.ID,
			Err: fmt.Errorf("%w: record is at version %d, the write was based on %d", ErrConflict, cur, ch.Base)}
	}
	if old == nil && cur > 0 && !ch.gone { // a delete left the version as the write saw it
		return nil, &ConflictError{Collection: c.path, ID: ch.ID,
			Err: fmt.Errorf("%w: record was deleted at version %d, the write was based on it", ErrConflict, cur)}
	}
	if ch.Op == OpDelete {
		return old, nil
	}
	for f := range c.unique {
		v := ch.Record[f]
		if v == nil {
			continue
		}
		if holder := uniqueTaken(tx, c, f, v, ch.ID, nil); holder != "" {
			return nil, &ConflictError{Collection: c.path, ID: ch.ID, Field: f,
				Holder: holder, Err: ErrConflict}
		}
	}
	return old, nil
}

// Commit commits the default store first (with fsync unless NoSync), then
// every other store the group wrote to. If the default store fails, nothing
// is committed. If another store fails after it, the error wraps ErrBehind:
// the log is ahead of that store, which refuses new changes (Apply fails
// with ErrBehind) until the Set is reopened and the store caught up by Replay.
func (w *Writer) Commit() error {
	if w.done {
		return errWriterDone
	}
	if w.broken != nil {
		w.Rollback()
		return w.broken
	}
	w.done = true
	for st, seq := range w.applied {
		if !w.dirty[st] {
			continue
		}
		err := st.guard(func() error {
			if seq <= readApplied(w.txs[st]) { // never lower it (a store ahead of the log)
				return nil
			}
			return writeApplied(w.txs[st], seq)
		})
		if err != nil {
			w.done = false
			w.Rollback()
			return fmt.Errorf("store %q: record applied seq: %w", st.name, err)
		}
	}
	others := w.others()
	if len(others) > 0 {
		w.s.vis.Lock()
		defer w.s.vis.Unlock()
	}
	if err := w.commitDefault(); err != nil {
		for _, st := range w.s.stores[1:] {
			if tx, ok := w.txs[st]; ok {
				tx.rollback()
			}
		}
		return fmt.Errorf("commit default store: %w", err)
	}
	var errs []error
	for _, st := range w.s.stores[1:] {
		tx, ok := w.txs[st]
		if !ok {
			continue
		}
		if !w.dirty[st] {
			tx.rollback()
			continue
		}
		if err := st.commit(tx); err != nil {
			st.behind.Store(true)
			errs = append(errs, fmt.Errorf("commit store %q: %w: %w", st.name, ErrBehind, err))
		}
	}
	return errors.Join(errs...)
}

// commitDefault commits the default store's transaction, or ends it if
// nothing could have written to it (committing would still write a page).
func (w *Writer) commitDefault() error {
	tx := w.txs[w.s.def]
	if !w.shared && !w.dirty[w.s.def] {
		tx.rollback()
		return nil
	}
	return w.s.def.commit(tx)
}

// commit commits tx, st's write transaction. If bbolt meets a damaged page
// on the way, tx is rolled back and the error wraps ErrDamaged.
func (st *store) commit(tx kvTx) error {
	err := st.guard(tx.commit)
	if errors.Is(err, ErrDamaged) {
		tx.rollback()
	}
	return err
}

// others returns the stores other than the default one that the group wrote to.
func (w *Writer) others() []*store {
	var out []*store
	for st := range w.dirty {
		if st != w.s.def {
			out = append(out, st)
		}
	}
	return out
}

// Rollback discards the group. It is safe after Commit and when called twice.
func (w *Writer) Rollback() {
	if w.done {
		return
	}
	w.done = true
	for _, tx := range w.txs {
		tx.rollback()
	}
}
