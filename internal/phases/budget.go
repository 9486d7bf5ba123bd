package phases

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// budget is the context a vm's scripts run under. It ends at its deadline,
// when the request's own context ends, or when the watchdog stops the call
// for memory. Each vm keeps one for its whole life, so running a request
// allocates no context or timer: the watchdog, which wakes every watchEvery
// while scripts run, enforces the deadline and the parent's cancellation.
type budget struct {
	mu       sync.Mutex
	gen      uint64 // the call being run; a stop for an older call is ignored
	parent   context.Context
	deadline time.Time
	limit    uint64                        // heap bytes past which the watchdog stops the call
	done     atomic.Pointer[chan struct{}] // replaced under mu; read without it
	err      error
	memory   bool      // the watchdog stopped the call for memory
	active   bool      // a call runs: between begin and end
	watch    *memWatch // the watchdog that enforces it
}

var _ context.Context = (*budget)(nil)

func newBudget() *budget {
	b := &budget{parent: context.Background(), watch: watchdog}
	b.renew()
	return b
}

// renew gives the budget a fresh done channel.
func (b *budget) renew() {
	done := make(chan struct{})
	b.done.Store(&done)
}

// begin starts a call under parent with time d and heap limit, watched by
// the watchdog (when the budget is registered with it) until end. It
// returns the time it began.
func (b *budget) begin(parent context.Context, d time.Duration, limit uint64) time.Time {
	now := time.Now()
	b.mu.Lock()
	if b.err != nil {
		b.renew()
		b.err, b.memory = nil, false
	}
	b.gen++
	b.parent, b.deadline, b.limit = parent, now.Add(d), limit
	b.active = true
	b.mu.Unlock()
	b.watch.started()
	return now
}

// end ends the call.
func (b *budget) end() {
	b.mu.Lock()
	b.active = false
	b.mu.Unlock()
}

// stop ends call gen with err, unless it ended already or another call runs.
func (b *budget) stop(gen uint64, err error, memory bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gen == gen && b.err == nil {
		b.err, b.memory = err, memory
		close(*b.done.Load())
	}
}

// state is what the watchdog needs of the running call; active is false
// between calls.
func (b *budget) state() (gen uint64, parent context.Context, deadline time.Time, limit uint64, active bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gen, b.parent, b.deadline, b.limit, b.active
}

// running reports whether a call runs.
func (b *budget) running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.active
}

// stoppedForMemory reports whether the watchdog stopped the last call for memory.
func (b *budget) stoppedForMemory() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.memory
}

func (b *budget) Deadline() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.deadline, true
}

// Done is read by gopher-lua before every instruction, and by contexts
// derived from the budget from their own goroutines: an atomic load.
func (b *budget) Done() <-chan struct{} { return *b.done.Load() }

func (b *budget) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Value reads the parent under the lock: a context derived from the budget
// (a bus call's time-out) may ask from its timer's goroutine while the vm
// begins its next call.
func (b *budget) Value(key any) any {
	b.mu.Lock()
	parent := b.parent
	b.mu.Unlock()
	return parent.Value(key)
}

// bounded runs fn on v within the time and memory a request's scripts get,
// under parent, for the calls outside a request (a processor's top level at
// load, an install script). When the budget stopped fn mid-script, it
// closes v, which may hold half-built values, and stop says why:
// ErrScriptTimeout, ErrMemoryLimit or parent's error. stop is nil when fn
// ran its course, and err is fn's error either way.
func (e *Engine) bounded(parent context.Context, v *vm, fn func() error) (err, stop error) {
	v.budget.begin(parent, e.opts.ScriptTimeout, e.heapLimit())
	err = fn()
	v.budget.end()
	stopErr := v.budget.Err()
	if stopErr == nil || err == nil {
		return err, nil
	}
	v.close()
	switch {
	case v.budget.stoppedForMemory():
		return err, ErrMemoryLimit
	case errors.Is(stopErr, context.DeadlineExceeded):
		return err, ErrScriptTimeout
	}
	return err, stopErr
}
