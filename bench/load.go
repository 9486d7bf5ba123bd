package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Target is the one request a load run sends over and over.
type Target struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// URL is an http:// URL on 127.0.0.1.
	URL string
	// Body is sent with every request; nil sends none.
	Body []byte
	// ContentType is the Content-Type of Body; empty sends no header.
	ContentType string
}

// LoadOptions shape a closed-loop load run: every connection sends its next
// request as soon as the previous reply has been read.
type LoadOptions struct {
	// Conns is the number of connections, each driven by one worker. Zero means 64.
	Conns int
	// Warmup runs the load before measuring; its requests are not counted. Zero means none.
	Warmup time.Duration
	// Duration is how long the load is measured. Required.
	Duration time.Duration
}

// DefaultLoadOptions are 64 connections, 2s of warm-up and 6s measured: one
// round of the harness's defaults.
func DefaultLoadOptions() LoadOptions {
	return LoadOptions{Conns: 64, Warmup: 2 * time.Second, Duration: 6 * time.Second}
}

// Validate reports an option out of range.
func (o LoadOptions) Validate() error {
	switch {
	case o.Conns < 0 || o.Conns > 4096:
		return fmt.Errorf("conns %d: want 1..4096", o.Conns)
	case o.Warmup < 0:
		return fmt.Errorf("warm-up %v: want >= 0", o.Warmup)
	case o.Duration <= 0 || o.Duration > time.Hour:
		return fmt.Errorf("duration %v: want > 0 and <= 1h", o.Duration)
	}
	return nil
}

func (o LoadOptions) conns() int {
	if o.Conns == 0 {
		return 64
	}
	return o.Conns
}

// Result is what one measured load run saw.
type Result struct {
	// OK counts 2xx replies completed inside the measured window.
	OK int64
	// Errors counts other replies and failed round trips in the window.
	Errors int64
	// Elapsed is the length of the measured window.
	Elapsed time.Duration
	// P50 and P99 are latency quantiles of the replies in the window.
	P50, P99 time.Duration
}

// RPS is successful replies per second.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Loader runs one load against a target.
type Loader interface {
	Name() string
	Run(ctx context.Context, t Target, o LoadOptions) (Result, error)
}

// GoLoader is the built-in load generator: one goroutine per connection,
// each with its own keep-alive connection, and a latency histogram.
type GoLoader struct{}

var _ Loader = GoLoader{}

// Name says which generator this is.
func (GoLoader) Name() string { return "built-in Go generator" }

// maxDials bounds the connections one worker opens in a run, so a server
// that closes every connection cannot make the loop spin on dials.
const maxDials = 10000

// Run drives t for o.Warmup plus o.Duration and returns what the measured
// part saw. It returns when the time is up or ctx ends.
func (GoLoader) Run(ctx context.Context, t Target, o LoadOptions) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	addr, raw, err := t.encode()
	if err != nil {
		return Result{}, err
	}
	from := time.Now().Add(o.Warmup)
	w := window{from: from, end: from.Add(o.Duration)}
	ctx, cancel := context.WithDeadline(ctx, w.end)
	defer cancel()
	workers := make([]worker, o.conns())
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { workers[i].run(ctx, addr, raw, w) })
	}
	wg.Wait()
	return collect(workers, o.Duration)
}

// collect merges the workers' counts into one Result.
func collect(workers []worker, elapsed time.Duration) (Result, error) {
	var h histogram
	r := Result{Elapsed: elapsed}
	var lastErr error
	for i := range workers {
		h.merge(&workers[i].hist)
		r.OK += workers[i].ok
		r.Errors += workers[i].failed
		if workers[i].err != nil {
			lastErr = workers[i].err
		}
	}
	r.P50, r.P99 = h.quantile(0.50), h.quantile(0.99)
	if r.OK == 0 {
		return r, errors.Join(ErrNoReplies, lastErr)
	}
	return r, nil
}

// window is the measured part of a run.
type window struct{ from, end time.Time }

// counts says whether a round trip from start to done is measured.
func (w window) counts(start, done time.Time) bool {
	return !start.Before(w.from) && !done.After(w.end)
}

// worker is one connection's closed loop.
type worker struct {
	hist   histogram
	ok     int64
	failed int64
	err    error // the last dial or round-trip error
}

func (wk *worker) run(ctx context.Context, addr string, raw []byte, w window) {
	var c *clientConn
	defer func() { c.close() }()
	for dials := 0; ctx.Err() == nil; {
		if c == nil {
			if dials == maxDials {
				return
			}
			dials++
			var err error
			now := time.Now()
			if c, err = dial(ctx, addr, w.end); err != nil {
				wk.tally(w, now, time.Now(), 0, err)
				continue
			}
		}
		start := time.Now()
		status, keep, err := c.roundTrip(raw)
		done := time.Now()
		if err != nil || !keep {
			c.close()
			c = nil
		}
		wk.tally(w, start, done, status, err)
	}
}

// tally counts one round trip (or failed dial) if it falls in the
// measured window, and records the latency of each reply.
func (wk *worker) tally(w window, start, done time.Time, status int, err error) {
	if !w.counts(start, done) {
		return
	}
	if err == nil {
		wk.hist.record(done.Sub(start))
	}
	if err != nil || status < 200 || status > 299 {
		wk.failed++
		wk.err = cmp.Or(err, wk.err)
		return
	}
	wk.ok++
}

// clientConn is one keep-alive HTTP/1.1 connection.
type clientConn struct {
	conn net.Conn
	br   *bufio.Reader
}

func dial(ctx context.Context, addr string, deadline time.Time) (*clientConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(deadline) // no round trip outlives the run
	return &clientConn{conn: conn, br: bufio.NewReader(conn)}, nil
}

func (c *clientConn) close() {
	if c != nil {
		_ = c.conn.Close()
	}
}

// roundTrip writes raw and reads the whole reply. keep is false when the
// server asked to close the connection.
func (c *clientConn) roundTrip(raw []byte) (status int, keep bool, err error) {
	if _, err := c.conn.Write(raw); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, !resp.Close && err == nil, err
}

// encode checks t and returns its host:port and the request as bytes.
func (t Target) encode() (addr string, raw []byte, err error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return "", nil, err
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		return "", nil, fmt.Errorf("%s: %w (want http://127.0.0.1:<port>/…)", t.URL, ErrNotLoopback)
	}
	method := t.Method
	if method == "" {
		method = http.MethodGet
	}
	s := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: minimi-bench\r\n", method, u.RequestURI(), u.Host)
	if t.ContentType != "" {
		s += "Content-Type: " + t.ContentType + "\r\n"
	}
	if t.Body != nil || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		s += fmt.Sprintf("Content-Length: %d\r\n", len(t.Body))
	}
	return u.Host, append([]byte(s+"\r\n"), t.Body...), nil
}
