package eventsource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/minimi-go/minimi/internal/stash"
)

// readUntil reads sub until the event with seq last, and fails unless the
// seqs are exactly sub's start+1..last, in order.
func readUntil(t *testing.T, sub *Subscription, last uint64) {
	t.Helper()
	want := sub.Seq() + 1
	for want <= last {
		ev, err := sub.Next(t.Context())
		if err != nil {
			t.Errorf("Next()=%v, want event %d", err, want)
			return
		}
		if ev.Seq != want {
			t.Errorf("Next().Seq=%d, want %d", ev.Seq, want)
			return
		}
		want++
	}
}

// TestSubscribeSeam subscribes while commands commit: every subscriber gets
// each event after its start exactly once, in order, across the seam
// between the backlog and live events.
func TestSubscribeSeam(t *testing.T) {
	const writers, each = 4, 50
	s := newService(t, Options{Recent: 16})
	for i := range 10 {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprintf("pre%d", i)})
	}
	const last = 10 + writers*each
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprintf("w%d-%d", w, i)})
			}
		})
	}
	var readers sync.WaitGroup
	for _, start := range []func() uint64{
		func() uint64 { return 0 },
		func() uint64 { return 5 },
		func() uint64 { return 10 },
		s.log.Head,
		s.log.Head,
	} {
		sub, err := s.log.Subscribe(start())
		if err != nil {
			t.Fatalf("Subscribe()=%v", err)
		}
		readers.Go(func() {
			defer sub.Close()
			readUntil(t, sub, last)
		})
	}
	wg.Wait()
	readers.Wait()
}

// TestSubscribeSlow: a subscriber that does not read holds up no commit;
// it then reads the events it missed from the log, and new ones live.
func TestSubscribeSlow(t *testing.T) {
	s := newService(t, Options{Recent: 4})
	sub, err := s.log.Subscribe(0)
	if err != nil {
		t.Fatalf("Subscribe()=%v", err)
	}
	defer sub.Close()
	for i := range 50 {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint(i)})
	}
	evs, err := sub.Batch(t.Context(), 20)
	if err != nil || len(evs) != 20 || evs[0].Seq != 1 || evs[19].Seq != 20 {
		t.Fatalf("Batch(20)=%d events, %v, want events 1..20", len(evs), err)
	}
	readUntil(t, sub, 50)
	got := make(chan *Event, 1)
	go func() {
		ev, err := sub.Next(t.Context())
		if err != nil {
			t.Errorf("Next()=%v", err)
		}
		got <- ev
	}()
	create(t, s.log, s.set, tags, stash.Record{"id": "live"})
	if ev := <-got; ev == nil || ev.Seq != 51 {
		t.Fatalf("Next()=%v, want event 51", ev)
	}
}

// TestSubscribeBoundedRead: a subscriber far behind takes about
// subscriberReadBytes of large events at a time, not a whole batch of them,
// whether it reads them from the log or from the cache of recent events, so
// that a stream of a log of large events does not hold all of a batch in
// memory.
func TestSubscribeBoundedRead(t *testing.T) {
	for name, recent := range map[string]int{"from the log": 1, "from the cache": 0} {
		t.Run(name, func(t *testing.T) {
			s := newService(t, Options{Recent: recent})
			big := strings.Repeat("x", 256<<10)
			for i := range 12 {
				create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint(i), "big": big})
			}
			sub, err := s.log.Subscribe(0)
			if err != nil {
				t.Fatalf("Subscribe()=%v", err)
			}
			defer sub.Close()
			evs, err := sub.Batch(t.Context(), 64)
			if want := subscriberReadBytes/len(big) + 1; err != nil || len(evs) == 0 || len(evs) > want {
				t.Fatalf("Batch(64)=%d events, %v, want 1 to %d", len(evs), err, want)
			}
			readUntil(t, sub, 12)
		})
	}
	t.Run("one event past the bound", func(t *testing.T) {
		s := newService(t, Options{})
		create(t, s.log, s.set, tags, stash.Record{"id": "huge", "big": strings.Repeat("x", subscriberReadBytes+1)})
		sub, err := s.log.Subscribe(0)
		if err != nil {
			t.Fatalf("Subscribe()=%v", err)
		}
		defer sub.Close()
		readUntil(t, sub, 1)
	})
}

