package eventsource

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/minimi-go/minimi/internal/stash"
)

// Outbox cursors are stored in the events_meta bucket of the default store.
// To cost no extra fsync under load, a cursor is noted and written by the
// next commit round; syncCursor forces a round when there is none.

// cursor returns the stored cursor of the outbox name, 0 if it has none.
func (l *Log) cursor(name string) (uint64, error) {
	var seq uint64
	err := stash.GuardLog(l.db.Path(), func() error {
		return l.db.View(func(tx *bbolt.Tx) error {
			seq = getSeq(tx.Bucket(metaBucket), outboxPrefix+name)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("read outbox cursor %s: %w", name, err)
	}
	l.noteStored(map[string]uint64{name: seq})
	return seq, nil
}

// noteCursor has the next commit round store seq as the cursor of name. A
// cursor never goes back: a seq not above the stored one is ignored.
func (l *Log) noteCursor(name string, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed && seq > l.cursors[name] && seq > l.stored[name] {
		l.cursors[name] = seq
	}
}

// syncCursor stores seq as the cursor of name now: with a round of its own
// if no commands are queued, or directly once the committer has stopped.
func (l *Log) syncCursor(ctx context.Context, name string, seq uint64) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.writeCursorAfterClose(ctx, name, seq)
	}
	if seq > l.stored[name] {
		l.cursors[name] = max(l.cursors[name], seq)
	}
	ch := make(chan error, 1)
	l.syncs = append(l.syncs, ch)
	l.mu.Unlock()
	l.signal()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Log) writeCursorAfterClose(ctx context.Context, name string, seq uint64) error {
	select {
	case <-l.stopped:
	case <-ctx.Done():
		return ctx.Err()
	}
	if seq <= l.storedCursor(name) {
		return nil
	}
	err := stash.GuardLog(l.db.Path(), func() error {
		return l.db.Update(func(tx *bbolt.Tx) error {
			return writeCursors(tx, map[string]uint64{name: seq})
		})
	})
	if err != nil {
		return fmt.Errorf("store outbox cursor %s: %w", name, err)
	}
	l.noteStored(map[string]uint64{name: seq})
	return nil
}

// storedCursor returns the cursor of name as last stored.
func (l *Log) storedCursor(name string) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stored[name]
}

func (l *Log) noteStored(cursors map[string]uint64) {
	if len(cursors) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, seq := range cursors {
		l.stored[name] = max(l.stored[name], seq)
	}
}
