package main

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	tests := []struct {
		file string
		want Result
	}{
		{"testdata/wrk-get.txt", Result{OK: 22464657, Elapsed: 30 * time.Second, P50: 250 * time.Microsecond, P99: 5800 * time.Microsecond}},
		{"testdata/wrk-errors.txt", Result{OK: 41200, Errors: 45, Elapsed: 2 * time.Second, P50: 2950 * time.Microsecond, P99: 7010 * time.Microsecond}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := parseWrk(f)
			if err != nil || got != tc.want {
				t.Errorf("parseWrk()=%+v, %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseWrkRejects(t *testing.T) {
	tests := []struct {
		name, out string
		want      error
	}{
		{"empty", "", ErrWrkOutput},
		{"no latency", "  10 requests in 1.00s, 1KB read\n", ErrWrkOutput},
		{"bad latency", "  50%  fast\n  99% 1ms\n  10 requests in 1.00s, 1KB read\n", ErrWrkOutput},
		{"negative count", "  50% 1ms\n  99% 1ms\n  -10 requests in 1.00s, 1KB read\n", ErrWrkOutput},
		{"all errors", "  50% 1ms\n  99% 1ms\n  10 requests in 1.00s, 1KB read\n  Non-2xx or 3xx responses: 10\n", ErrNoReplies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseWrk(strings.NewReader(tc.out)); !errors.Is(err, tc.want) {
				t.Errorf("parseWrk()=%v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzParseWrk(f *testing.F) {
	for _, name := range []string{"testdata/wrk-get.txt", "testdata/wrk-errors.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("  50% 1ms\n  99% 2ms\n  5 requests in 1.00s, 1KB read\n  Socket errors: connect 1, read x, write 0, timeout 0\n")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseWrk(strings.NewReader(out))
		if err != nil {
			return
		}
		if r.OK <= 0 || r.Errors < 0 || r.P50 < 0 || r.P99 < 0 || r.Elapsed < 0 {
			t.Errorf("parseWrk(%q)=%+v: want positive OK and no negative value", out, r)
		}
	})
}

func TestLuaLongString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1}`, "[[\n{\"a\":1}]]"},
		{`x]]y`, "[=[\nx]]y]=]"},
		{`x]]y]=]`, "[==[\nx]]y]=]]==]"},
	}
	for _, tc := range tests {
		if got := luaLongString([]byte(tc.in)); got != tc.want {
			t.Errorf("luaLongString(%q)=%q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWrkSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{time.Second, "1s"}, {1500 * time.Millisecond, "2s"}, {100 * time.Millisecond, "1s"}, {10 * time.Second, "10s"},
	}
	for _, tc := range tests {
		if got := wrkSeconds(tc.in); got != tc.want {
			t.Errorf("wrkSeconds(%v)=%q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestWrkThreads: -threads reaches wrk's -t, capped at the connections;
// zero is one thread per core.
func TestWrkThreads(t *testing.T) {
	tests := []struct {
		threads, conns int
		want           string
	}{
		{1, 64, "1"}, {8, 4, "4"}, {0, 64, strconv.Itoa(min(runtime.NumCPU(), 64))},
	}
	for _, tc := range tests {
		args, err := WrkLoader{Threads: tc.threads}.args(Target{URL: "http://127.0.0.1:1/"}, LoadOptions{Conns: tc.conns, Duration: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.Index(args, "-t"); i < 0 || args[i+1] != tc.want {
			t.Errorf("threads %d, conns %d: args %q, want -t %s", tc.threads, tc.conns, args, tc.want)
		}
	}
}

// TestWrkNice: -nice runs wrk through nice(1) and says so in the report;
// zero runs wrk itself.
func TestWrkNice(t *testing.T) {
	args := []string{"-t", "2", "http://127.0.0.1:1/"}
	if name, got := (WrkLoader{Path: "/usr/bin/wrk"}).command(args); name != "/usr/bin/wrk" || !slices.Equal(got, args) {
		t.Errorf("command()=%q %q, want wrk itself", name, got)
	}
	wl := WrkLoader{Path: "/usr/bin/wrk", Threads: 2, Nice: 10}
	name, got := wl.command(args)
	if want := append([]string{"-n", "10", "/usr/bin/wrk"}, args...); name != "nice" || !slices.Equal(got, want) {
		t.Errorf("command()=%q %q, want nice %q", name, got, want)
	}
	if !strings.HasSuffix(wl.Name(), "nice 10") {
		t.Errorf("Name()=%q, want it to say nice 10", wl.Name())
	}
}
