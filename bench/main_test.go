package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
		want func(o *Options)
	}{
		{"defaults", nil, true, func(*Options) {}},
		{"all flags", []string{"-duration", "2s", "-warmup", "0s", "-rounds", "1", "-conns", "8", "-only", "a,b,idle", "-out", "x.md", "-load", "go", "-tags", "nofsync", "-threads", "1", "-nice", "10", "-work", "8us"}, true,
			func(o *Options) {
				o.Duration, o.Warmup, o.Rounds, o.Conns, o.Only, o.Out, o.Load = 2*time.Second, 0, 1, 8, []string{"a", "b", "idle"}, "x.md", "go"
				o.Tags, o.Threads, o.Nice, o.Work = "nofsync", 1, 10, 8*time.Microsecond
			}},
		{"negative work", []string{"-work", "-1us"}, false, nil},
		{"unknown subject", []string{"-only", "a,f"}, false, nil},
		{"no rounds", []string{"-rounds", "0"}, false, nil},
		{"no duration", []string{"-duration", "0s"}, false, nil},
		{"no connections", []string{"-conns", "0"}, false, nil},
		{"negative threads", []string{"-threads", "-1"}, false, nil},
		{"more threads than connections", []string{"-conns", "4", "-threads", "5"}, false, nil},
		{"unknown generator", []string{"-load", "ab"}, false, nil},
		{"niceness out of range", []string{"-nice", "20"}, false, nil},
		{"stray argument", []string{"now"}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFlags(tc.args, io.Discard)
			if (err == nil) != tc.ok {
				t.Fatalf("parseFlags(%q)=%v, want ok=%v", tc.args, err, tc.ok)
			}
			if !tc.ok {
				return
			}
			want := DefaultOptions()
			tc.want(&want)
			if got.Duration != want.Duration || got.Warmup != want.Warmup || got.Rounds != want.Rounds ||
				got.Conns != want.Conns || !slices.Equal(got.Only, want.Only) || got.Out != want.Out || got.Load != want.Load || got.Tags != want.Tags || got.Threads != want.Threads ||
				got.Nice != want.Nice || got.Work != want.Work {
				t.Errorf("parseFlags(%q)=%+v, want %+v", tc.args, got, want)
			}
		})
	}
}

// TestControlOptIn: the control subject runs only when -only names it.
func TestControlOptIn(t *testing.T) {
	tests := []struct {
		only []string
		want bool
	}{{nil, false}, {[]string{"a", "b"}, false}, {[]string{"a", "w"}, true}}
	for _, tc := range tests {
		o := DefaultOptions()
		o.Only = tc.only
		if got := o.selected(controlKey); got != tc.want {
			t.Errorf("-only %q: selected(w)=%v, want %v", tc.only, got, tc.want)
		}
		if !o.selected("folders") && tc.only == nil {
			t.Errorf("-only %q: folders not selected", tc.only)
		}
	}
}

func TestWriteTree(t *testing.T) {
	svc, err := writeTree(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var folders int
	err = filepath.WalkDir(filepath.Join(svc, "endpoints"), func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(svc, path)
		if rel == "endpoints" {
			return nil
		}
		folders++
		if _, err := os.Stat(filepath.Join(path, d.Name()+".execute.lua")); err != nil {
			t.Errorf("%s has no processor: %v", rel, err)
		}
		return nil
	})
	if err != nil || folders != treeFolders {
		t.Errorf("writeTree() made %d folders, %v; want %d", folders, err, treeFolders)
	}
	if _, err := os.Stat(filepath.Join(svc, "endpoints", filepath.FromSlash(deepURL))); err != nil {
		t.Errorf("deep URL %s has no folder: %v", deepURL, err)
	}
}

// TestMain lets the test binary stand in for the harness binary when a
// test re-runs it as a reference server.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == serveCmd {
		if err := referenceMain(os.Args[2:]); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRunSubjects measures the reference servers (a) and (e) for a moment,
// as separate processes, with the built-in generator, their rounds
// interleaved.
func TestRunSubjects(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Rounds, opts.Conns, opts.Warmup, opts.Duration = 2, 4, 50*time.Millisecond, 200*time.Millisecond
	var log bytes.Buffer
	h := &harness{opts: opts, loader: GoLoader{}, self: self, tmp: t.TempDir(), log: &log}
	got, errs := h.runSubjects(t.Context(), []subject{subjects[0], subjects[4]})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, key := range []string{"a", "e"} {
		m := got[key]
		if len(m.rounds) != opts.Rounds || m.peakRSS <= 0 {
			t.Fatalf("(%s) %d rounds, peak RSS %d; want %d rounds and a peak RSS", key, len(m.rounds), m.peakRSS, opts.Rounds)
		}
		if r := m.row(); r.rps <= 0 || r.errors != 0 || r.p99 < r.p50 {
			t.Errorf("(%s) row()=%+v, want req/s > 0, no errors and p50 <= p99", key, r)
		}
	}
	var order []string
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, " round ") {
			order = append(order, line[:strings.Index(line, " req/s")])
		}
	}
	if len(order) != 4 || !strings.HasPrefix(order[0], "(a) round 1") || !strings.HasPrefix(order[1], "(e) round 1") ||
		!strings.HasPrefix(order[2], "(a) round 2") || !strings.HasPrefix(order[3], "(e) round 2") {
		t.Errorf("rounds ran in the order %q, want a1 e1 a2 e2", order)
	}
}
