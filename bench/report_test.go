package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// measured is a subject measured once at rps with the given p99.
func measured(key string, rps float64, p99 time.Duration) measurement {
	s := subjects[strings.Index("abcdew", key)]
	r := Result{OK: int64(rps * 10), Elapsed: 10 * time.Second, P50: p99 / 2, P99: p99}
	return measurement{subject: s, rounds: []Result{r}, peakRSS: 20 << 20}
}

func TestChecks(t *testing.T) {
	rep := &report{
		subjects: map[string]measurement{
			"a": measured("a", 40000, 4*time.Millisecond),
			"b": measured("b", 33920, 5*time.Millisecond),  // 0.848 × (a): fail, though 0.85 at two decimals
			"c": measured("c", 20000, 11*time.Millisecond), // 0.5 × (a), p99 over 10ms: fail
			"d": measured("d", 21000, 10*time.Millisecond), // ≥ 20,000, 7 × (e): pass
			"e": measured("e", 3000, 20*time.Millisecond),
		},
		folders: 1500 * time.Millisecond,
		idle:    30 << 20,
		replay:  12500 * time.Millisecond,
	}
	want := map[string]string{
		"(b) req/s ≥ 0.85 × (a)": "FAIL 0.848 ×",
		"(c) req/s ≥ 0.7 × (a)":  "FAIL 0.500 ×",
		"(d) req/s ≥ 20,000":     "PASS 21,000",
		"(d) req/s ≥ 7 × (e)":    "PASS 7.000 ×",
		"(b) p99 ≤ 10 ms":        "PASS 5.00 ms",
		"(c) p99 ≤ 10 ms":        "FAIL 11.00 ms",
		"(d) p99 ≤ 10 ms":        "PASS 10.00 ms",
		"idle RSS of `minimi serve` (example service) ≤ 40 MiB": "PASS 30.0 MiB",
		"1,000 folders served ≤ 1 s":                            "FAIL 1500 ms",
		"replay of 1,000,000 events ≤ 30 s":                     "PASS 12.5 s",
	}
	checks := rep.checks()
	if len(checks) != len(want) {
		t.Fatalf("checks()=%d targets, want %d", len(checks), len(want))
	}
	for _, c := range checks {
		got := "FAIL " + c.measured
		if c.pass {
			got = "PASS " + c.measured
		}
		if got != want[c.name] {
			t.Errorf("check %q=%q, want %q", c.name, got, want[c.name])
		}
	}
}

// written is the markdown report of rep.
func written(rep *report) string {
	var buf bytes.Buffer
	rep.write(&buf)
	return buf.String()
}

