package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// noteBody is the record that the write subjects (d) and (e) create.
const noteBody = `{"title":"bench note","body":"written by the load harness","owner":"bench"}`

// seededNote is a record that the notes service's install script seeds.
const seededNote = "n0500"

// Readiness polling: how often, and for how long at most.
const (
	readyInterval = 20 * time.Millisecond
	readyTimeout  = time.Minute
)

// subject is one server the harness measures.
type subject struct {
	key  string // "a".."e": the -only name and the table label
	name string
	// start launches the server on port; dir is a fresh directory for its data and log.
	start func(h *harness, port int, dir string) (*proc, error)
	// ready is the path polled until the server answers.
	ready string
	// target is the request the load sends, given the server's base URL.
	target func(base string) Target
}

// controlKey is the subject that runs only when -only names it: (a) with a
// busy loop in its handler, to tell what any handler that takes as long as
// MiniMi's would see on the machine (docs/performance.md).
const controlKey = "w"

// subjects are (a) to (e) and the control (w), in the order they run.
var subjects = []subject{
	{key: "a", name: "chi JSON handler (baseline)", start: startChi, ready: "/health", target: getPath("/bench")},
	{key: "b", name: "MiniMi three-phase GET", start: startMiniMi("threephase"), ready: healthPath, target: getPath("/bench")},
	{key: "c", name: "MiniMi GET with a stash read", start: startMiniMi("notes"), ready: healthPath, target: getPath("/notes/" + seededNote)},
	{key: "d", name: "MiniMi durable POST (stash write, fsync)", start: startMiniMi("notes"), ready: healthPath, target: postNote},
	{key: "e", name: "bbolt, one fsync per request", start: startBolt, ready: "/health", target: postNote},
	{key: controlKey, name: "chi JSON handler with a busy loop (control, no target)", start: startWork, ready: "/health", target: getPath("/bench")},
}

const healthPath = "/_minimi/health"

func getPath(path string) func(string) Target {
	return func(base string) Target { return Target{URL: base + path} }
}

func postNote(base string) Target {
	return Target{Method: http.MethodPost, URL: base + "/notes", Body: []byte(noteBody), ContentType: "application/json"}
}

func startChi(h *harness, port int, dir string) (*proc, error) {
	args := []string{serveCmd, "chi", addr(port)}
	return startProc(h.self, args, nil, port, filepath.Join(dir, "server.log"))
}

// startWork starts the control (w): (a) spending h.opts.Work per request.
func startWork(h *harness, port int, dir string) (*proc, error) {
	args := []string{serveCmd, "chi", addr(port), h.opts.Work.String()}
	return startProc(h.self, args, nil, port, filepath.Join(dir, "server.log"))
}

func startBolt(h *harness, port int, dir string) (*proc, error) {
	args := []string{serveCmd, "bolt", addr(port), filepath.Join(dir, "reference.db")}
	return startProc(h.self, args, nil, port, filepath.Join(dir, "server.log"))
}

// startMiniMi serves bench/services/<service> with `minimi serve`.
func startMiniMi(service string) func(h *harness, port int, dir string) (*proc, error) {
	return func(h *harness, port int, dir string) (*proc, error) {
		return h.serveMiniMi(filepath.Join(h.root, "bench", "services", service), port, dir)
	}
}

