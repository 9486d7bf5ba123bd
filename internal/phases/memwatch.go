package phases

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// heapMetric is the Go heap in use: live objects and those not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// watchEvery is how often the watchdog samples the heap while scripts run.
const watchEvery = 10 * time.Millisecond

// settlePoll is how often settle looks whether the stopped calls ended.
const settlePoll = 5 * time.Millisecond

// settleWait bounds how long the watchdog waits for stopped calls to let go
// of their states before it collects their garbage.
const settleWait = time.Second

// memWatch is the watchdog of running scripts. While any script runs it
// wakes every few milliseconds and stops the calls past their deadline or
// whose request ended; and it samples the Go heap: when the heap passes a
// running call's limit it forces a garbage collection and, if the heap is
// still past it, stops every such call (its context ends, which gopher-lua
// notices at the next instruction, and the call fails with ErrMemoryLimit).
// The heap is shared by the whole process, so the watchdog cannot tell which
// script grew it: under memory pressure every running script is stopped,
// and the server goes on serving.
//
// Every vm's budget is registered for the vm's life, so that starting and
// ending a call only flips the budget's flag: no counter that every core
// writes. The watchdog goes to sleep after idleTicks without a call, and a
// call that starts while it sleeps wakes it.
type memWatch struct {
	mu      sync.Mutex
	budgets map[*budget]struct{} // the budgets of live vms
	asleep  atomic.Bool          // the loop waits for wake
	wake    chan struct{}        // a token when a call starts while the loop sleeps
	start   sync.Once
	every   time.Duration
	read    func() uint64 // heap bytes
}

// watchdog is the process's watchdog: the heap is the process's too.
var watchdog = newMemWatch(watchEvery, readHeap)

func newMemWatch(every time.Duration, read func() uint64) *memWatch {
	m := &memWatch{budgets: map[*budget]struct{}{}, wake: make(chan struct{}, 1), every: every, read: read}
	m.asleep.Store(true)
	return m
}

// idleTicks is how many checks in a row find no call before the watchdog
// sleeps: a busy server's short gaps between calls do not stop its ticker.
const idleTicks = 10

// register watches b's calls until unregister.
func (m *memWatch) register(b *budget) {
	m.start.Do(func() { go m.loop() })
	b.watch = m
	m.mu.Lock()
	m.budgets[b] = struct{}{}
	m.mu.Unlock()
}

func (m *memWatch) unregister(b *budget) {
	m.mu.Lock()
	delete(m.budgets, b)
	m.mu.Unlock()
}

// started wakes the loop if it sleeps. The call's budget is active already,
// so a loop going to sleep either sees the call or is seen asleep here.
func (m *memWatch) started() {
	if m.asleep.Load() {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

// loop sleeps while no script runs and checks the calls while some do.
func (m *memWatch) loop() {
	for range m.wake {
		m.asleep.Store(false)
		tick := time.NewTicker(m.every)
		for idle := 0; idle < idleTicks; {
			<-tick.C
			if m.check() {
				idle = 0
				continue
			}
			if idle++; idle == idleTicks {
				m.asleep.Store(true)
				if m.anyRunning() { // started before it could see asleep
					m.asleep.Store(false)
					idle = 0
				}
			}
		}
		tick.Stop()
	}
}

// anyRunning reports whether a registered budget runs a call.
func (m *memWatch) anyRunning() bool { return m.anyWatched(m.registered()) }

// registered returns the budgets registered now.
func (m *memWatch) registered() []*budget {
	m.mu.Lock()
	defer m.mu.Unlock()
	bs := make([]*budget, 0, len(m.budgets))
	for b := range m.budgets {
		bs = append(bs, b)
	}
	return bs
}

// watchedCall is a running call as the watchdog saw it.
type watchedCall struct {
	b     *budget
	gen   uint64
	limit uint64
}

// check ends the calls past their deadline or whose request ended, samples
// the heap once and stops the calls whose limit it passed. It reports
// whether any call runs.
func (m *memWatch) check() bool {
	calls := m.registered()
	now := time.Now()
	low := uint64(math.MaxUint64)
	live := make([]watchedCall, 0, len(calls))
	running := false
	for _, b := range calls {
		gen, parent, deadline, limit, active := b.state()
		running = running || active
		switch {
		case !active:
		case now.After(deadline):
			b.stop(gen, context.DeadlineExceeded, false)
		case parent.Err() != nil:
			b.stop(gen, parent.Err(), false)
		default:
			live = append(live, watchedCall{b, gen, limit})
			low = min(low, limit)
		}
	}
	if len(live) == 0 || m.read() <= low {
		return running
	}
	runtime.GC() // garbage is not growth: judge the live heap
	heap := m.read()
	var over []*budget
	for _, c := range live {
		if heap > c.limit {
			c.b.stop(c.gen, context.Canceled, true)
			over = append(over, c.b)
		}
	}
	if len(over) > 0 {
		m.settle(over)
	}
	return true
}

// settle waits (a bounded time) until the stopped calls have ended, then
// collects what they held, so that the next sample does not count it
// against the scripts that run next.
func (m *memWatch) settle(stopped []*budget) {
	deadline := time.Now().Add(settleWait)
	for time.Now().Before(deadline) && m.anyWatched(stopped) {
		time.Sleep(min(m.every, settlePoll))
	}
	runtime.GC()
}

func (m *memWatch) anyWatched(bs []*budget) bool {
	for _, b := range bs {
		if b.running() {
			return true
		}
	}
	return false
}

// readHeap reads heapMetric. Only the watchdog's goroutine calls it.
var readHeap = func() func() uint64 {
	sample := []metrics.Sample{{Name: heapMetric}}
	return func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
}()

// heapLimit is the heap size past which the engine's scripts are stopped.
func (e *Engine) heapLimit() uint64 {
	if e.opts.HeapLimit > 0 {
		return e.opts.HeapLimit
	}
	return defaultHeapLimit()
}

// defaultHeapLimit is GOMEMLIMIT when set; otherwise three quarters of the
// memory available to the process (its cgroup limit or the machine's
// memory); otherwise 4 GiB.
var defaultHeapLimit = sync.OnceValue(func() uint64 {
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim != math.MaxInt64 {
		return uint64(lim)
	}
	if total := availableMemory(); total > 0 {
		return total / 4 * 3
	}
	return 4 << 30
})

// availableMemory is the smallest of the cgroup memory limits and the
// machine's total memory that can be read, 0 when none can.
func availableMemory() uint64 {
	var best uint64
	consider := func(n uint64) {
		if n > 0 && (best == 0 || n < best) {
			best = n
		}
	}
	consider(readUint("/sys/fs/cgroup/memory.max"))                   // cgroup v2
	consider(readUint("/sys/fs/cgroup/memory/memory.limit_in_bytes")) // cgroup v1
	consider(memTotal("/proc/meminfo"))
	return best
}

// readUint reads a file holding one number; 0 when it does not ("max").
func readUint(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	return n
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemTotal:"))
		if !ok {
			continue
		}
		kb, _ := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
		return kb << 10
	}
	return 0
}
