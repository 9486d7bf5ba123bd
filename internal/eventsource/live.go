package eventsource

import "sync"

// liveEvents keeps the newest committed events in memory and wakes the
// subscribers waiting for more.
type liveEvents struct {
	mu     sync.RWMutex
	keep   int
	recent []*Event      // the newest events, in seq order, between keep and 2*keep of them
	notify chan struct{} // closed and replaced on every publish
}

func (lv *liveEvents) init(keep int) {
	lv.keep = keep
	lv.notify = make(chan struct{})
}

// publish adds the events of a round and wakes the waiters.
func (lv *liveEvents) publish(evs []*Event) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.recent = append(lv.recent, evs...)
	if len(lv.recent) > 2*lv.keep {
		lv.recent = append([]*Event(nil), lv.recent[len(lv.recent)-lv.keep:]...)
	}
	close(lv.notify)
	lv.notify = make(chan struct{})
}

// waiter returns the channel that the next publish closes.
func (lv *liveEvents) waiter() <-chan struct{} {
	lv.mu.RLock()
	defer lv.mu.RUnlock()
	return lv.notify
}

// after returns up to n cached events with seq > after, and false when the
// cache does not reach back to after+1 (the caller reads the log instead).
func (lv *liveEvents) after(after uint64, n int) ([]*Event, bool) {
	lv.mu.RLock()
	defer lv.mu.RUnlock()
	if len(lv.recent) == 0 || lv.recent[0].Seq > after+1 {
		return nil, false
	}
	i := int(after + 1 - lv.recent[0].Seq)
	if i >= len(lv.recent) {
		return nil, true
	}
	end := min(len(lv.recent), i+n)
	return append([]*Event(nil), lv.recent[i:end]...), true
}
