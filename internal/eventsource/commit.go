package eventsource

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	"go.etcd.io/bbolt"

	"github.com/minimi-go/minimi/internal/stash"
)

// States of a queued request.
const (
	stateQueued int32 = iota
	stateTaken
	stateWithdrawn
)

// request is one Commit waiting for its round.
type request struct {
	cmd     Command
	status  int
	changes []stash.Change
	emits   []Emit
	body    []byte // encoded eventBody
	state   atomic.Int32
	ev      *Event
	err     error
	done    chan struct{}
}

// Commit records a command: its stash changes and emitted events are
// applied and appended as one event, durably, together with every other
// command of the same commit round (group commit). It returns the event once
// it is fsynced, or the command's own error: a conflict with the current
// state (errors.Is stash.ErrConflict) or another Apply error writes nothing
// and consumes no seq. Status must be a success (100..399).
//
// If ctx ends before the command's round starts, the command is withdrawn
// and Commit returns ctx's error; once the round started, the result stands
// and Commit waits for it.
func (l *Log) Commit(ctx context.Context, cmd Command, status int, changes []stash.Change, emits []Emit) (*Event, error) {
	return l.CommitBy(ctx, time.Time{}, cmd, status, changes, emits)
}

// CommitBy is Commit with a deadline, as if ctx had it: a command still
// queued when it passes is withdrawn, and CommitBy returns
// context.DeadlineExceeded. The zero time means none. It spares a request
// a derived context (and its registration with the parent) per command.
func (l *Log) CommitBy(ctx context.Context, deadline time.Time, cmd Command, status int, changes []stash.Change, emits []Emit) (*Event, error) {
	if status < 100 || status >= 400 {
		return nil, fmt.Errorf("%w: status %d", ErrNotCommand, status)
	}
	if changes == nil {
		changes = []stash.Change{}
	}
	if emits == nil {
		emits = []Emit{}
	}
	body, err := encodeBody(headRoom(l.service), cmd, status, changes, emits)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var expired <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return nil, context.DeadlineExceeded
		}
		t := getTimer(d)
		defer putTimer(t)
		expired = t.C
	}
	r := &request{cmd: cmd, status: status, changes: changes, emits: emits, body: body, done: make(chan struct{})}
	if err := l.enqueue(r); err != nil {
		return nil, err
	}
	var stop error
	select {
	case <-r.done:
		return r.ev, r.err
	case <-ctx.Done():
		stop = ctx.Err()
	case <-expired:
		stop = context.DeadlineExceeded
	}
	if r.state.CompareAndSwap(stateQueued, stateWithdrawn) {
		l.pending.Add(-1)
		return nil, stop
	}
	<-r.done
	return r.ev, r.err
}

// timers holds stopped timers for CommitBy's deadlines. Since Go 1.23 a
// stopped or reset timer never delivers a stale value, so one can be reused.
var timers sync.Pool

func getTimer(d time.Duration) *time.Timer {
	if t, ok := timers.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func putTimer(t *time.Timer) {
	t.Stop()
	timers.Put(t)
}

func (l *Log) enqueue(r *request) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.queue = append(l.queue, r)
	l.pending.Add(1)
	l.mu.Unlock()
	l.signal()
	return nil
}

// round is what one commit round takes from the queue.
type round struct {
	reqs    []*request
	cursors map[string]uint64
	syncs   []chan error
}

func (rd *round) empty() bool { return len(rd.reqs) == 0 && len(rd.cursors) == 0 && len(rd.syncs) == 0 }

// run is the committer: it takes everything queued, commits it as one
// round, and repeats; commands that arrive during a round form the next one.
// After Close it drains the queue and exits.
func (l *Log) run() {
	defer close(l.stopped)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		rd, closed := l.take()
		if !rd.empty() {
			n := len(rd.reqs) // before the round adds those queued since
			l.commitRound(rd)
			l.gather(n, t)
			continue
		}
		if closed {
			return
		}
		<-l.wake
	}
}

// gather waits, after a round that began with n queued commands, until n
// are queued again, or a cursor store waits, or the log closes, or
// Options.Gather has passed (on t). After a round that began with none, or
// with a negative Gather, it yields once, so that the requests just
// released can queue before the next round.
func (l *Log) gather(n int, t *time.Timer) {
	if n == 0 || l.opts.Gather < 0 {
		runtime.Gosched()
		return
	}
	if l.gathered(n) {
		return
	}
	// A wake comes with each command queued; the waiting committer runs
	// next on the core that queued it.
	t.Reset(l.opts.Gather)
	defer t.Stop()
	for !l.gathered(n) {
		select {
		case <-l.wake:
		case <-t.C:
			return
		}
	}
}

// gathered reports whether the next round can start without waiting for
// more: n commands are queued, or a cursor store waits, or the log closed.
func (l *Log) gathered(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) >= n || len(l.syncs) > 0 || l.closed
}

// take moves up to MaxBatch queued requests (skipping withdrawn ones) and
// the pending cursors into a round.
func (l *Log) take() (*round, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rd := &round{}
	l.takeLocked(rd)
	if len(l.cursors) > 0 {
		rd.cursors, l.cursors = l.cursors, map[string]uint64{}
	}
	rd.syncs, l.syncs = l.syncs, nil
	return rd, l.closed
}

