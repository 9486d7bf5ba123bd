package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// report is everything one harness run measured.
type report struct {
	machine  machine
	opts     Options
	loader   string
	subjects map[string]measurement // by subject key
	folders  time.Duration          // median time until 1,000 folders are served; 0: not run
	idle     int64                  // idle RSS of `minimi serve` in bytes; 0: not run
	replay   time.Duration          // time `minimi replay` took for replayEvents events; 0: not run
}

// machine describes where the run happened.
type machine struct {
	CPU   string
	Cores int
	Go    string
	OS    string
	Date  time.Time
}

// row is one subject's medians.
type row struct {
	rps      float64
	p50, p99 time.Duration
	rss      int64
	errors   int64
}

func (m measurement) row() row {
	var errs int64
	for _, r := range m.rounds {
		errs += r.Errors
	}
	return row{
		rps:    median(m.rounds, Result.RPS),
		p50:    median(m.rounds, func(r Result) time.Duration { return r.P50 }),
		p99:    median(m.rounds, func(r Result) time.Duration { return r.P99 }),
		rss:    m.peakRSS,
		errors: errs,
	}
}

// rowOf returns the medians of subject key, if it ran.
func (r *report) rowOf(key string) (row, bool) {
	m, ok := r.subjects[key]
	if !ok || len(m.rounds) == 0 {
		return row{}, false
	}
	return m.row(), true
}

// write prints the report as markdown.
func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "## MiniMi load benchmark\n\n")
	fmt.Fprintf(w, "- machine: %s, %d cores, %s, %s\n", r.machine.CPU, r.machine.Cores, r.machine.OS, r.machine.Go)
	fmt.Fprintf(w, "- run: %s\n", r.machine.Date.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "- load: %s, closed loop, %d connections, %v warm-up, %v measured, %d rounds; medians of the rounds\n\n",
		r.loader, r.opts.Conns, r.opts.Warmup, r.opts.Duration, r.opts.Rounds)
	if r.opts.Tags != "" {
		fmt.Fprintf(w, "**minimi built with -tags %s**: not a release build, so the targets are not checked.\n\n", r.opts.Tags)
	}
	r.writeSubjects(w)
	if r.opts.Tags == "" {
		fmt.Fprintln(w)
		r.writeTargets(w)
	}
	r.writeRounds(w)
}

// pairs are the ratios the rounds table shows round by round: the
// targets' ratios, each of two subjects' rounds with the same number, which
// ran within a minute of each other.
var pairs = [][2]string{{"b", "a"}, {"c", "a"}, {"d", "e"}}

// writeRounds prints each subject's req/s round by round, and the ratios of
// pairs in each round, so that a reader sees how far the rounds spread.
// Nothing is printed for a single round.
func (r *report) writeRounds(w io.Writer) {
	n := 0
	for _, m := range r.subjects {
		n = max(n, len(m.rounds))
	}
	if n < 2 {
		return
	}
	names := make([]string, len(pairs))
	for i, p := range pairs {
		names[i] = fmt.Sprintf("(%s) ÷ (%s)", p[0], p[1])
	}
	last := len(names) - 1
	fmt.Fprintf(w, "\nRounds: req/s of each round, and the ratios %s and %s round by round (the subjects take turns within a round).\n",
		strings.Join(names[:last], ", "), names[last])
	fmt.Fprintln(w)
	fmt.Fprint(w, "| |")
	for i := range n {
		fmt.Fprintf(w, " %d |", i+1)
	}
	fmt.Fprint(w, "\n|---|")
	fmt.Fprint(w, strings.Repeat("--:|", n))
	fmt.Fprintln(w)
	for _, s := range subjects {
		m, ok := r.subjects[s.key]
		if !ok || len(m.rounds) == 0 {
			continue
		}
		fmt.Fprintf(w, "| (%s) |", s.key)
		for i := range n {
			v := "—"
			if i < len(m.rounds) {
				v = fmtRate(m.rounds[i].RPS())
			}
			fmt.Fprintf(w, " %s |", v)
		}
		fmt.Fprintln(w)
	}
	for _, p := range pairs {
		x, okX := r.subjects[p[0]]
		b, okB := r.subjects[p[1]]
		if !okX || !okB || len(x.rounds) == 0 || len(b.rounds) == 0 {
			continue
		}
		fmt.Fprintf(w, "| (%s) ÷ (%s) |", p[0], p[1])
		for i := range n {
			v := "—"
			if i < len(x.rounds) && i < len(b.rounds) && b.rounds[i].RPS() > 0 {
				v = fmt.Sprintf("%.3f", x.rounds[i].RPS()/b.rounds[i].RPS())
			}
			fmt.Fprintf(w, " %s |", v)
		}
		fmt.Fprintln(w)
	}
}