// TestRecentBoundedBytes: the events kept in memory for subscribers hold at
// most recentBytes of JSON, however few they are; a subscriber reads the
// others from the log.
func TestRecentBoundedBytes(t *testing.T) {
	s := newService(t, Options{})
	big := strings.Repeat("x", 1<<20)
	n := recentBytes/len(big) + 16
	for i := range n {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint(i), "big": big})
	}
	s.log.live.mu.RLock()
	kept, bytes := len(s.log.live.recent), s.log.live.bytes
	sum := 0
	for _, ev := range s.log.live.recent {
		sum += len(ev.JSON())
	}
	s.log.live.mu.RUnlock()
	if bytes > recentBytes || bytes != sum || kept == 0 {
		t.Errorf("%d events kept, of %d bytes (counted %d), want some, of at most %d", kept, sum, bytes, recentBytes)
	}
	sub, err := s.log.Subscribe(0)
	if err != nil {
		t.Fatalf("Subscribe()=%v", err)
	}
	defer sub.Close()
	readUntil(t, sub, uint64(n))
}

func TestSubscribeBatchContext(t *testing.T) {
	s := newService(t, Options{})
	sub, err := s.log.Subscribe(0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := sub.Batch(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Batch() with nothing to read=%v, want context.Canceled", err)
	}
	create(t, s.log, s.set, tags, stash.Record{"id": "a"})
	create(t, s.log, s.set, tags, stash.Record{"id": "b"})
	evs, err := sub.Batch(ctx, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("Batch() with events ready=%d events, %v, want 2 despite the ended context", len(evs), err)
	}
}

func TestSubscribeClose(t *testing.T) {
	s := newService(t, Options{})
	sub, err := s.log.Subscribe(0)
	if err != nil {
		t.Fatal(err)
	}
	sub.Close()
	sub.Close()
	if _, err := sub.Next(t.Context()); !errors.Is(err, ErrSubscriptionClosed) {
		t.Fatalf("Next() after Close=%v, want ErrSubscriptionClosed", err)
	}
	waiting, err := s.log.Subscribe(0)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := waiting.Next(context.Background())
		errc <- err
	}()
	if err := s.log.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next() when the log closes=%v, want ErrClosed", err)
	}
	if _, err := s.log.Subscribe(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe() on a closed log=%v, want ErrClosed", err)
	}
}

func TestRead(t *testing.T) {
	s := newService(t, Options{})
	for i := range 600 {
		if _, err := s.log.Commit(t.Context(), command("POST", "/"), 200, nil, []Emit{{Type: fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name         string
		after        uint64
		limit        int
		first, count int
	}{
		{"all", 0, 0, 1, 600},
		{"after", 590, 0, 591, 10},
		{"limit across chunks", 10, 300, 11, 300},
		{"limit beyond head", 595, 50, 596, 5},
		{"past head", 600, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seqs []uint64
			err := s.log.Read(tc.after, tc.limit, func(ev *Event) error { seqs = append(seqs, ev.Seq); return nil })
			if err != nil {
				t.Fatalf("Read()=%v", err)
			}
			if len(seqs) != tc.count {
				t.Fatalf("Read(%d, %d) gave %d events, want %d", tc.after, tc.limit, len(seqs), tc.count)
			}
			for i, seq := range seqs {
				if seq != uint64(tc.first+i) {
					t.Fatalf("Read() event %d has seq %d, want %d", i, seq, tc.first+i)
				}
			}
		})
	}
	stop := errors.New("stop")
	n := 0
	if err := s.log.Read(0, 0, func(*Event) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Read() with fn failing=%v after %d calls, want stop after 1", err, n)
	}
}

// TestReadLogWithoutLog: a store that never had a log reads as empty.
func TestReadLogWithoutLog(t *testing.T) {
	set := openSet(t, t.TempDir())
	n := 0
	if err := ReadLog(set.DB(), 0, 0, func(*Event) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("ReadLog()=%v after %d events, want nil and none", err, n)
	}
}
