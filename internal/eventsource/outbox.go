package eventsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Headers of every message the outbox publishes.
const (
	HeaderMsgID = "Nats-Msg-Id" // the event's id: JetStream de-duplicates on it
	HeaderSeq   = "Minimi-Seq"  // the event's seq: consumers drop a seq they have seen
	// HeaderOutline marks an event too large for the server's max_payload,
	// sent as its outline (Log.Outline); its value is the size in bytes of
	// the whole event's public form.
	HeaderOutline = "Minimi-Outline"
)

// Defaults of OutboxOptions.
const (
	DefaultOutboxName   = "nats"
	DefaultFlushTimeout = 5 * time.Second
	DefaultRetryWait    = 250 * time.Millisecond
	DefaultSyncInterval = time.Second
)

// OutboxOptions configures NewOutbox. NewOutbox gives a zero field (and a
// negative one, which Validate reports) its default.
type OutboxOptions struct {
	// Name names the outbox's stored cursor; zero means DefaultOutboxName.
	Name string
	// MaxBatch is the most events published before waiting for the server to
	// confirm them; zero means DefaultMaxBatch.
	MaxBatch int
	// FlushTimeout bounds the wait for that confirmation; zero means DefaultFlushTimeout.
	FlushTimeout time.Duration
	// RetryWait is the pause while NATS is down and after a failed batch;
	// zero means DefaultRetryWait.
	RetryWait time.Duration
	// SyncInterval is how often the cursor is stored when no commit round
	// carries it (an idle service); zero means DefaultSyncInterval.
	SyncInterval time.Duration
	// Logger receives the outbox's records; nil discards them.
	Logger *slog.Logger
}

// DefaultOutboxOptions returns the defaults.
func DefaultOutboxOptions() OutboxOptions {
	return OutboxOptions{Name: DefaultOutboxName, MaxBatch: DefaultMaxBatch, FlushTimeout: DefaultFlushTimeout,
		RetryWait: DefaultRetryWait, SyncInterval: DefaultSyncInterval}
}

// Validate reports the first negative field of o.
func (o OutboxOptions) Validate() error {
	switch {
	case o.MaxBatch < 0:
		return fmt.Errorf("%w: outbox max batch %d is negative", ErrInvalidOptions, o.MaxBatch)
	case o.FlushTimeout < 0:
		return fmt.Errorf("%w: outbox flush timeout %v is negative", ErrInvalidOptions, o.FlushTimeout)
	case o.RetryWait < 0:
		return fmt.Errorf("%w: outbox retry wait %v is negative", ErrInvalidOptions, o.RetryWait)
	case o.SyncInterval < 0:
		return fmt.Errorf("%w: outbox sync interval %v is negative", ErrInvalidOptions, o.SyncInterval)
	}
	return nil
}

