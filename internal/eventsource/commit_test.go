package eventsource

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/stash"
)

// TestCommitConcurrent commits from 64 goroutines at once: every event is in
// the log with seq 1..64 and every record in its store, in fewer rounds
// (one fsync each) than commands.
func TestCommitConcurrent(t *testing.T) {
	const n = 64
	s := newService(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ss := s.set.Session()
			if _, err := ss.Create(notes, stash.Record{"id": fmt.Sprintf("n%02d", i), "title": "t"}); err != nil {
				errs <- err
				return
			}
			if _, err := s.log.Commit(t.Context(), command("POST", "/notes"), 201, ss.Changes(), nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Commit()=%v", err)
	}
	evs := readAll(t, s.log)
	if len(evs) != n {
		t.Fatalf("Read() gave %d events, want %d", len(evs), n)
	}
	checkGapFree(t, evs)
	if got := len(dump(t, s.set)[notes]); got != n {
		t.Fatalf("records of %s=%d, want %d", notes, got, n)
	}
	st := s.log.Stats()
	t.Logf("%d commands in %d rounds", st.Commands, st.Rounds)
	if st.Head != n || st.Commands != n || st.Pending != 0 {
		t.Fatalf("Stats()=%+v, want head and commands %d, nothing pending", st, n)
	}
	if st.Rounds >= n {
		t.Fatalf("Stats().Rounds=%d, want fewer than %d commands", st.Rounds, n)
	}
}

// TestCommitOneRound holds the committer while 64 commands queue: they
// all commit in the round the committer had begun with the first of them.
func TestCommitOneRound(t *testing.T) {
	const n = 64
	s := newService(t, Options{})
	s.log.writeMu.Lock()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprintf("t%02d", i)})
		})
	}
	waitFor(t, "64 pending commands", func() bool { return s.log.Stats().Pending == n })
	s.log.writeMu.Unlock()
	wg.Wait()
	if st := s.log.Stats(); st.Rounds != 1 || st.Head != n {
		t.Fatalf("Stats()=%+v, want head %d in 1 round", st, n)
	}
	checkGapFree(t, readAll(t, s.log))
}

// queueInOrder holds the committer, commits a first command (which the
// committer takes and waits with), then starts each commit of fns in turn,
// waiting until it is queued, and releases the committer: fns join the
// first command's round.
func queueInOrder(t *testing.T, s *service, fns ...func()) *sync.WaitGroup {
	t.Helper()
	s.log.writeMu.Lock()
	var wg sync.WaitGroup
	base := s.log.Stats().Pending
	wg.Go(func() { create(t, s.log, s.set, cache, stash.Record{"id": "first"}) })
	waitFor(t, "the first command", func() bool { return s.log.Stats().Pending == base+1 })
	for i, fn := range fns {
		wg.Go(fn)
		waitFor(t, "a queued command", func() bool { return s.log.Stats().Pending == base+2+int64(i) })
	}
	s.log.writeMu.Unlock()
	return &wg
}