func (r *report) writeSubjects(w io.Writer) {
	fmt.Fprintln(w, "| | subject | req/s | p50 | p99 | peak RSS | errors | req/s ÷ base | p50 ÷ base | p99 ÷ base | RSS ÷ base |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	base, haveBase := r.rowOf("a")
	for _, s := range subjects {
		x, ok := r.rowOf(s.key)
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| (%s) | %s | %s | %s | %s | %s | %d | %s |\n", s.key, s.name,
			fmtRate(x.rps), fmtMS(x.p50), fmtMS(x.p99), fmtMiB(x.rss), x.errors, ratios(x, base, haveBase))
	}
	d, okD := r.rowOf("d")
	e, okE := r.rowOf("e")
	if okD && okE {
		fmt.Fprintf(w, "| (d) ÷ (e) | durable POST against one fsync per request | | | | | | %s |\n", ratios(d, e, true))
	}
	fmt.Fprintln(w, "\nbase is (a); in the last row it is (e).")
	if _, ok := r.rowOf(controlKey); ok {
		fmt.Fprintf(w, "(w) is (a) spending %v of CPU in a busy loop on each request (-work).\n", r.opts.Work)
	}
}

// ratios are the four "÷ base" cells of x against base.
func ratios(x, base row, ok bool) string {
	if !ok {
		return "— | — | — | —"
	}
	return strings.Join([]string{
		fmtRatio(x.rps, base.rps),
		fmtRatio(float64(x.p50), float64(base.p50)),
		fmtRatio(float64(x.p99), float64(base.p99)),
		fmtRatio(float64(x.rss), float64(base.rss)),
	}, " | ")
}

// check is one target: what was measured and whether it passes.
type check struct {
	name     string
	measured string // empty: not measured
	pass     bool
}

func (r *report) writeTargets(w io.Writer) {
	fmt.Fprintln(w, "| target | measured | result |")
	fmt.Fprintln(w, "|---|--:|---|")
	for _, c := range r.checks() {
		result := "FAIL"
		switch {
		case c.measured == "":
			c.measured, result = "—", "not run"
		case c.pass:
			result = "PASS"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.name, c.measured, result)
	}
}

// checks evaluates every target the run has the numbers for.
func (r *report) checks() []check {
	cs := []check{r.relative("b", "a", 0.85), r.relative("c", "a", 0.7)}
	c := check{name: "(d) req/s ≥ 20,000"}
	if d, ok := r.rowOf("d"); ok {
		c.measured, c.pass = fmtRate(d.rps), d.rps >= 20000
	}
	cs = append(cs, c, r.relative("d", "e", 7))
	for _, key := range []string{"b", "c", "d"} {
		c := check{name: fmt.Sprintf("(%s) p99 ≤ 10 ms", key)}
		if x, ok := r.rowOf(key); ok {
			c.measured, c.pass = fmtMS(x.p99), x.p99 <= 10*time.Millisecond
		}
		cs = append(cs, c)
	}
	c = check{name: "idle RSS of `minimi serve` (example service) ≤ 40 MiB"}
	if r.idle > 0 {
		c.measured, c.pass = fmtMiB(r.idle), r.idle <= 40<<20
	}
	cs = append(cs, c)
	c = check{name: "1,000 folders served ≤ 1 s"}
	if r.folders > 0 {
		c.measured, c.pass = fmt.Sprintf("%d ms", r.folders.Milliseconds()), r.folders <= time.Second
	}
	cs = append(cs, c)
	c = check{name: "replay of 1,000,000 events ≤ 30 s"}
	if r.replay > 0 {
		c.measured, c.pass = fmt.Sprintf("%.1f s", r.replay.Seconds()), r.replay <= 30*time.Second
	}
	return append(cs, c)
}

// relative is the target "(key) req/s ≥ factor × (base)".
func (r *report) relative(key, base string, factor float64) check {
	c := check{name: fmt.Sprintf("(%s) req/s ≥ %g × (%s)", key, factor, base)}
	x, okX := r.rowOf(key)
	b, okB := r.rowOf(base)
	if okX && okB && b.rps > 0 {
		// Three decimals: a ratio that misses by a little (0.848) does
		// not read as the target itself (0.85).
		c.measured, c.pass = fmt.Sprintf("%.3f ×", x.rps/b.rps), x.rps >= factor*b.rps
	}
	return c
}

// fmtRate writes 12345.6 as "12,346".
func fmtRate(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func fmtMiB(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func fmtRatio(x, base float64) string {
	if base == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", x/base)
}