func (o OutboxOptions) withDefaults() OutboxOptions {
	d := DefaultOutboxOptions()
	if o.Name == "" {
		o.Name = d.Name
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = d.MaxBatch
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = d.FlushTimeout
	}
	if o.RetryWait <= 0 {
		o.RetryWait = d.RetryWait
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = d.SyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Outbox publishes every committed event to NATS, in seq order, at least
// once, on the subject Subject(service, command path) with the headers
// HeaderMsgID and HeaderSeq. It resumes from its stored cursor, so an
// outage or a restart loses and reorders nothing; after one, events from
// the last confirmed batch may arrive twice.
type Outbox struct {
	l    *Log
	nc   *nats.Conn
	opts OutboxOptions
	log  *slog.Logger

	sent     atomic.Uint64
	skipped  atomic.Uint64
	outlined atomic.Uint64
	running  atomic.Bool

	mu       sync.Mutex
	closed   bool
	stopWait context.CancelFunc // ends waiting for events: drain, then stop
	hardStop context.CancelFunc // ends everything, even a retry loop
	stopped  chan struct{}
}

// NewOutbox returns an outbox of l publishing on nc; Run starts it.
func NewOutbox(l *Log, nc *nats.Conn, opts OutboxOptions) *Outbox {
	opts = opts.withDefaults()
	return &Outbox{l: l, nc: nc, opts: opts, stopped: make(chan struct{}),
		log: opts.Logger.With(logKeyComponent, "outbox", logKeyOutbox, opts.Name)}
}

// Sent returns the seq of the last event the server confirmed.
func (o *Outbox) Sent() uint64 { return o.sent.Load() }

// Lag returns how many committed events are not confirmed yet.
func (o *Outbox) Lag() uint64 {
	head, sent := o.l.Head(), o.sent.Load()
	if sent >= head {
		return 0
	}
	return head - sent
}

// Skipped returns how many events NATS refused for good (a subject it
// cannot take, or an outline over the server's max_payload): they are
// logged and passed over.
func (o *Outbox) Skipped() uint64 { return o.skipped.Load() }

// Outlined returns how many events were over the server's max_payload and
// were sent as their outline.
func (o *Outbox) Outlined() uint64 { return o.outlined.Load() }

// Run publishes events until ctx ends or Close is called, then stores its
// cursor. While NATS is down it waits and retries; commands keep
// committing meanwhile. It returns nil when stopped, or the error that
// stopped it (a closed connection, an unreadable log).
func (o *Outbox) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return ErrOutboxRunning
	}
	defer close(o.stopped)
	ctx, hard := context.WithCancel(ctx)
	defer hard()
	wait, stopWait := context.WithCancel(ctx)
	defer stopWait()
	o.mu.Lock()
	closed := o.closed
	o.stopWait, o.hardStop = stopWait, hard
	o.mu.Unlock()
	if closed {
		return nil
	}
	sent, err := o.l.cursor(o.opts.Name)
	if err != nil {
		return err
	}
	o.sent.Store(sent)
	sub, err := o.l.Subscribe(sent)
	if err != nil {
		return err
	}
	defer sub.Close()
	var wg sync.WaitGroup
	wg.Go(func() { o.syncLoop(ctx) })
	err = o.loop(ctx, wait, sub)
	hard()
	wg.Wait()
	o.storeCursor()
	return err
}

