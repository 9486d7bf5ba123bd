package phases

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"

	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

// Options configures an Engine.
type Options struct {
	// Phases are the configured phases, in order. Required.
	Phases []string
	// Endpoints is the endpoints/ tree the route table was walked from. Required.
	Endpoints fs.FS
	// Lib is the lib/ tree that require loads modules from; nil means no modules.
	Lib fs.FS
	// ScriptTimeout is the time budget of one request's scripts; zero means 1s.
	ScriptTimeout time.Duration
	// CallStackSize is the Lua call-stack size of each state; zero means 256.
	CallStackSize int
	// RegistrySize is the largest Lua value stack of each state; zero means 65536.
	RegistrySize int
	// PoolSize is how many idle Lua states are kept; zero means 8 per CPU.
	PoolSize int
	// Dev shows the message of a 500 to the client.
	Dev bool
	// EndpointConfig returns the custom config of a folder URL (req.config);
	// nil means none.
	EndpointConfig func(url string) map[string]any
	// Stash holds the service's collections; nil means req.stash is nil.
	Stash *stash.Set
	// CollectionOf returns the collection the requests to a folder use (its
	// own or its nearest ancestor's), "" for none.
	CollectionOf func(*router.Folder) string
	// Commit makes a command durable; nil commits its stash writes with
	// Stash.Commit and drops its emits (no event log).
	Commit CommitFunc
	// Logger receives the scripts' log calls; nil means discard.
	Logger *slog.Logger
	// AuthSecret signs and checks the tokens of auth.sign and auth.check (at
	// least 32 bytes). Empty makes them raise an error, except in Dev mode,
	// where a random secret of this process is used.
	AuthSecret string
	// Bus is the message bus of nats.publish, nats.request and service.call;
	// nil means the bus is off and they raise a 503.
	Bus Bus
	// HeapLimit is the Go heap size, in bytes, past which running scripts are
	// stopped; zero means GOMEMLIMIT when set, else 3/4 of the memory
	// available to the process.
	HeapLimit uint64
	// Observer is told how long each route's phases take and why its scripts
	// fail, for metrics; nil means nobody is.
	Observer Observer
}

// Observer watches the pipeline, for metrics. Route is called once per URL
// when the engine loads; the RouteObserver it returns is then called by that
// URL's requests, concurrently, so it must be cheap and safe for concurrent use.
type Observer interface {
	Route(url string, phases []string) RouteObserver
}

// RouteObserver is told about the requests of one URL.
type RouteObserver interface {
	// Phase reports that the handlers of phases[i] (the phases given to
	// Observer.Route) ran for d in one request.
	Phase(i int, d time.Duration)
	// Fail reports that a request's scripts failed.
	Fail(f Failure)
}

// Failure is why a request's scripts failed.
type Failure uint8

const (
	// FailError is a script error answered with a 5xx.
	FailError Failure = iota
	// FailTimeout is a request whose scripts ran past their time budget.
	FailTimeout
	// FailMemory is a request whose scripts were stopped because the heap
	// passed its limit.
	FailMemory
)

// Engine runs the phase pipeline of one route table: its compiled scripts and
// a pool of Lua states to run them on. It is safe for concurrent use.
type Engine struct {
	opts  Options
	table *router.Table
	procs []*processor
	libs  map[string]*lua.FunctionProto
	// brokenLibs are the modules of lib/ that do not compile, with why.
	brokenLibs map[string]error
	// installs are the compiled install scripts, by folder.
	installs map[*router.Folder]*lua.FunctionProto
	routes   map[*router.Folder]*route
	pool     chan *vm
	states   atomic.Int64 // Lua states created, for tests and metrics
	closed   atomic.Bool  // Close was called: states are closed, not pooled
}

// route is what a URL answers: its target folder, the methods it allows and,
// per method, the handlers to run in each phase.
type route struct {
	folder *router.Folder
	allow  []string          // for the Allow header
	plans  map[string][]step // method → steps in pipeline order
	obs    RouteObserver     // nil without Options.Observer
}

// step is one handler to run: a processor and one of its entries.
type step struct {
	proc  *processor
	entry int
	phase int // index of proc.phase in Options.Phases
}