// takeMore adds the requests queued since the round began, up to
// MaxBatch in all, and reports whether it added any.
func (l *Log) takeMore(rd *round) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(rd.reqs)
	l.takeLocked(rd)
	return len(rd.reqs) > n
}

func (l *Log) takeLocked(rd *round) {
	n := 0
	for n < len(l.queue) && len(rd.reqs) < l.opts.MaxBatch {
		r := l.queue[n]
		n++
		if r.state.CompareAndSwap(stateQueued, stateTaken) {
			rd.reqs = append(rd.reqs, r)
		}
	}
	rest := copy(l.queue, l.queue[n:])
	clear(l.queue[rest:])
	l.queue = l.queue[:rest]
	if rest > 0 {
		l.signal()
	}
}

// commitRound applies and appends every request of rd in one stash.Writer
// and commits it once, then publishes the events and releases the waiters.
func (l *Log) commitRound(rd *round) {
	l.writeMu.Lock()
	evs, ok, err := l.write(rd)
	l.writeMu.Unlock()
	if err != nil {
		for _, r := range ok {
			r.ev, r.err = nil, err
		}
	} else {
		l.rounds.Add(1)
		l.noteStored(rd.cursors)
		if len(evs) > 0 {
			l.head.Store(evs[len(evs)-1].Seq)
			l.commands.Add(uint64(len(evs)))
			l.live.publish(evs)
		}
	}
	l.pending.Add(-int64(len(rd.reqs)))
	for _, r := range rd.reqs {
		close(r.done)
	}
	for _, ch := range rd.syncs {
		ch <- err
	}
}

// write runs one round's transaction. It returns the events appended, the
// requests that got them, and the round's error: then none of them stands.
func (l *Log) write(rd *round) ([]*Event, []*request, error) {
	w, err := l.set.Begin()
	if err != nil {
		return nil, rd.reqs, fmt.Errorf("begin commit: %w", err)
	}
	defer w.Rollback()
	tx := w.Tx()
	var evs []*Event
	ok := rd.reqs // until append returns: a damaged page of the log fails the whole round
	err = stash.GuardLog(l.db.Path(), func() (err error) {
		if evs, ok, err = l.append(w, tx, rd); err != nil {
			return err
		}
		return writeCursors(tx, rd.cursors)
	})
	if err != nil {
		return nil, ok, err
	}
	err = w.Commit()
	if errors.Is(err, stash.ErrBehind) {
		// The default store, and with it the log, is committed: the events
		// stand. The lagging store catches up at the next Open.
		l.log.Error("a store failed to commit after the log", logKeyError, err)
		err = nil
	}
	if err != nil {
		return nil, ok, fmt.Errorf("commit: %w", err)
	}
	st := tx.Stats()
	l.pages.Add(uint64(st.GetWrite()))
	return evs, ok, nil
}

// append applies each request's changes and appends its event. A request
// whose Apply fails gets that error and no seq. Requests that queue while
// it works join the round (up to MaxBatch), so that the round's single
// fsync serves as many commands as possible without waiting for any.
func (l *Log) append(w *stash.Writer, tx *bbolt.Tx, rd *round) ([]*Event, []*request, error) {
	b := tx.Bucket(eventsBucket)
	b.FillPercent = 1.0
	now := time.Now().UTC()
	seq := l.head.Load()
	touched := map[string]uint64{}
	var evs []*Event
	var ok []*request
	for i := 0; i < len(rd.reqs) || l.takeMore(rd); i++ {
		r := rd.reqs[i]
		if err := w.Apply(seq+1, r.changes); err != nil {
			r.err = err
			continue
		}
		seq++
		ev := l.event(r, seq, now)
		if err := b.Put(seqKey(seq), ev.raw); err != nil {
			return nil, rd.reqs, fmt.Errorf("append event %d: %w", seq, err)
		}
		for _, ch := range r.changes {
			touched[ch.Stash] = seq
		}
		r.ev = ev
		evs = append(evs, ev)
		ok = append(ok, r)
	}
	meta := tx.Bucket(metaBucket)
	for coll, s := range touched {
		if err := putSeq(meta, touchedPrefix+coll, s); err != nil {
			return nil, rd.reqs, fmt.Errorf("record touched %s: %w", coll, err)
		}
	}
	return evs, ok, nil
}

// event builds and encodes the event of r at seq.
func (l *Log) event(r *request, seq uint64, now time.Time) *Event {
	u, err := ulid.New(ulid.Timestamp(now), l.entropy)
	if err != nil { // the monotonic entropy ran out within one millisecond
		u = ulid.Make()
	}
	id := u.String()
	ev := &Event{Seq: seq, ID: id, Time: now, Service: l.opts.Service, Command: r.cmd,
		Status: r.status, Changes: r.changes, Events: r.emits}
	ev.raw = encodeEvent(seq, id, now, l.service, r.body, headRoom(l.service))
	return ev
}

func writeCursors(tx *bbolt.Tx, cursors map[string]uint64) error {
	meta := tx.Bucket(metaBucket)
	for name, seq := range cursors {
		if err := putSeq(meta, outboxPrefix+name, seq); err != nil {
			return fmt.Errorf("store outbox cursor %s: %w", name, err)
		}
	}
	return nil
}
