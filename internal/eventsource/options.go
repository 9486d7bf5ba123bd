package eventsource

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBatch  = 256
	DefaultHeartbeat = 15 * time.Second
	DefaultRecent    = 1024
	DefaultStall     = time.Minute
	DefaultGather    = 2 * time.Millisecond
)

// Options configures Open.
type Options struct {
	// Service is the service name recorded in every event and used in its
	// NATS subject. Required.
	Service string
	// Logger receives the log's records; nil discards them.
	Logger *slog.Logger
	// MaxBatch is the most commands one commit round takes; zero means
	// DefaultMaxBatch.
	MaxBatch int
	// Gather is the longest the committer waits, after a round that began
	// with n queued commands (the round also takes those queued while it
	// works), for n to be queued again before it starts the next round (it
	// starts at once when they are). The commands of a round
	// get their replies together, and their clients send the next ones
	// together: a round started before they arrive holds only the commands
	// that queued during the last one's fsyncs, and the rest wait a whole
	// round more. Waiting for them makes rounds larger and fewer, each with
	// its fsyncs. A command waits at most Gather longer than it would
	// without. Zero means DefaultGather; a negative Gather, no wait.
	Gather time.Duration
	// Heartbeat is the interval of the SSE handler's keep-alive comments;
	// zero means DefaultHeartbeat.
	Heartbeat time.Duration
	// Recent is how many of the latest events are kept in memory for
	// subscribers, which read older ones from the log; zero means DefaultRecent.
	Recent int
	// Stall is how long one write to an event stream (a batch of events or
	// a heartbeat) may take: a client that reads nothing for that long is
	// dropped, and misses nothing when it reconnects with Last-Event-ID.
	// Zero means DefaultStall.
	Stall time.Duration
}

// DefaultOptions returns the options of a service named "MiniMi".
func DefaultOptions() Options {
	return Options{Service: "MiniMi", MaxBatch: DefaultMaxBatch, Gather: DefaultGather, Heartbeat: DefaultHeartbeat, Recent: DefaultRecent, Stall: DefaultStall}
}

// Validate reports the first problem with o.
func (o Options) Validate() error {
	switch {
	case o.Service == "":
		return fmt.Errorf("%w: service name is empty", ErrInvalidOptions)
	case o.MaxBatch < 0:
		return fmt.Errorf("%w: max batch %d is negative", ErrInvalidOptions, o.MaxBatch)
	case o.Heartbeat < 0:
		return fmt.Errorf("%w: heartbeat %v is negative", ErrInvalidOptions, o.Heartbeat)
	case o.Recent < 0:
		return fmt.Errorf("%w: recent %d is negative", ErrInvalidOptions, o.Recent)
	case o.Stall < 0:
		return fmt.Errorf("%w: stall %v is negative", ErrInvalidOptions, o.Stall)
	}
	return nil
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.Recent == 0 {
		o.Recent = DefaultRecent
	}
	if o.Stall == 0 {
		o.Stall = DefaultStall
	}
	if o.Gather == 0 {
		o.Gather = DefaultGather
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
