package eventsource

import "sync"

// recentBytes bounds the JSON of the events liveEvents keeps: past it, the
// oldest are dropped until half of it is left, so that keep events of a
// megabyte each do not hold gigabytes. Subscribers read them from the log.
const recentBytes = 64 << 20

// liveEvents keeps the newest committed events in memory and wakes the
// subscribers waiting for more.
type liveEvents struct {
	mu     sync.RWMutex
	keep   int
	recent []*Event      // the newest events, in seq order: at most 2*keep of them, of at most recentBytes
	bytes  int           // the JSON of recent
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
	for _, ev := range evs {
		lv.bytes += len(ev.JSON())
	}
	if len(lv.recent) > 2*lv.keep || lv.bytes > recentBytes {
		drop := max(len(lv.recent)-lv.keep, 0)
		for _, ev := range lv.recent[:drop] {
			lv.bytes -= len(ev.JSON())
		}
		for drop < len(lv.recent) && lv.bytes > recentBytes/2 {
			lv.bytes -= len(lv.recent[drop].JSON())
			drop++
		}
		lv.recent = append([]*Event(nil), lv.recent[drop:]...)
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

// after returns up to n cached events with seq > after, of about maxBytes of
// JSON (at least one event, however large), and false when the cache does
// not reach back to after+1 (the caller reads the log instead). The bound
// matters once the cache drops them: the events a subscriber holds stay in
// memory until it has sent them.
func (lv *liveEvents) after(after uint64, n, maxBytes int) ([]*Event, bool) {
	lv.mu.RLock()
	defer lv.mu.RUnlock()
	if len(lv.recent) == 0 || lv.recent[0].Seq > after+1 {
		return nil, false
	}
	i := int(after + 1 - lv.recent[0].Seq)
	if i >= len(lv.recent) {
		return nil, true
	}
	end, size := i, 0
	for end < len(lv.recent) && end-i < n && (end == i || size+len(lv.recent[end].JSON()) <= maxBytes) {
		size += len(lv.recent[end].JSON())
		end++
	}
	return append([]*Event(nil), lv.recent[i:end]...), true
}
