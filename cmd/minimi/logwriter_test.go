package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/minimi-go/minimi/internal/syncbuf"
)

func TestLogWriterKeepsLinesWhole(t *testing.T) {
	var dst syncbuf.Buffer
	lw := newLogWriter(&dst)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				fmt.Fprintf(lw, "{\"g\":%d,\"i\":%d,\"pad\":%q}\n", g, i, strings.Repeat("x", 100))
			}
		}()
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(dst.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines after Close, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"g":`) || !strings.HasSuffix(l, `"}`) {
			t.Fatalf("a line was split or interleaved: %q", l)
		}
	}
}

func TestLogWriterFlushesWithoutClose(t *testing.T) {
	var dst syncbuf.Buffer
	lw := newLogWriter(&dst)
	defer lw.Close()
	fmt.Fprintln(lw, "one line")
	eventually(t, "periodic flush", func() string {
		if dst.String() != "one line\n" {
			return "not flushed yet"
		}
		return ""
	})
}