// TestCommitConflictInGroup: a command that conflicts in the middle of a
// round gets ErrConflict, writes nothing and consumes no seq; the commands
// before and after it in the round commit.
func TestCommitConflictInGroup(t *testing.T) {
	s := newService(t, Options{})
	create(t, s.log, s.set, notes, stash.Record{"id": "x", "title": "v1"})

	a, b, c := s.set.Session(), s.set.Session(), s.set.Session()
	if _, err := a.Create(notes, stash.Record{"id": "a", "title": "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(notes, stash.Record{"id": "b", "title": "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Patch(notes, "x", stash.Record{"title": "from b"}, stash.At(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(notes, stash.Record{"id": "c", "title": "c"}); err != nil {
		t.Fatal(err)
	}
	commit(t, s.log, s.set, "/notes/x", func(ss *stash.Session) error { // wins the race for x
		_, err := ss.Patch(notes, "x", stash.Record{"title": "v2"}, stash.At(1))
		return err
	})

	results := make([]error, 3)
	evs := make([]*Event, 3)
	run := func(i int, ss *stash.Session) func() {
		return func() {
			evs[i], results[i] = s.log.Commit(t.Context(), command("POST", "/notes"), 201, ss.Changes(), nil)
		}
	}
	roundsBefore := s.log.Stats().Rounds
	queueInOrder(t, s, run(0, a), run(1, b), run(2, c)).Wait()

	if results[0] != nil || results[2] != nil {
		t.Fatalf("Commit(a)=%v, Commit(c)=%v, want both nil", results[0], results[2])
	}
	var ce *stash.ConflictError
	if !errors.As(results[1], &ce) || !errors.Is(results[1], stash.ErrConflict) || evs[1] != nil {
		t.Fatalf("Commit(b)=%v, %v, want a nil event and a *stash.ConflictError", evs[1], results[1])
	}
	// x=1, patch=2, first=3, a=4, c=5: b took no seq.
	if evs[0].Seq != 4 || evs[2].Seq != 5 {
		t.Fatalf("seqs of a and c=%d, %d, want 4, 5", evs[0].Seq, evs[2].Seq)
	}
	if got := s.log.Stats().Rounds - roundsBefore; got != 1 {
		t.Fatalf("rounds=%d, want 1 (a, b and c join the first command's round)", got)
	}
	checkGapFree(t, readAll(t, s.log))
	recs := dump(t, s.set)[notes]
	ids := []string{}
	for _, r := range recs {
		ids = append(ids, r["id"].(string))
		if r["id"] == "x" && r["title"] != "v2" {
			t.Fatalf("x=%v, want the title v2 (b wrote nothing)", r)
		}
	}
	if fmt.Sprint(ids) != "[a c x]" {
		t.Fatalf("ids=%v, want [a c x]", ids)
	}
}

// TestCommitWithdrawBeforeRound cancels a command while the committer is
// busy: it returns ctx's error and takes no seq.
func TestCommitWithdrawBeforeRound(t *testing.T) {
	s := newService(t, Options{})
	s.log.writeMu.Lock()
	var wg sync.WaitGroup
	wg.Go(func() { create(t, s.log, s.set, tags, stash.Record{"id": "first"}) })
	waitFor(t, "the first command", func() bool { return s.log.Stats().Pending == 1 })
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := s.log.Commit(ctx, command("POST", "/tags"), 201, nil, nil)
		errc <- err
	}()
	waitFor(t, "the second command", func() bool { return s.log.Stats().Pending == 2 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit()=%v, want context.Canceled", err)
	}
	s.log.writeMu.Unlock()
	wg.Wait()
	ev := create(t, s.log, s.set, tags, stash.Record{"id": "third"})
	if ev.Seq != 2 {
		t.Fatalf("seq after a withdrawn command=%d, want 2", ev.Seq)
	}
	checkGapFree(t, readAll(t, s.log))
}

// TestCommitByDeadline: a command still queued when its deadline passes is
// withdrawn with context.DeadlineExceeded and takes no seq; a deadline
// already past queues nothing; a pooled timer reused afterwards does not
// end a later wait early.
func TestCommitByDeadline(t *testing.T) {
	s := newService(t, Options{})
	s.log.writeMu.Lock()
	var wg sync.WaitGroup
	wg.Go(func() { create(t, s.log, s.set, tags, stash.Record{"id": "first"}) })
	waitFor(t, "the first command", func() bool { return s.log.Stats().Pending == 1 })
	_, err := s.log.CommitBy(t.Context(), time.Now().Add(20*time.Millisecond), command("POST", "/tags"), 201, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CommitBy() past its deadline=%v, want context.DeadlineExceeded", err)
	}
	if p := s.log.Stats().Pending; p != 1 {
		t.Fatalf("pending after the withdrawal=%d, want 1", p)
	}
	_, err = s.log.CommitBy(t.Context(), time.Now().Add(-time.Second), command("POST", "/tags"), 201, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CommitBy() with a deadline gone=%v, want context.DeadlineExceeded", err)
	}
	s.log.writeMu.Unlock()
	wg.Wait()
	ev, err := s.log.CommitBy(t.Context(), time.Now().Add(time.Minute), command("POST", "/tags"), 201, nil, nil)
	if err != nil {
		t.Fatalf("CommitBy() within its deadline: %v", err)
	}
	if ev.Seq != 2 {
		t.Fatalf("seq after two withdrawn commands=%d, want 2", ev.Seq)
	}
	checkGapFree(t, readAll(t, s.log))
}

// TestCommitCancelAfterRoundStarted: once its round has taken a command,
// cancelling its context does not undo it.
func TestCommitCancelAfterRoundStarted(t *testing.T) {
	s := newService(t, Options{})
	s.log.writeMu.Lock()
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		ev  *Event
		err error
	}
	res := make(chan result, 1)
	go func() {
		ev, err := s.log.Commit(ctx, command("DELETE", "/x"), 204, nil, []Emit{{Type: "gone"}})
		res <- result{ev, err}
	}()
	waitFor(t, "the round to take the command", func() bool {
		s.log.mu.Lock()
		defer s.log.mu.Unlock()
		return s.log.Stats().Pending == 1 && len(s.log.queue) == 0
	})
	cancel()
	s.log.writeMu.Unlock()
	r := <-res
	if r.err != nil || r.ev == nil || r.ev.Seq != 1 {
		t.Fatalf("Commit()=%v, %v, want event 1", r.ev, r.err)
	}
}

func TestCommitNotCommand(t *testing.T) {
	s := newService(t, Options{})
	for _, status := range []int{0, 99, 400, 409, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			if _, err := s.log.Commit(t.Context(), command("POST", "/"), status, nil, nil); !errors.Is(err, ErrNotCommand) {
				t.Fatalf("Commit(status %d)=%v, want ErrNotCommand", status, err)
			}
		})
	}
	if _, err := s.log.Commit(t.Context(), command("POST", "/"), 200, nil, []Emit{{Type: "bad", Data: make(chan int)}}); err == nil {
		t.Fatal("Commit() with data that is not JSON=nil, want an error")
	}
	if h := s.log.Head(); h != 0 {
		t.Fatalf("Head()=%d, want 0", h)
	}
}

// TestCloseDrains: Close commits the commands already queued, then refuses new ones.
func TestCloseDrains(t *testing.T) {
	const n = 5
	s := newService(t, Options{})
	s.log.writeMu.Lock()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { create(t, s.log, s.set, notes, stash.Record{"id": fmt.Sprint(i), "title": "t"}) })
	}
	waitFor(t, "queued commands", func() bool { return s.log.Stats().Pending == n })
	closed := make(chan error, 1)
	go func() { closed <- s.log.Close(context.Background()) }()
	waitFor(t, "Close to begin", func() bool {
		s.log.mu.Lock()
		defer s.log.mu.Unlock()
		return s.log.closed
	})
	if _, err := s.log.Commit(t.Context(), command("POST", "/"), 200, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit() while closing=%v, want ErrClosed", err)
	}
	s.log.writeMu.Unlock()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatalf("Close()=%v", err)
	}
	if err := s.log.Close(t.Context()); err != nil {
		t.Fatalf("second Close()=%v", err)
	}
	if h := s.log.Head(); h != n {
		t.Fatalf("Head()=%d, want %d", h, n)
	}
}

