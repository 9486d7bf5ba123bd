package pm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// slowPattern and slowSubject backtrack through more steps than any test
// can wait for: only a matcher that looks at its context returns.
var (
	slowPattern = strings.Repeat("a*", 40) + "c"
	slowSubject = []byte(strings.Repeat("a", 40) + "b")
)

func TestFindContextStops(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		src     []byte
	}{
		{"greedy items", slowPattern, slowSubject},
		{"lazy items", strings.Repeat(".-", 8) + "b", []byte(strings.Repeat("a", 2000))},
		{"balance", "%b()", []byte(strings.Repeat("(", 1<<20))},
		{"back reference", "(a*)%1%1%1b", []byte(strings.Repeat("a", 1<<16))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if _, err := FindContext(ctx, tc.pattern, tc.src, 0, -1); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("FindContext()=%v, want %v", err, context.DeadlineExceeded)
			}
		})
	}
	t.Run("done before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := FindContext(ctx, slowPattern, slowSubject, 0, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("FindContext()=%v, want %v", err, context.Canceled)
		}
	})
}

// TestFindContextMatchesAsFind: a context that is not done changes nothing,
// also for matches that take more steps than checkEvery.
func TestFindContextMatchesAsFind(t *testing.T) {
	long := []byte(strings.Repeat("ab", 10000))
	tests := []struct {
		pattern string
		src     []byte
		want    int
	}{
		{"b", long, 10000},
		{"(a)(b)", long, 10000},
		{"a.-b", long, 10000},
		{"%b()", []byte("(a(b)c) (d)"), 2},
		{"[", []byte("x"), -1},
	}
	for _, tc := range tests {
		want, werr := Find(tc.pattern, tc.src, 0, -1)
		got, err := FindContext(context.Background(), tc.pattern, tc.src, 0, -1)
		if (err != nil) != (werr != nil) || (tc.want < 0) != (err != nil) {
			t.Errorf("%q: err=%v, Find's=%v", tc.pattern, err, werr)
			continue
		}
		if err == nil && (len(got) != tc.want || len(want) != tc.want) {
			t.Errorf("%q: %d matches, Find %d, want %d", tc.pattern, len(got), len(want), tc.want)
		}
	}
}

// TestTooManyCaptures: as in Lua 5.1, a pattern has at most 32 captures
// (LUA_MAXCAPTURES), position captures included. Parsing nests a call per
// open capture, so a pattern of millions of "(" overflowed the goroutine's
// stack, a fatal error no recover catches.
func TestTooManyCaptures(t *testing.T) {
	tests := []struct {
		pattern string
		ok      bool
	}{
		{strings.Repeat("(a)", 32), true},
		{strings.Repeat("()", 32), true},
		{strings.Repeat("(", 32) + strings.Repeat(")", 32), true},
		{strings.Repeat("(a)", 33), false},
		{strings.Repeat("()", 16) + strings.Repeat("(a)", 17), false},
		{strings.Repeat("(", 33) + strings.Repeat(")", 33), false},
		{strings.Repeat("(", 8<<20), false},
	}
	for _, tc := range tests {
		_, err := Find(tc.pattern, []byte(strings.Repeat("a", 40)), 0, 1)
		name := tc.pattern
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		if tc.ok && err != nil {
			t.Errorf("%q: err=%v, want none", name, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "too many captures")) {
			t.Errorf("%q: err=%v, want too many captures", name, err)
		}
	}
}

// TestIterator: an Iterator yields the matches FindContext finds, one per
// Next, then nil for good; an anchored pattern is tried once; a context
// done before a Next stops that Next; a bad pattern fails at NewIterator.
func TestIterator(t *testing.T) {
	src := []byte("k1=v1, k2=v2;k3=")
	for _, p := range []string{"(%w+)=(%w*)", "()", "%w*", "^k", "x", "[%a]"} {
		want, err := Find(p, src, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		it, err := NewIterator(p, src, 0)
		if err != nil {
			t.Fatalf("NewIterator(%q)=%v", p, err)
		}
		for i := 0; ; i++ {
			m, err := it.Next(context.Background())
			if err != nil {
				t.Fatalf("%q: Next()=%v", p, err)
			}
			if m == nil {
				if i != len(want) {
					t.Errorf("%q: %d matches, want %d", p, i, len(want))
				}
				break
			}
			if i >= len(want) || fmt.Sprint(m.captures) != fmt.Sprint(want[i].captures) {
				t.Fatalf("%q: match %d=%v, want %v", p, i, m.captures, want)
			}
		}
		if m, err := it.Next(context.Background()); m != nil || err != nil {
			t.Errorf("%q: Next() after the end=%v, %v; want nil, nil", p, m, err)
		}
	}
	if _, err := NewIterator("%", src, 0); err == nil {
		t.Error(`NewIterator("%")=nil, want the pattern's error`)
	}
	it, err := NewIterator(slowPattern, slowSubject, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := it.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next() on a slow pattern=%v, want %v", err, context.DeadlineExceeded)
	}
}

// TestParseErrorsAsLua51: the errors a pattern raises as it is read are Lua
// 5.1's messages, whole: Lua's have no position, and upstream's added one
// (too many captures at 63, invalid capture index at 0 for %0, invalid ')'
// at 0, unfinished capture at EOS), which also differed from Lua's wording
// for a ')' that closes no capture.
func TestParseErrorsAsLua51(t *testing.T) {
	tests := []struct {
		pattern string
		want    string
	}{
		{strings.Repeat("()", 33), "too many captures"},
		{"%0", "invalid capture index"},
		{"a%0", "invalid capture index"},
		{"a)", "invalid pattern capture"},
		{")", "invalid pattern capture"},
		{"(a", "unfinished capture"},
		{"(()", "unfinished capture"},
		{"a%", "malformed pattern (ends with '%')"},
		{"[a", "malformed pattern (missing ']')"},
		{"%b", "unbalanced pattern"},
	}
	for _, tc := range tests {
		_, err := Find(tc.pattern, []byte("aa"), 0, 1)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Find(%q)=%v, want %q", tc.pattern, err, tc.want)
		}
	}
}
