package eventsource

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/minimi-go/minimi/internal/stash"
)

// replayBatch is how many events one replay transaction writes.
const replayBatch = 8192

// catchUp replays the events that some store has not applied yet. A
// collection needs them when its store's applied seq is below the seq of
// the last event that changed the collection; the replay starts after the
// lowest such applied seq. Writer.Replay skips, per store, the events a
// store has already applied, so nothing is applied twice.
func (l *Log) catchUp(ctx context.Context) error {
	var last map[string]uint64
	err := stash.GuardLog(l.db.Path(), func() error {
		return l.db.View(func(tx *bbolt.Tx) error {
			last = touched(tx)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	applied := l.set.Applied()
	from, behind := l.head.Load(), false
	for _, c := range l.set.Collections() {
		a := applied[c.Store()]
		if a > l.head.Load() { // minimi.db is older than this store: restored alone, or lost
			return stash.AheadError(c.File(), a, l.head.Load())
		}
		if a < last[c.Path()] {
			from, behind = min(from, a), true
		}
	}
	if !behind {
		return nil
	}
	l.log.Info("catching stores up with the event log", logKeyFrom, from, logKeyHead, l.head.Load())
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if _, err := l.replay(ctx, from); err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	return nil
}

// Rebuild empties every store (stash.Set.Truncate) and replays every event
// of the log into them, in batches of one transaction each. Commands wait
// while it runs. If it stops half-way (ctx, a crash), the stores are
// partly rebuilt and the next Open finishes the job.
func (l *Log) Rebuild(ctx context.Context) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.set.Truncate(); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	n, err := l.replay(ctx, 0)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	l.log.Info("stores rebuilt from the event log", logKeyEvents, n, logKeyHead, l.head.Load())
	return nil
}

// replay replays the events after from, up to the head, and returns how
// many it read. One goroutine reads and decodes the next chunk while this
// one applies the current chunk. The caller holds writeMu.
func (l *Log) replay(ctx context.Context, from uint64) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []*Event, 1)
	errc := make(chan error, 1)
	go func() {
		defer close(chunks)
		for ctx.Err() == nil {
			evs, err := l.readChunk(from, replayBatch)
			if err != nil || len(evs) == 0 {
				errc <- err
				return
			}
			select {
			case chunks <- evs:
			case <-ctx.Done():
			}
			from = evs[len(evs)-1].Seq
		}
		errc <- ctx.Err()
	}()
	n := 0
	for evs := range chunks {
		if err := l.replayChunk(evs); err != nil {
			cancel()
			for range chunks { // let the reader finish
			}
			return n, err
		}
		n += len(evs)
	}
	return n, <-errc
}

func (l *Log) replayChunk(evs []*Event) error {
	w, err := l.set.Begin()
	if err != nil {
		return err
	}
	defer w.Rollback()
	for _, ev := range evs {
		if len(ev.Changes) == 0 {
			continue
		}
		if err := w.Replay(ev.Seq, ev.Changes); err != nil {
			return fmt.Errorf("replay event %d: %w", ev.Seq, err)
		}
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("replay events %d..%d: %w", evs[0].Seq, evs[len(evs)-1].Seq, err)
	}
	return nil
}