// TestEventContents checks every field of a committed event, live and as
// read back from the log.
func TestEventContents(t *testing.T) {
	s := newService(t, Options{Service: "svc"})
	ss := s.set.Session()
	rec, err := ss.Create(notes, stash.Record{"title": "hello", "email": "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := Command{Method: "POST", Path: "/notes", Route: "/notes", Params: map[string]string{"k": "v"},
		Client: "web", RequestID: "r1", Body: []byte(`{"title":"hello"}`)}
	emits := []Emit{{Type: "note.created", Data: map[string]any{"id": rec["id"]}}}
	live, err := s.log.Commit(t.Context(), cmd, 201, ss.Changes(), emits)
	if err != nil {
		t.Fatalf("Commit()=%v", err)
	}
	stored := readAll(t, s.log)[0]
	for name, ev := range map[string]*Event{"live": live, "stored": stored} {
		t.Run(name, func(t *testing.T) {
			if ev.Seq != 1 || len(ev.ID) != 26 || ev.Service != "svc" || ev.Status != 201 {
				t.Fatalf("event=%+v, want seq 1, a ULID, service svc, status 201", ev)
			}
			if !ev.Time.Equal(live.Time) || ev.Time.Location().String() != "UTC" {
				t.Fatalf("Time=%v, want %v in UTC", ev.Time, live.Time)
			}
			if ev.Command.Client != "web" || ev.Command.Params["k"] != "v" || string(ev.Command.Body) != `{"title":"hello"}` {
				t.Fatalf("Command=%+v, want %+v", ev.Command, cmd)
			}
			if len(ev.Changes) != 1 || ev.Changes[0].Op != stash.OpCreate || ev.Changes[0].ID != rec["id"] {
				t.Fatalf("Changes=%+v, want the create of %v", ev.Changes, rec["id"])
			}
			if len(ev.Events) != 1 || ev.Events[0].Type != "note.created" {
				t.Fatalf("Events=%+v, want note.created", ev.Events)
			}
		})
	}
	if string(stored.JSON()) != string(live.JSON()) {
		t.Fatalf("stored JSON=%s, want %s", stored.JSON(), live.JSON())
	}
}

// roundOfTwo leaves the committer gathering after a round that began with
// two queued commands (the log's MaxBatch must be 2): while a write
// transaction of the test holds the store, four commands queue; the
// committer's next round takes one or two of them, and the round after it
// the last two, which were queued when it began. It returns the number of
// rounds then.
func roundOfTwo(t *testing.T, s *service) uint64 {
	t.Helper()
	create(t, s.log, s.set, cache, stash.Record{})
	tx, err := s.set.DB().Begin(true)
	if err != nil {
		t.Fatalf("Begin()=%v", err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { create(t, s.log, s.set, cache, stash.Record{}) })
	}
	waitFor(t, "4 pending commands", func() bool { return s.log.Stats().Pending == 4 })
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback()=%v", err)
	}
	wg.Wait()
	return s.log.Stats().Rounds
}

