package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// WrkLoader runs the load with wrk (https://github.com/wg/wrk).
type WrkLoader struct {
	// Path is the wrk binary.
	Path string
	// ScriptDir holds the Lua scripts that make wrk send a body; it must exist.
	ScriptDir string
	// Threads is the number of wrk threads, never more than connections.
	// Zero means one per core.
	Threads int
	// Nice, when not zero, runs wrk at that niceness through nice(1).
	Nice int
}

var _ Loader = WrkLoader{}

// Name says which generator this is.
func (wl WrkLoader) Name() string {
	if wl.Nice != 0 {
		return fmt.Sprintf("wrk, %d threads, nice %d", wl.threads(), wl.Nice)
	}
	return fmt.Sprintf("wrk, %d threads", wl.threads())
}

func (wl WrkLoader) threads() int {
	if wl.Threads > 0 {
		return wl.Threads
	}
	return runtime.NumCPU()
}

// Run runs wrk once for the warm-up and once measured. wrk counts in whole
// seconds, so both durations are rounded up to a second.
func (wl WrkLoader) Run(ctx context.Context, t Target, o LoadOptions) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	if _, _, err := t.encode(); err != nil {
		return Result{}, err
	}
	args, err := wl.args(t, o)
	if err != nil {
		return Result{}, err
	}
	if o.Warmup > 0 {
		if _, err := wl.exec(ctx, append(args, "-d", wrkSeconds(o.Warmup), t.URL)); err != nil {
			return Result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	out, err := wl.exec(ctx, append(args, "-d", wrkSeconds(o.Duration), "--latency", t.URL))
	if err != nil {
		return Result{}, err
	}
	return parseWrk(bytes.NewReader(out))
}

// args are the flags shared by the warm-up and the measured run.
func (wl WrkLoader) args(t Target, o LoadOptions) ([]string, error) {
	conns := o.conns()
	args := []string{"-t", strconv.Itoa(min(wl.threads(), conns)), "-c", strconv.Itoa(conns), "--timeout", "5s"}
	if t.Method == "" || t.Method == "GET" {
		return args, nil
	}
	script, err := wl.script(t)
	if err != nil {
		return nil, err
	}
	return append(args, "-s", script), nil
}

// script writes a wrk Lua script that sets the method, body and content type.
func (wl WrkLoader) script(t Target) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", t.Method)
	fmt.Fprintf(&b, "wrk.body = %s\n", luaLongString(t.Body))
	if t.ContentType != "" {
		fmt.Fprintf(&b, "wrk.headers[\"Content-Type\"] = %q\n", t.ContentType)
	}
	f, err := os.CreateTemp(wl.ScriptDir, "wrk-*.lua")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.WriteString(f, b.String()); err != nil {
		return "", err
	}
	return filepath.Abs(f.Name())
}

// luaLongString quotes s as a Lua long string whose brackets s cannot close.
func luaLongString(s []byte) string {
	eq := ""
	for bytes.Contains(s, []byte("]"+eq+"]")) {
		eq += "="
	}
	// A newline right after the opening bracket is dropped by Lua, so add one.
	return "[" + eq + "[\n" + string(s) + "]" + eq + "]"
}

// command is the program and arguments that run wrk with args.
func (wl WrkLoader) command(args []string) (string, []string) {
	if wl.Nice == 0 {
		return wl.Path, args
	}
	return "nice", append([]string{"-n", strconv.Itoa(wl.Nice), wl.Path}, args...)
}

func (wl WrkLoader) exec(ctx context.Context, args []string) ([]byte, error) {
	name, args := wl.command(args)
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("wrk %s: %w: %s%s", strings.Join(args, " "), err, stderr.Bytes(), out)
	}
	return out, nil
}

// wrkSeconds is d rounded up to whole seconds, as wrk's -d wants it.
func wrkSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds()))) + "s"
}

// parseWrk reads the output of `wrk --latency`: the request count and time,
// the 50% and 99% latencies, non-2xx replies and socket errors.
func parseWrk(r io.Reader) (Result, error) {
	var res Result
	var c wrkCounts
	var seen int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		n, err := parseWrkLine(f, &res, &c)
		if err != nil {
			return Result{}, fmt.Errorf("%w: %q: %v", ErrWrkOutput, sc.Text(), err)
		}
		seen += n
	}
	if err := sc.Err(); err != nil {
		return Result{}, err
	}
	if seen != 3 {
		return Result{}, fmt.Errorf("%w: want the request count and the 50%% and 99%% latencies", ErrWrkOutput)
	}
	// wrk's total counts every reply; socket errors are not replies.
	res.OK = max(c.total-c.non2xx, 0)
	res.Errors = c.non2xx + c.socket
	if res.OK == 0 {
		return res, ErrNoReplies
	}
	return res, nil
}

// wrkCounts are the counts wrk prints: replies, non-2xx/3xx replies, socket errors.
type wrkCounts struct{ total, non2xx, socket int64 }

// parseWrkLine reads one line of wrk output into res and c and says whether
// it was one of the three required lines.
func parseWrkLine(f []string, res *Result, c *wrkCounts) (int, error) {
	var err error
	switch {
	case len(f) == 2 && f[0] == "50%":
		res.P50, err = time.ParseDuration(f[1])
	case len(f) == 2 && f[0] == "99%":
		res.P99, err = time.ParseDuration(f[1])
	case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
		if c.total, err = strconv.ParseInt(f[0], 10, 64); err == nil {
			res.Elapsed, err = time.ParseDuration(strings.TrimSuffix(f[3], ","))
		}
	case len(f) == 5 && strings.Join(f[:4], " ") == "Non-2xx or 3xx responses:":
		c.non2xx, err = strconv.ParseInt(f[4], 10, 64)
		return 0, cmp.Or(err, negative(c.non2xx))
	case len(f) == 10 && f[0] == "Socket" && f[1] == "errors:":
		return 0, c.addSocketErrors(f[2:])
	default:
		return 0, nil
	}
	return 1, cmp.Or(err, negative(int64(res.P50)), negative(int64(res.P99)), negative(int64(res.Elapsed)), negative(c.total))
}

// negative is an error for a count or time below zero.
func negative(n int64) error {
	if n < 0 {
		return fmt.Errorf("negative value %d", n)
	}
	return nil
}

// addSocketErrors adds up "connect 0, read 0, write 0, timeout 0".
func (c *wrkCounts) addSocketErrors(f []string) error {
	for i := 0; i+1 < len(f); i += 2 {
		n, err := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("socket errors %q", strings.Join(f, " "))
		}
		c.socket += n
	}
	return nil
}