// wantInReport reports each of wants that the report out lacks.
func wantInReport(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestReportNotRun(t *testing.T) {
	rep := &report{subjects: map[string]measurement{"b": measured("b", 1000, time.Millisecond)}}
	out := written(rep)
	wantInReport(t, out,
		"| (b) | MiniMi three-phase GET | 1,000 | 0.50 ms | 1.00 ms | 20.0 MiB | 0 | — | — | — | — |",
		"| (b) req/s ≥ 0.85 × (a) | — | not run |",
		"| (b) p99 ≤ 10 ms | 1.00 ms | PASS |",
		"| 1,000 folders served ≤ 1 s | — | not run |",
		"| replay of 1,000,000 events ≤ 30 s | — | not run |",
	)
	if strings.Contains(out, "| (a) |") || strings.Contains(out, "(d) ÷ (e)") {
		t.Errorf("report shows subjects that did not run:\n%s", out)
	}
}

// TestReportControl: the control (w) is a row with its work, and no target.
func TestReportControl(t *testing.T) {
	rep := &report{opts: Options{Work: 5 * time.Microsecond}, subjects: map[string]measurement{
		"a": measured("a", 100000, 10*time.Millisecond), "w": measured("w", 80000, 20*time.Millisecond)}}
	out := written(rep)
	wantInReport(t, out,
		"| (w) | chi JSON handler with a busy loop (control, no target) | 80,000 | 10.00 ms | 20.00 ms | 20.0 MiB | 0 | 0.80 | 2.00 | 2.00 | 1.00 |",
		"(w) is (a) spending 5µs of CPU in a busy loop on each request (-work).",
	)
	for _, c := range rep.checks() {
		if strings.Contains(c.name, "(w)") {
			t.Errorf("the control has a target: %+v", c)
		}
	}
}

// TestReportTagged: a run against a minimi built with extra tags says so and
// checks no target.
func TestReportTagged(t *testing.T) {
	rep := &report{opts: Options{Tags: "nofsync"}, subjects: map[string]measurement{"d": measured("d", 30000, time.Millisecond)}}
	out := written(rep)
	if !strings.Contains(out, "**minimi built with -tags nofsync**") || !strings.Contains(out, "| (d) |") {
		t.Errorf("report does not name the tags or lacks (d):\n%s", out)
	}
	if strings.Contains(out, "| target |") || strings.Contains(out, "PASS") {
		t.Errorf("report checks targets of a tagged build:\n%s", out)
	}
}

func TestMedian(t *testing.T) {
	rounds := func(rps ...float64) []Result {
		var out []Result
		for _, v := range rps {
			out = append(out, Result{OK: int64(v), Elapsed: time.Second})
		}
		return out
	}
	tests := []struct {
		name   string
		rounds []Result
		want   float64
	}{
		{"none", nil, 0},
		{"one", rounds(5), 5},
		{"odd", rounds(9, 1, 5), 5},
		{"even", rounds(4, 1, 8, 2), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.rounds, Result.RPS); got != tc.want {
				t.Errorf("median()=%v, want %v", got, tc.want)
			}
		})
	}
}

func TestFmtRate(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {999.4, "999"}, {1000, "1,000"}, {123456.7, "123,457"}, {1234567, "1,234,567"},
	}
	for _, tc := range tests {
		if got := fmtRate(tc.in); got != tc.want {
			t.Errorf("fmtRate(%v)=%q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestReportRounds: with more than one round the report lists each
// subject's rounds and the targets' ratios round by round, and a subject
// with fewer rounds than the others shows a dash where it has none.
func TestReportRounds(t *testing.T) {
	rounds := func(key string, rps ...float64) measurement {
		m := measured(key, rps[0], time.Millisecond)
		m.rounds = nil
		for _, v := range rps {
			m.rounds = append(m.rounds, Result{OK: int64(v * 10), Elapsed: 10 * time.Second})
		}
		return m
	}
	rep := &report{subjects: map[string]measurement{
		"a": rounds("a", 40000, 50000, 30000),
		"b": rounds("b", 36000, 40000, 30000),
		"d": rounds("d", 21000, 20000),
		"e": rounds("e", 3000, 4000, 2500),
	}}
	out := written(rep)
	wantInReport(t, out,
		"\nRounds: req/s of each round, and the ratios (b) ÷ (a), (c) ÷ (a) and (d) ÷ (e) round by round (the subjects take turns within a round).\n\n",
		"| | 1 | 2 | 3 |\n|---|--:|--:|--:|\n",
		"| (a) | 40,000 | 50,000 | 30,000 |\n",
		"| (b) | 36,000 | 40,000 | 30,000 |\n",
		"| (d) | 21,000 | 20,000 | — |\n",
		"| (b) ÷ (a) | 0.900 | 0.800 | 1.000 |\n",
		"| (d) ÷ (e) | 7.000 | 5.000 | — |\n",
	)
	if strings.Contains(out, "| (c) ÷ (a) |") {
		t.Errorf("report has a ratio of a subject that did not run:\n%s", out)
	}

	one := written(&report{subjects: map[string]measurement{"a": measured("a", 1000, time.Millisecond)}})
	if strings.Contains(one, "Rounds:") {
		t.Errorf("report of one round has a rounds table:\n%s", one)
	}
}