// serveMiniMi starts `minimi serve` on svc with NATS off, a fresh data dir
// under dir and its log in dir/minimi.log.
func (h *harness) serveMiniMi(svc string, port int, dir string) (*proc, error) {
	args := []string{"serve", "--dir", svc, "--port", strconv.Itoa(port)}
	env := []string{"MINIMI_NATS_ENABLED=false", "MINIMI_DATA_DIR=" + filepath.Join(dir, "data")}
	return startProc(h.minimi, args, env, port, filepath.Join(dir, "minimi.log"))
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// measurement is what the rounds of one subject saw.
type measurement struct {
	subject subject
	rounds  []Result
	peakRSS int64 // VmHWM of the server after the last round, in bytes
}

// running is a subject whose server is up.
type running struct {
	s measurement
	p *proc
	t Target
}

// runSubjects starts every subject of list and checks one request of each,
// then runs the rounds interleaved (round 1 of every subject, then round 2
// of every subject, …), so that a machine whose speed drifts during the run,
// as a shared VM's does, moves every subject alike instead of skewing their
// ratios. Idle servers wait their turn. A subject that fails is stopped and
// left out; its error is returned with the others.
func (h *harness) runSubjects(ctx context.Context, list []subject) (map[string]measurement, []error) {
	var errs []error
	var up []*running
	defer func() {
		for _, r := range up {
			h.stop(r)
		}
	}()
	for _, s := range list {
		if ctx.Err() != nil {
			break
		}
		r, err := h.startSubject(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		up = append(up, r)
	}
	for i := range h.opts.Rounds {
		for _, r := range up {
			if r.p == nil || ctx.Err() != nil {
				continue
			}
			res, err := h.loader.Run(ctx, r.t, h.opts.load())
			if err != nil {
				errs = append(errs, fmt.Errorf("(%s) round %d: %w", r.s.subject.key, i+1, err))
				h.stop(r)
				continue
			}
			h.progress("(%s) round %d: %.0f req/s, p50 %v, p99 %v, %d errors",
				r.s.subject.key, i+1, res.RPS(), res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond), res.Errors)
			r.s.rounds = append(r.s.rounds, res)
		}
	}
	out := map[string]measurement{}
	for _, r := range up {
		if r.p == nil || ctx.Err() != nil {
			continue
		}
		var err error
		if r.s.peakRSS, err = r.p.memory("VmHWM"); err != nil {
			errs = append(errs, fmt.Errorf("(%s) peak RSS: %w", r.s.subject.key, err))
			continue
		}
		out[r.s.subject.key] = r.s
	}
	return out, errs
}

// startSubject starts s and checks one request.
func (h *harness) startSubject(ctx context.Context, s subject) (*running, error) {
	h.progress("(%s) %s", s.key, s.name)
	dir, port, err := h.subjectDir(s.key)
	if err != nil {
		return nil, err
	}
	p, err := s.start(h, port, dir)
	if err != nil {
		return nil, fmt.Errorf("(%s) start: %w", s.key, err)
	}
	r := &running{s: measurement{subject: s}, p: p, t: s.target(p.base)}
	if err := p.waitReady(ctx, s.ready, readyInterval, readyTimeout); err != nil {
		h.stop(r)
		return nil, fmt.Errorf("(%s) %w", s.key, err)
	}
	if err := probe(ctx, r.t); err != nil {
		err = fmt.Errorf("(%s) %w\n%s", s.key, err, p.logTail())
		h.stop(r)
		return nil, err
	}
	return r, nil
}

// stop stops r's server, once.
func (h *harness) stop(r *running) {
	if r.p == nil {
		return
	}
	if err := r.p.stop(); err != nil {
		h.progress("(%s) stop: %v", r.s.subject.key, err)
	}
	r.p = nil
}

// subjectDir makes a fresh directory for one subject and picks a port.
func (h *harness) subjectDir(key string) (string, int, error) {
	dir, err := os.MkdirTemp(h.tmp, key+"-")
	if err != nil {
		return "", 0, err
	}
	port, err := freePort()
	return dir, port, err
}

// probe sends t once and wants a 2xx reply, so that a broken subject fails
// loudly instead of being measured at the speed of its error page.
func probe(ctx context.Context, t Target) error {
	req, err := http.NewRequestWithContext(ctx, cmp.Or(t.Method, http.MethodGet), t.URL, bytes.NewReader(t.Body))
	if err != nil {
		return err
	}
	if t.ContentType != "" {
		req.Header.Set("Content-Type", t.ContentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s %s", req.Method, t.URL, resp.Status, body)
	}
	return nil
}

// median of the values got from each round.
func median[T int64 | float64 | time.Duration](rounds []Result, f func(Result) T) T {
	if len(rounds) == 0 {
		return 0
	}
	vs := make([]T, len(rounds))
	for i, r := range rounds {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	if n := len(vs); n%2 == 0 {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
	return vs[len(vs)/2]
}