// Load compiles every processor of table and every module of opts.Lib, runs
// each processor once to learn its handlers, and plans every route. All
// problems are reported together, each naming its file and line.
func Load(table *router.Table, opts Options) (*Engine, error) {
	if opts.ScriptTimeout <= 0 {
		opts.ScriptTimeout = time.Second
	}
	if opts.CallStackSize <= 0 {
		opts.CallStackSize = 256
	}
	if opts.RegistrySize <= 0 {
		opts.RegistrySize = 65536
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = 8 * runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{opts: opts, table: table, pool: make(chan *vm, opts.PoolSize)}
	errs := e.compileLibs()
	errs = append(errs, e.compileProcessors()...)
	errs = append(errs, e.compileInstalls()...)
	probe := e.newVM()
	for _, p := range e.procs {
		entries, err := e.learn(&probe, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.entries = entries
	}
	if len(errs) > 0 {
		probe.close()
		return nil, errors.Join(errs...)
	}
	e.plan()
	e.put(probe)
	return e, nil
}

// learn runs p's chunk in *probe to learn its handlers, within the time
// and memory a request's scripts get: a top level that never returns stops
// start-up with an error instead of hanging it. A probe stopped mid-chunk
// may hold half-built values, so it is replaced.
func (e *Engine) learn(probe **vm, p *processor) ([]entry, error) {
	var entries []entry
	v := *probe
	err, stop := e.bounded(context.Background(), v, func() (err error) {
		entries, _, err = v.handlers(p)
		return err
	})
	if stop == nil {
		return entries, err
	}
	*probe = e.newVM()
	se := &ScriptError{File: p.file, Line: lineIn(err, p.file)}
	if errors.Is(stop, ErrMemoryLimit) {
		se.Err = fmt.Errorf("%w while its top level ran (the server's memory passed its limit)", ErrMemoryLimit)
	} else {
		se.Err = fmt.Errorf("%w: its top level ran past limits.script_ms (%v); a processor's top level runs when it is loaded, and must return its handlers",
			ErrScriptTimeout, e.opts.ScriptTimeout)
	}
	return nil, se
}

// lineIn is the line of file that err, or an error inside it, names.
func lineIn(err error, file string) int {
	var se *ScriptError
	for errors.As(err, &se) {
		if se.File == file && se.Line > 0 {
			return se.Line
		}
		err = se.Err
	}
	return 0
}

func (e *Engine) compileLibs() []error {
	e.libs, e.brokenLibs = map[string]*lua.FunctionProto{}, map[string]error{}
	if e.opts.Lib == nil {
		return nil
	}
	var errs []error
	err := fs.WalkDir(e.opts.Lib, ".", func(p string, d fs.DirEntry, err error) error {
		// Dotfiles and dotfolders are skipped, as in endpoints/: an
		// editor's lock file (.#m.lua) or swap file is no module.
		if p != "." && strings.HasPrefix(path.Base(p), ".") {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err != nil || d.IsDir() || path.Ext(p) != ".lua" {
			return err
		}
		name, ok := libModule(p)
		if !ok {
			errs = append(errs, &ScriptError{File: "lib/" + p, Err: errors.New("file name is not a module name")})
			return nil
		}
		src, err := router.ReadFile(e.opts.Lib, "lib", p)
		if err != nil { // a dangling symbolic link, say: the other modules still load
			errs = append(errs, err)
			e.brokenLibs[name] = err
			return nil
		}
		proto, err := compile("lib/"+p, src)
		if err != nil {
			errs = append(errs, err)
			e.brokenLibs[name] = err
			return nil
		}
		e.libs[name] = proto
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("read lib: %w", err))
	}
	return errs
}

func (e *Engine) compileProcessors() []error {
	var errs []error
	for _, f := range e.table.Folders {
		for _, phase := range e.opts.Phases {
			file, ok := f.Processors[phase]
			if !ok {
				continue
			}
			src, err := router.ReadFile(e.opts.Endpoints, "endpoints", file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			chunk, proto, err := compileChunk("endpoints/"+file, src)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			e.procs = append(e.procs, &processor{id: len(e.procs), file: "endpoints/" + file, phase: phase, folder: f, proto: proto,
				lines: returnLines(chunk)})
		}
	}
	return errs
}

// plan computes, for every folder that is the target of a URL, the methods it
// allows and the handlers each method runs (DESIGN §3).
func (e *Engine) plan() {
	last := e.opts.Phases[len(e.opts.Phases)-1]
	byFolder := map[*router.Folder]map[string]*processor{}
	for _, p := range e.procs {
		if byFolder[p.folder] == nil {
			byFolder[p.folder] = map[string]*processor{}
		}
		byFolder[p.folder][p.phase] = p
	}
	e.routes = map[*router.Folder]*route{}
	for _, f := range e.table.Folders {
		if f.Segment.Kind == router.Group {
			continue
		}
		target := byFolder[f][last]
		if target == nil {
			continue
		}
		methods := allowed(target)
		if len(methods) == 0 {
			continue
		}
		r := &route{folder: f, plans: map[string][]step{}}
		for _, m := range methods {
			r.plans[m] = e.steps(f, m, byFolder)
		}
		r.allow = allowHeader(methods)
		if e.opts.Observer != nil {
			r.obs = e.opts.Observer.Route(f.URL, e.opts.Phases)
		}
		e.routes[f] = r
	}
}

// allowed lists the methods a target processor handles for "/".
func allowed(p *processor) []string {
	set := map[string]bool{}
	for _, en := range p.entries {
		if en.wildcard {
			continue
		}
		if en.method == "" {
			for _, m := range Methods {
				set[m] = true
			}
			continue
		}
		set[en.method] = true
	}
	out := make([]string, 0, len(set))
	for _, m := range Methods {
		if set[m] {
			out = append(out, m)
		}
	}
	return out
}

func allowHeader(methods []string) []string {
	out := append([]string(nil), methods...)
	for _, m := range methods {
		if m == http.MethodGet {
			out = append(out, http.MethodHead)
		}
	}
	out = append(out, http.MethodOptions)
	sort.Strings(out)
	return out
}

// steps lists the handlers a request for method on target runs: for each
// phase, for each folder from the root down, the best match of its processor.
func (e *Engine) steps(target *router.Folder, method string, byFolder map[*router.Folder]map[string]*processor) []step {
	var out []step
	chain := target.Chain()
	for pi, phase := range e.opts.Phases {
		for _, f := range chain {
			p := byFolder[f][phase]
			if p == nil {
				continue
			}
			if i := bestMatch(p.entries, method, f == target); i >= 0 {
				out = append(out, step{proc: p, entry: i, phase: pi})
			}
		}
	}
	return out
}

// bestMatch picks the most specific entry: "/" before "/*", a named method
// before any method. Only "/*" entries apply to descendants.
func bestMatch(entries []entry, method string, isTarget bool) int {
	order := []entry{{method, false}, {"", false}, {method, true}, {"", true}}
	if !isTarget {
		order = order[2:]
	}
	for _, want := range order {
		for i, en := range entries {
			if en == want {
				return i
			}
		}
	}
	return -1
}

// Allow returns the methods the URL of f answers, for an Allow header, or nil
// when f is the target of no URL.
func (e *Engine) Allow(f *router.Folder) []string {
	if r := e.routes[f]; r != nil {
		return r.allow
	}
	return nil
}

// Exists reports whether f is the target of a URL: its processor for the last
// phase handles "/" for some method.
func (e *Engine) Exists(f *router.Folder) bool { return e.routes[f] != nil }

// Table returns the route table the engine was loaded from.
func (e *Engine) Table() *router.Table { return e.table }

// Handlers describes the handlers of f's processor for phase, e.g.
// ["GET /", "ANY /*"], for listings such as `minimi routes`.
func (e *Engine) Handlers(f *router.Folder, phase string) []string {
	for _, p := range e.procs {
		if p.folder == f && p.phase == phase {
			out := make([]string, len(p.entries))
			for i, en := range p.entries {
				out[i] = en.String()
			}
			return out
		}
	}
	return nil
}

// StatesCreated is how many Lua states the engine has created so far.
func (e *Engine) StatesCreated() int64 { return e.states.Load() }

// Close releases the idle Lua states; the states of requests still running
// are closed when they end.
func (e *Engine) Close() {
	e.closed.Store(true)
	e.drain()
}

// drain closes the idle states.
func (e *Engine) drain() {
	for {
		select {
		case v := <-e.pool:
			v.close()
		default:
			return
		}
	}
}
