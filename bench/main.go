package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == seedCmd {
		if err := seedMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == serveCmd {
		if err := referenceMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Options are the harness's flags.
type Options struct {
	// Duration is the measured time of each round. Zero is invalid; the default is 6s.
	Duration time.Duration
	// Warmup is the unmeasured load before each round. Zero means none.
	Warmup time.Duration
	// Rounds is the number of measured rounds per subject; the report shows medians.
	Rounds int
	// Conns is the number of keep-alive connections of the closed loop.
	Conns int
	// Only lists what to run: subjects a–e, "folders", "idle" and "replay". Empty runs
	// all of them. The control subject w runs only when listed.
	Only []string
	// Out is a file that also receives the report. Empty writes to stdout only.
	Out string
	// Load picks the generator: "auto" (wrk when on PATH), "wrk" or "go".
	Load string
	// Tags are build tags for ./cmd/minimi, e.g. "nofsync" to measure the
	// durable POST without its fsyncs (docs/performance.md). Empty: none.
	Tags string
	// Threads is the number of wrk threads. Zero means one per core. The
	// built-in generator ignores it.
	Threads int
	// Nice is the niceness wrk runs at (through nice(1)): above zero the
	// generator yields the cores to the server. Zero runs wrk as is. The
	// built-in generator ignores it.
	Nice int
	// Work is the CPU time the control subject w spends on each request
	// before it answers like (a).
	Work time.Duration
}

// DefaultOptions are 5 rounds of 2s warm-up and 6s measured, 64 connections.
// Five short rounds rather than three long ones: the median of five is not
// moved by one round in which the machine slowed down.
func DefaultOptions() Options {
	lo := DefaultLoadOptions()
	return Options{Duration: lo.Duration, Warmup: lo.Warmup, Rounds: 5, Conns: lo.Conns, Load: "auto", Work: 4 * time.Microsecond}
}

// runNames are the names -only accepts.
var runNames = []string{"a", "b", "c", "d", "e", "w", "folders", "idle", "replay"}

// Validate reports a bad option.
func (o Options) Validate() error {
	if err := o.load().Validate(); err != nil {
		return err
	}
	if o.Rounds < 1 || o.Rounds > 100 {
		return fmt.Errorf("rounds %d: want 1..100", o.Rounds)
	}
	if o.Conns < 1 {
		return fmt.Errorf("conns %d: want at least 1", o.Conns)
	}
	if o.Threads < 0 || o.Threads > o.Conns {
		return fmt.Errorf("threads %d: want 0 (one per core) to conns (%d)", o.Threads, o.Conns)
	}
	if o.Nice < -20 || o.Nice > 19 {
		return fmt.Errorf("-nice %d: want -20..19", o.Nice)
	}
	for _, name := range o.Only {
		if !slices.Contains(runNames, name) {
			return fmt.Errorf("-only %q: want some of %s", name, strings.Join(runNames, ","))
		}
	}
	if o.Work < 0 || o.Work > time.Second {
		return fmt.Errorf("-work %v: want 0 to 1s", o.Work)
	}
	if !slices.Contains([]string{"auto", "wrk", "go"}, o.Load) {
		return fmt.Errorf("-load %q: want auto, wrk or go", o.Load)
	}
	return nil
}

func (o Options) load() LoadOptions {
	return LoadOptions{Conns: o.Conns, Warmup: o.Warmup, Duration: o.Duration}
}

func (o Options) selected(name string) bool {
	return len(o.Only) == 0 && name != controlKey || slices.Contains(o.Only, name)
}

func parseFlags(args []string, stderr io.Writer) (Options, error) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured time of each round")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "unmeasured load before each round")
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "measured rounds per subject (the report shows medians)")
	fs.IntVar(&o.Conns, "conns", o.Conns, "keep-alive connections of the closed loop")
	only := fs.String("only", "", "comma-separated subset of "+strings.Join(runNames, ","))
	fs.StringVar(&o.Out, "out", "", "also write the markdown report to this file")
	fs.StringVar(&o.Load, "load", o.Load, "load generator: auto (wrk when on PATH), wrk or go")
	fs.StringVar(&o.Tags, "tags", "", "build tags for ./cmd/minimi (e.g. nofsync)")
	fs.IntVar(&o.Threads, "threads", 0, "wrk threads (0: one per core)")
	fs.IntVar(&o.Nice, "nice", 0, "niceness wrk runs at, through nice(1) (0: as is)")
	fs.DurationVar(&o.Work, "work", o.Work, "CPU time the control subject w spends per request")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	return o, o.Validate()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	h, err := newHarness(ctx, opts, stderr)
	if err != nil {
		return err
	}
	defer h.close()
	rep, runErr := h.run(ctx)
	var buf bytes.Buffer
	rep.write(&buf)
	_, _ = stdout.Write(buf.Bytes())
	if opts.Out != "" {
		if err := os.WriteFile(opts.Out, buf.Bytes(), 0o644); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}

// harness holds what every measurement needs.
type harness struct {
	opts   Options
	loader Loader
	root   string // the module's directory
	self   string // this binary, re-run for the reference servers
	minimi string // the minimi binary built for this run
	tmp    string // data, logs and scripts of this run; removed at the end
	log    io.Writer
}

func newHarness(ctx context.Context, opts Options, log io.Writer) (*harness, error) {
	h := &harness{opts: opts, log: log}
	var err error
	if h.root, err = moduleRoot(ctx); err != nil {
		return nil, err
	}
	if h.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if h.tmp, err = os.MkdirTemp("", "minimi-bench-"); err != nil {
		return nil, err
	}
	if h.loader, err = h.pickLoader(); err == nil && h.needsMiniMi() {
		err = h.buildMiniMi(ctx)
	}
	if err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

func (h *harness) close() { _ = os.RemoveAll(h.tmp) }

func (h *harness) progress(format string, args ...any) {
	fmt.Fprintf(h.log, format+"\n", args...)
}

// moduleRoot is the directory of the go.mod the harness runs in.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the harness inside the minimi module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

func (h *harness) pickLoader() (Loader, error) {
	if h.opts.Load == "go" {
		return GoLoader{}, nil
	}
	path, err := exec.LookPath("wrk")
	switch {
	case err == nil:
		return WrkLoader{Path: path, ScriptDir: h.tmp, Threads: h.opts.Threads, Nice: h.opts.Nice}, nil
	case h.opts.Load == "wrk":
		return nil, err
	}
	return GoLoader{}, nil
}

func (h *harness) needsMiniMi() bool {
	return slices.ContainsFunc([]string{"b", "c", "d", "folders", "idle", "replay"}, h.opts.selected)
}

// buildMiniMi builds ./cmd/minimi into the run's temp dir.
func (h *harness) buildMiniMi(ctx context.Context) error {
	h.minimi = filepath.Join(h.tmp, "minimi")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", h.opts.Tags, "-o", h.minimi, "./cmd/minimi")
	cmd.Dir = h.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/minimi: %w\n%s", err, out)
	}
	return nil
}

// run measures everything selected. A subject that fails is left out of
// the report and its error returned with the others at the end.
func (h *harness) run(ctx context.Context) (*report, error) {
	rep := &report{machine: describeMachine(), opts: h.opts, loader: h.loader.Name(), subjects: map[string]measurement{}}
	var errs []error
	fail := func(err error) {
		h.progress("error: %v", err)
		errs = append(errs, err)
	}
	var list []subject
	for _, s := range subjects {
		if h.opts.selected(s.key) {
			list = append(list, s)
		}
	}
	measured, subjectErrs := h.runSubjects(ctx, list)
	for _, err := range subjectErrs {
		fail(err)
	}
	rep.subjects = measured
	if h.opts.selected("folders") && ctx.Err() == nil {
		var err error
		if rep.folders, err = h.medianFoldersServed(ctx); err != nil {
			fail(fmt.Errorf("1,000 folders: %w", err))
		}
	}
	if h.opts.selected("idle") && ctx.Err() == nil {
		var err error
		if rep.idle, err = h.idleRSS(ctx); err != nil {
			fail(fmt.Errorf("idle RSS: %w", err))
		}
		h.progress("idle RSS: %s", fmtMiB(rep.idle))
	}
	if h.opts.selected("replay") && ctx.Err() == nil {
		var err error
		if rep.replay, err = h.replayTime(ctx); err != nil {
			fail(fmt.Errorf("replay: %w", err))
		}
		h.progress("replay of %d events: %.1f s", replayEvents, rep.replay.Seconds())
	}
	return rep, errors.Join(append(errs, ctx.Err())...)
}

// medianFoldersServed runs foldersServed once per round.
func (h *harness) medianFoldersServed(ctx context.Context) (time.Duration, error) {
	var times []time.Duration
	for i := range h.opts.Rounds {
		d, err := h.foldersServed(ctx)
		if err != nil {
			return 0, err
		}
		h.progress("1,000 folders served, round %d: %d ms", i+1, d.Milliseconds())
		times = append(times, d)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

func describeMachine() machine {
	return machine{
		CPU:   cpuModel(),
		Cores: runtime.NumCPU(),
		Go:    runtime.Version(),
		OS:    runtime.GOOS + "/" + runtime.GOARCH + " " + kernel(),
		Date:  time.Now(),
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