// loop publishes batches until the subscription has nothing more and wait
// has ended (drained), or ctx ends.
func (o *Outbox) loop(ctx, wait context.Context, sub *Subscription) error {
	for {
		evs, err := sub.Batch(wait, o.opts.MaxBatch)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := o.send(ctx, evs); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// send publishes evs and waits for the server to confirm them, retrying
// the whole batch until it succeeds.
func (o *Outbox) send(ctx context.Context, evs []*Event) error {
	for {
		if err := o.waitConnected(ctx); err != nil {
			return err
		}
		before := o.nc.LastError()
		err := o.publish(evs)
		if err == nil {
			err = o.nc.FlushTimeout(o.opts.FlushTimeout)
		}
		if err == nil {
			err = o.refused(before, evs)
		}
		if errors.Is(err, nats.ErrPermissionViolation) {
			if len(evs) > 1 { // again one at a time, to learn which were refused
				for i := range evs {
					if err := o.send(ctx, evs[i:i+1]); err != nil {
						return err
					}
				}
				return nil
			}
			o.skipped.Add(1)
			o.log.Error("event cannot be published, skipped", logKeySeq, evs[0].Seq,
				logKeySubject, Subject(evs[0].Service, evs[0].Command.Path), logKeyError, err)
			err = nil
		}
		if err == nil {
			last := evs[len(evs)-1].Seq
			o.sent.Store(last)
			o.l.noteCursor(o.opts.Name, last)
			return nil
		}
		// A flush in flight when the connection drops fails with
		// ErrConnectionClosed too, while nats.go reconnects: only a
		// connection closed for good stops the outbox.
		if errors.Is(err, nats.ErrConnectionClosed) && o.nc.IsClosed() {
			return err
		}
		o.log.Warn("publish failed, retrying", logKeySeq, evs[0].Seq, logKeyError, err)
		if err := sleep(ctx, o.opts.RetryWait); err != nil {
			return err
		}
	}
}

// refused returns the permissions violation the server reported, since the
// connection's last error was before, for a publish on the subject of one
// of evs. The server reports it before it answers the flush, and drops the
// message: the connection's user may not publish there.
func (o *Outbox) refused(before error, evs []*Event) error {
	err := o.nc.LastError()
	if err == nil || err == before || !errors.Is(err, nats.ErrPermissionViolation) {
		return nil
	}
	for _, ev := range evs {
		if strings.Contains(err.Error(), `Publish to "`+Subject(ev.Service, ev.Command.Path)+`"`) {
			return err
		}
	}
	return nil
}

// publish queues each event on the connection. An event over the server's
// max_payload goes as its outline; one NATS can never take is logged and
// skipped.
func (o *Outbox) publish(evs []*Event) error {
	for _, ev := range evs {
		msg := &nats.Msg{
			Subject: Subject(ev.Service, ev.Command.Path),
			Header:  nats.Header{HeaderMsgID: {ev.ID}, HeaderSeq: {strconv.FormatUint(ev.Seq, 10)}},
			Data:    o.l.Public(ev),
		}
		err := o.nc.PublishMsg(msg)
		if errors.Is(err, nats.ErrMaxPayload) {
			size := len(msg.Data)
			msg.Data = o.l.Outline(ev)
			msg.Header.Set(HeaderOutline, strconv.Itoa(size))
			if err = o.nc.PublishMsg(msg); err == nil {
				o.outlined.Add(1)
				o.log.Warn("event over the NATS server's max_payload, sent without its records and emitted data",
					logKeySeq, ev.Seq, logKeySubject, msg.Subject, "bytes", size, "max_payload", o.nc.MaxPayload())
				continue
			}
		}
		if errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) {
			o.skipped.Add(1)
			o.log.Error("event cannot be published, skipped", logKeySeq, ev.Seq, logKeySubject, msg.Subject, logKeyError, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// waitConnected waits until the connection is up.
func (o *Outbox) waitConnected(ctx context.Context) error {
	for !o.nc.IsConnected() {
		if o.nc.IsClosed() {
			return nats.ErrConnectionClosed
		}
		if err := sleep(ctx, o.opts.RetryWait); err != nil {
			return err
		}
	}
	return nil
}

// syncLoop stores the cursor every SyncInterval when commit rounds have
// not carried it (no commands).
func (o *Outbox) syncLoop(ctx context.Context) {
	t := time.NewTicker(o.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sent := o.sent.Load()
		if sent <= o.l.storedCursor(o.opts.Name) {
			continue
		}
		if err := o.l.syncCursor(ctx, o.opts.Name, sent); err != nil && ctx.Err() == nil {
			o.log.Warn("store outbox cursor", logKeySeq, sent, logKeyError, err)
		}
	}
}

// storeCursor stores the last confirmed seq as the outbox stops.
func (o *Outbox) storeCursor() {
	sent := o.sent.Load()
	if sent <= o.l.storedCursor(o.opts.Name) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.opts.FlushTimeout)
	defer cancel()
	if err := o.l.syncCursor(ctx, o.opts.Name, sent); err != nil {
		o.log.Warn("store outbox cursor", logKeySeq, sent, logKeyError, err)
	}
}

// Close publishes the events committed so far (as far as ctx allows),
// stores the cursor and stops Run. It is safe to call more than once, and
// before or without Run.
func (o *Outbox) Close(ctx context.Context) error {
	o.mu.Lock()
	o.closed = true
	stopWait, hard := o.stopWait, o.hardStop
	o.mu.Unlock()
	if !o.running.Load() {
		return nil
	}
	if stopWait != nil {
		stopWait()
	}
	select {
	case <-o.stopped:
		return nil
	case <-ctx.Done():
		if hard != nil {
			hard()
		}
		<-o.stopped
		return ctx.Err()
	}
}

// sleep waits for d or ctx.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