// createBy creates a record in /cache, giving up after 10 s.
func createBy(t *testing.T, l *Log, set *stash.Set) error {
	ss := set.Session()
	if _, err := ss.Create(cache, stash.Record{}); err != nil {
		t.Fatalf("Create()=%v", err)
	}
	_, err := l.CommitBy(context.Background(), time.Now().Add(10*time.Second), command("POST", cache), 201, ss.Changes(), nil)
	return err
}

// TestGatherWaitsForTheRound: after a round that began with two queued
// commands, a command queued alone waits until two are queued, and they
// commit in one round.
func TestGatherWaitsForTheRound(t *testing.T) {
	s := newService(t, Options{Gather: time.Minute, MaxBatch: 2})
	rounds := roundOfTwo(t, s)
	var wg sync.WaitGroup
	wg.Go(func() { create(t, s.log, s.set, cache, stash.Record{}) })
	waitFor(t, "a pending or committed command", func() bool { st := s.log.Stats(); return st.Pending == 1 || st.Head == 6 })
	wg.Go(func() { create(t, s.log, s.set, cache, stash.Record{}) })
	wg.Wait()
	if st := s.log.Stats(); st.Rounds != rounds+1 || st.Head != 7 {
		t.Fatalf("Stats()=%+v, want head 7 and the last two commands in one round (rounds %d)", st, rounds+1)
	}
}

// TestGatherIsBounded: a command queued alone after a round that began
// with two commits once Gather has passed, in a round of its own.
func TestGatherIsBounded(t *testing.T) {
	const gather = 400 * time.Millisecond
	s := newService(t, Options{Gather: gather, MaxBatch: 2})
	rounds := roundOfTwo(t, s)
	start := time.Now()
	if err := createBy(t, s.log, s.set); err != nil {
		t.Fatalf("CommitBy()=%v", err)
	}
	// It waited (for the rest of the gather time, which began when the
	// round of two ended, before start: at least half of it is left unless
	// that round's release took 200 ms).
	if took := time.Since(start); took < gather/2 {
		t.Errorf("the command committed after %v, want it to wait for more commands for up to %v", took, gather)
	}
	if st := s.log.Stats(); st.Rounds != rounds+1 {
		t.Errorf("Stats()=%+v, want %d rounds", st, rounds+1)
	}
}

// TestGatherOneByOne: commands sent one after the other, each after the
// previous one's reply, do not wait for one another.
func TestGatherOneByOne(t *testing.T) {
	s := newService(t, Options{Gather: time.Minute})
	for i := range 20 {
		if err := createBy(t, s.log, s.set); err != nil {
			t.Fatalf("command %d: CommitBy()=%v", i, err)
		}
	}
	if st := s.log.Stats(); st.Rounds != 20 || st.Head != 20 {
		t.Fatalf("Stats()=%+v, want 20 commands in 20 rounds", st)
	}
}

// TestGatherEndsAtClose: Close does not wait for the gather time.
func TestGatherEndsAtClose(t *testing.T) {
	s := newService(t, Options{Gather: time.Minute, MaxBatch: 2})
	roundOfTwo(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.log.Close(ctx); err != nil {
		t.Fatalf("Close()=%v, want it to end the committer's wait for more commands", err)
	}
}
