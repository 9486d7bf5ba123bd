package eventsource

import (
	"context"
	"sync"
)

// Subscription reads the log from a seq on: the events already committed,
// then each new one as it commits. It is a cursor on the gap-free log, so it
// never misses or repeats an event at the seam between the backlog and live
// events. A slow subscriber never holds up commits: it falls behind the
// in-memory cache of recent events and reads the log from disk instead.
//
// A Subscription is used by one goroutine; Close may be called from any.
type Subscription struct {
	l         *Log
	after     uint64 // seq of the last event delivered
	buf       []*Event
	done      chan struct{}
	closeOnce sync.Once
}

// Subscribe returns a Subscription to the events with seq > after.
func (l *Log) Subscribe(after uint64) (*Subscription, error) {
	select {
	case <-l.done:
		return nil, ErrClosed
	default:
	}
	return &Subscription{l: l, after: after, done: make(chan struct{})}, nil
}

// Seq returns the seq of the last event delivered (at first, Subscribe's after).
func (s *Subscription) Seq() uint64 { return s.after }

// Close ends the subscription; a waiting Next returns ErrSubscriptionClosed.
func (s *Subscription) Close() { s.closeOnce.Do(func() { close(s.done) }) }

// Next returns the next event, waiting for it to be committed if needed.
func (s *Subscription) Next(ctx context.Context) (*Event, error) {
	evs, err := s.Batch(ctx, 1)
	if err != nil {
		return nil, err
	}
	return evs[0], nil
}

// Batch returns the next events, at least one and at most max (max <= 0:
// up to 256). It returns events that are already committed even when ctx
// has ended; it returns ctx's error only when it would have to wait. After
// Close it returns ErrSubscriptionClosed, and after the Log's Close, ErrClosed.
func (s *Subscription) Batch(ctx context.Context, max int) ([]*Event, error) {
	if max <= 0 {
		max = readChunk
	}
	for len(s.buf) == 0 {
		if err := s.ended(); err != nil {
			return nil, err
		}
		wait := s.l.live.waiter()
		if s.l.Head() > s.after {
			if err := s.fill(max); err != nil {
				return nil, err
			}
			continue
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
		case <-s.l.done:
		}
	}
	n := min(max, len(s.buf))
	out := s.buf[:n:n]
	s.buf = s.buf[n:]
	s.after = out[n-1].Seq
	return out, nil
}

func (s *Subscription) ended() error {
	select {
	case <-s.done:
		return ErrSubscriptionClosed
	case <-s.l.done:
		return ErrClosed
	default:
		return nil
	}
}

// subscriberReadBytes bounds the events a subscription takes at once, from
// the log or the cache of recent events: a subscriber far behind, such as an
// event stream that starts at the beginning, holds about this much of them,
// not n events however large.
const subscriberReadBytes = 1 << 20

// fill buffers up to n events after s.after, from the cache of recent
// events if it reaches back far enough, else from the log.
func (s *Subscription) fill(n int) error {
	if evs, ok := s.l.live.after(s.after, n, subscriberReadBytes); ok && len(evs) > 0 {
		s.buf = evs
		return nil
	}
	evs, err := readEvents(s.l.db, s.after, n, subscriberReadBytes)
	if err != nil {
		return err
	}
	s.buf = evs
	return nil
}
