package eventsource

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/oklog/ulid/v2"
	"go.etcd.io/bbolt"

	"github.com/minimi-go/minimi/internal/stash"
)

// readChunk is how many events Read decodes per read transaction.
const readChunk = 256

// Log is a service's event log: the durable, ordered record of every command,
// kept in the default store of a stash.Set. It owns the Set's writes: while
// a Log is open, nothing else may Begin a stash.Writer.
type Log struct {
	set     *stash.Set
	db      *bbolt.DB
	opts    Options
	log     *slog.Logger
	service []byte // Options.Service as a JSON string
	entropy *ulid.MonotonicEntropy

	head     atomic.Uint64
	rounds   atomic.Uint64
	pages    atomic.Uint64
	commands atomic.Uint64
	pending  atomic.Int64

	// writeMu is held by a commit round, a catch-up and Rebuild.
	writeMu sync.Mutex

	mu      sync.Mutex // guards the queue below
	queue   []*request
	cursors map[string]uint64 // outbox cursors to store with the next round
	stored  map[string]uint64 // outbox cursors as last stored
	syncs   []chan error      // waiting for the next round to store cursors
	closed  bool
	wake    chan struct{} // capacity 1: work was queued

	live liveEvents

	done      chan struct{} // closed by Close
	stopped   chan struct{} // closed when the committer has drained and exited
	closeOnce sync.Once
}

// Stats are counters of a Log, for metrics.
type Stats struct {
	Head     uint64 // seq of the newest event
	Rounds   uint64 // commit rounds since Open (one fsync of the default store each)
	Pages    uint64 // pages the rounds wrote to the default store's file, its meta page included
	Commands uint64 // commands committed since Open
	Pending  int64  // commands queued or in the current round
}

// Open opens the event log in set's default store, creating its buckets,
// then catches every store up with the log: a store whose applied seq is
// behind the last event that changed one of its collections gets the
// missing events' changes through stash.Writer.Replay. This repairs a crash
// between the default store's commit and another store's, and refills
// memory stores after a restart. Open then starts the committer.
func Open(set *stash.Set, opts Options) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	service, err := json.Marshal(opts.Service)
	if err != nil {
		return nil, fmt.Errorf("%w: service name: %w", ErrInvalidOptions, err)
	}
	l := &Log{
		set: set, db: set.DB(), opts: opts, service: service,
		log:     opts.Logger.With(logKeyComponent, "eventsource", logKeyService, opts.Service),
		entropy: ulid.Monotonic(rand.Reader, 0),
		cursors: map[string]uint64{}, stored: map[string]uint64{},
		wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	l.live.init(opts.Recent)
	var head uint64
	err = stash.GuardLog(l.db.Path(), func() error {
		return l.db.Update(func(tx *bbolt.Tx) error {
			if err := createBuckets(tx); err != nil {
				return err
			}
			head = lastSeq(tx)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	l.head.Store(head)
	if err := l.catchUp(context.Background()); err != nil {
		return nil, err
	}
	go l.run()
	return l, nil
}

// Head returns the seq of the newest committed event, 0 for an empty log.
func (l *Log) Head() uint64 { return l.head.Load() }

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	return Stats{Head: l.head.Load(), Rounds: l.rounds.Load(), Pages: l.pages.Load(), Commands: l.commands.Load(), Pending: l.pending.Load()}
}

// Read calls fn for each event with seq > after, in seq order, up to limit
// events (limit <= 0: all). It reads in chunks, each in its own read
// transaction, and calls fn outside them; an error from fn stops Read and is
// returned.
func (l *Log) Read(after uint64, limit int, fn func(*Event) error) error {
	return ReadLog(l.db, after, limit, fn)
}

// ReadLog is Read on the default store's bbolt database of a service whose
// Log is not open (a tool reading a stopped service's log): it writes
// nothing, and an empty or missing log has no events.
func ReadLog(db *bbolt.DB, after uint64, limit int, fn func(*Event) error) error {
	for {
		n := readChunk
		if limit > 0 {
			n = min(n, limit)
		}
		evs, err := readEvents(db, after, n, 0)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := fn(ev); err != nil {
				return err
			}
		}
		if len(evs) < n {
			return nil
		}
		if limit > 0 {
			if limit -= len(evs); limit == 0 {
				return nil
			}
		}
		after = evs[len(evs)-1].Seq
	}
}

// LogHead is the seq of the newest event of the log in db, the default
// store's bbolt database of a stopped service; 0 for an empty log.
func LogHead(db *bbolt.DB) (uint64, error) {
	var head uint64
	err := stash.GuardLog(db.Path(), func() error {
		return db.View(func(tx *bbolt.Tx) error {
			if tx.Bucket(eventsBucket) != nil {
				head = lastSeq(tx)
			}
			return nil
		})
	})
	return head, err
}

// CheckLog reads the whole log in db, the default store's bbolt database of
// a stopped service, as a rebuild would, and returns the first thing that
// would stop one half-way: a damaged page (stash.ErrDamaged), a key that is
// not a seq, or an event that is not JSON (ErrBadEvent). It checks each
// event's JSON without decoding it, so it costs a fraction of the replay it
// comes before.
func CheckLog(db *bbolt.DB) error {
	return stash.GuardLog(db.Path(), func() error {
		return db.View(func(tx *bbolt.Tx) error {
			b := tx.Bucket(eventsBucket)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(k) != 8 {
					return fmt.Errorf("%w: a key of %d bytes in the log", ErrBadEvent, len(k))
				}
				if !json.Valid(v) {
					return fmt.Errorf("%w: event %d is not JSON", ErrBadEvent, keySeq(k))
				}
			}
			return nil
		})
	})
}

// readChunk decodes up to n events of the log with seq > after.
func (l *Log) readChunk(after uint64, n int) ([]*Event, error) { return readEvents(l.db, after, n, 0) }

// readEvents decodes up to n events with seq > after; with maxBytes > 0, it
// stops once the events read hold maxBytes of JSON (at least one is read).
func readEvents(db *bbolt.DB, after uint64, n, maxBytes int) ([]*Event, error) {
	evs := make([]*Event, 0, min(n, readChunk))
	read := func(tx *bbolt.Tx) error {
		b := tx.Bucket(eventsBucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		size := 0
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(evs) < n && (maxBytes <= 0 || size < maxBytes); k, v = c.Next() {
			ev, err := DecodeEvent(v)
			if err != nil {
				return fmt.Errorf("event %d: %w", keySeq(k), err)
			}
			evs = append(evs, ev)
			size += len(v)
		}
		return nil
	}
	err := stash.GuardLog(db.Path(), func() error { return db.View(read) })
	if err != nil {
		return nil, fmt.Errorf("read events after %d: %w", after, err)
	}
	return evs, nil
}

// Close stops taking commands, commits those already queued, and stops the
// committer; subscriptions end with ErrClosed. It does not close the Set. If
// ctx ends first, Close returns its error and the committer finishes in the
// background. It is safe to call more than once.
func (l *Log) Close(ctx context.Context) error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.done)
		l.signal()
	})
	select {
	case <-l.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close event log: %w", ctx.Err())
	}
}

// signal wakes the committer.
func (l *Log) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
