package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/server"
	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// eventsService writes a service with a /notes collection into a new
// directory and returns it with its config.
func eventsService(t *testing.T) (string, *config.Config) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"endpoints/notes/notes.schema.json": `{"schema": {"type": "object", "properties": {"title": {"type": "string"}}}}`,
		"endpoints/notes/notes.execute.lua": `return { GET = function(req, res) res:json({}) end }`,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.DefaultConfig()
	cfg.Name = "notes"
	return dir, cfg
}

// withLog opens the service's stores and event log, runs fn, and closes both.
func withLog(t *testing.T, dir string, cfg *config.Config, fn func(set *stash.Set, l *eventsource.Log)) {
	t.Helper()
	set, err := server.OpenStashes(dir, cfg, stash.Options{})
	if err != nil {
		t.Fatalf("OpenStashes()=%v", err)
	}
	defer set.Close()
	l, err := eventsource.Open(set, eventsource.Options{Service: cfg.Name})
	if err != nil {
		t.Fatalf("eventsource.Open()=%v", err)
	}
	defer l.Close(context.Background())
	fn(set, l)
}

// commitNote commits one stash write on /notes.
func commitNote(t *testing.T, set *stash.Set, l *eventsource.Log, write func(ss *stash.Session) error) {
	t.Helper()
	ss := set.Session()
	if err := write(ss); err != nil {
		t.Fatal(err)
	}
	cmd := eventsource.Command{Method: "POST", Path: "/notes", Route: "/notes", RequestID: "r"}
	if _, err := l.Commit(t.Context(), cmd, 201, ss.Changes(), nil); err != nil {
		t.Fatalf("Commit()=%v", err)
	}
}

// seedNotes commits three creates, a patch and a delete.
func seedNotes(t *testing.T, dir string, cfg *config.Config) {
	t.Helper()
	withLog(t, dir, cfg, func(set *stash.Set, l *eventsource.Log) {
		for i := range 3 {
			commitNote(t, set, l, func(ss *stash.Session) error {
				_, err := ss.Create("/notes", stash.Record{"id": fmt.Sprint("n", i), "title": "note"})
				return err
			})
		}
		commitNote(t, set, l, func(ss *stash.Session) error {
			_, err := ss.Patch("/notes", "n1", stash.Record{"title": "patched"}, stash.At(1))
			return err
		})
		commitNote(t, set, l, func(ss *stash.Session) error {
			_, err := ss.Delete("/notes", "n2", stash.AnyVersion)
			return err
		})
	})
}

// execute runs a command with args and returns its output.
func execute(t *testing.T, ctx context.Context, cmd *cobra.Command, out io.Writer, args ...string) error {
	t.Helper()
	return executeErr(ctx, cmd, out, io.Discard, args...)
}

// executeErr is execute with the command's stderr going to errOut.
func executeErr(ctx context.Context, cmd *cobra.Command, out, errOut io.Writer, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage = true
	return cmd.ExecuteContext(ctx)
}

// eventSeqs decodes JSON lines of events into their seqs.
func eventSeqs(t *testing.T, out string) []uint64 {
	t.Helper()
	seqs := []uint64{}
	for line := range strings.Lines(out) {
		ev, err := eventsource.DecodeEvent([]byte(line))
		if err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		seqs = append(seqs, ev.Seq)
	}
	return seqs
}

func TestEventsCommand(t *testing.T) {
	dir, cfg := eventsService(t)
	seedNotes(t, dir, cfg)
	// events only reads: the data files are the same bytes after it (it
	// works on a read-only mount or a backup).
	files := func() map[string]string {
		out := map[string]string{}
		entries, err := os.ReadDir(filepath.Join(dir, "data"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, "data", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
		return out
	}
	before := files()
	t.Cleanup(func() {
		if after := files(); !reflect.DeepEqual(after, before) {
			t.Error("the data files changed under events --dir")
		}
	})
	tests := []struct {
		name string
		args []string
		want []uint64
	}{
		{"all", nil, []uint64{1, 2, 3, 4, 5}},
		{"after", []string{"--after", "3"}, []uint64{4, 5}},
		{"after the head", []string{"--after", "5"}, []uint64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := execute(t, t.Context(), eventsCmd(), &out, append([]string{"--dir", dir}, tc.args...)...); err != nil {
				t.Fatalf("events %v: %v", tc.args, err)
			}
			if got := eventSeqs(t, out.String()); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events %v printed seqs %v, want %v", tc.args, got, tc.want)
			}
		})
	}
}

func TestEventsCommandErrors(t *testing.T) {
	dir, cfg := eventsService(t)
	if err := execute(t, t.Context(), eventsCmd(), io.Discard, "--dir", dir, "--follow"); err == nil || !strings.Contains(err.Error(), "--url") {
		t.Fatalf("events --follow=%v, want an error asking for --url", err)
	}
	if err := execute(t, t.Context(), eventsCmd(), io.Discard, "--url", "ftp://x"); err == nil {
		t.Fatal("events --url ftp://x=nil, want an error")
	}
	if err := execute(t, t.Context(), eventsCmd(), io.Discard, "--url", "http://127.0.0.1:1", "--dir", dir); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("events --url --dir=%v, want an error: the --dir would be ignored", err)
	}
	// A data directory the service never ran with: an error, and no stores made there.
	for _, c := range []func() *cobra.Command{eventsCmd, replayCmd} {
		err := execute(t, t.Context(), c(), io.Discard, "--dir", dir)
		if err == nil || !strings.Contains(err.Error(), "no event log in "+filepath.Join(dir, "data")) {
			t.Errorf("%s before the service ran=%v, want an error saying there is no event log", c().Name(), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the data directory after events and replay: %v, want none made", err)
	}
	// --dir naming a file (the config file, say): the same error, not advice
	// to restore an event log from a backup.
	file := filepath.Join(dir, "config.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []func() *cobra.Command{eventsCmd, replayCmd} {
		err := execute(t, t.Context(), c(), io.Discard, "--dir", file)
		if err == nil || !strings.Contains(err.Error(), "no event log in "+filepath.Join(file, "data")) {
			t.Errorf("%s --dir with a file=%v, want an error saying there is no event log", c().Name(), err)
		}
	}
	withLog(t, dir, cfg, func(*stash.Set, *eventsource.Log) {
		err := execute(t, t.Context(), eventsCmd(), io.Discard, "--dir", dir)
		if !errors.Is(err, stash.ErrInUse) || !strings.Contains(err.Error(), "--url") {
			t.Fatalf("events on a running service=%v, want ErrInUse pointing to --url", err)
		}
		err = execute(t, t.Context(), replayCmd(), io.Discard, "--dir", dir)
		if !errors.Is(err, stash.ErrInUse) || strings.Contains(err.Error(), "--url") || !strings.Contains(err.Error(), "Stop it first") {
			t.Fatalf("replay on a running service=%v, want ErrInUse asking to stop it, without --url", err)
		}
	})
}

// waitLines waits until b holds n lines; it fails the test after a minute.
func waitLines(t *testing.T, b *syncbuf.Buffer, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for strings.Count(b.String(), "\n") < n {
		if time.Now().After(deadline) {
			t.Fatalf("output=%q, want %d lines", b.String(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEventsURL follows a running service's stream: the backlog after
// --after, then new events, until interrupted; when the stream breaks, it
// connects again after the last event it printed: nothing twice, nothing
// skipped.
func TestEventsURL(t *testing.T) {
	for _, breakStream := range []bool{false, true} {
		t.Run(fmt.Sprintf("break=%v", breakStream), func(t *testing.T) {
			out, errOut := followNotes(t, breakStream)
			if got := eventSeqs(t, out); !reflect.DeepEqual(got, []uint64{4, 5, 6}) {
				t.Fatalf("events --url printed seqs %v, want [4 5 6]", got)
			}
			if said := strings.Contains(errOut, "reconnecting after seq 5"); said != breakStream {
				t.Errorf("stderr=%q, want a reconnect after seq 5 only when the stream broke", errOut)
			}
		})
	}
}

// followNotes runs events --url --after 3 against a service with the seeded
// notes, breaks the stream once the backlog is printed if asked, commits a
// note, and returns stdout and stderr once the new event is printed and the
// command interrupted.
func followNotes(t *testing.T, breakStream bool) (stdout, stderr string) {
	dir, cfg := eventsService(t)
	seedNotes(t, dir, cfg)
	var out, errOut syncbuf.Buffer
	withLog(t, dir, cfg, func(set *stash.Set, l *eventsource.Log) {
		mux := http.NewServeMux()
		mux.Handle("GET /_minimi/events", l.SSE())
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- executeErr(ctx, eventsCmd(), &out, &errOut, "--url", srv.URL+"/", "--after", "3", "--follow")
		}()
		waitLines(t, &out, 2)
		if breakStream {
			srv.CloseClientConnections()
		}
		commitNote(t, set, l, func(ss *stash.Session) error {
			_, err := ss.Create("/notes", stash.Record{"title": "live"})
			return err
		})
		waitLines(t, &out, 3)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("events --url after interrupt=%v, want nil", err)
		}
	})
	return out.String(), errOut.String()
}

// TestFollowerReconnects scripts a service's answers to events --url: a
// stream that ends, a 503, a stream that goes silent, then a 401. The
// follower retries the first three after the last event it printed, with
// waits that double unless a stream stayed up for a while, and gives up on
// the 401.
func TestFollowerReconnects(t *testing.T) {
	var (
		mu     sync.Mutex
		afters []string
		keys   []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		afters, keys = append(afters, r.URL.Query().Get("after")), append(keys, r.Header.Get("X-Client-Key"))
		n := len(afters)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		switch n {
		case 1:
			fmt.Fprint(w, "id: 7\nevent: minimi\ndata: {\"seq\":7}\n\n")
		case 2:
			http.Error(w, "starting", http.StatusServiceUnavailable)
		case 3:
			w.(http.Flusher).Flush()
			<-r.Context().Done() // silent until the follower gives up on it
		default:
			http.Error(w, "no key", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	f := &follower{out: &out, errOut: &errOut, key: "mk_test", first: time.Millisecond, most: 100 * time.Millisecond,
		idle: 300 * time.Millisecond, maxLine: 1 << 10}
	err := f.follow(t.Context(), srv.URL, 0)
	var final *finalError
	if !errors.As(err, &final) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("follow()=%v, want a final error naming the 401", err)
	}
	if out.String() != `{"seq":7}`+"\n" {
		t.Errorf("printed %q, want the one event", out.String())
	}
	if want := []string{"0", "7", "7", "7"}; !reflect.DeepEqual(afters, want) {
		t.Errorf("asked for the events after %v, want %v", afters, want)
	}
	if want := []string{"mk_test", "mk_test", "mk_test", "mk_test"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("sent the keys %v, want %v", keys, want)
	}
	for _, want := range []string{"the service ended the stream; reconnecting after seq 7 in 1ms",
		// The 503 came well within the longest wait (most is far above a
		// slow machine's delays), so the wait doubled; the silent stream
		// was up longer than the longest wait: the waits start over.
		"503 Service Unavailable; reconnecting after seq 7 in 2ms",
		"nothing, not even a heartbeat, for 300ms; reconnecting after seq 7 in 1ms"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr=%q, want %q", errOut.String(), want)
		}
	}
}

// TestFollowerLongLine: an event longer than the longest line is an error,
// not a reconnect that would fail on the same event forever.
func TestFollowerLongLine(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "id: 1\ndata: %s\n\n", strings.Repeat("x", 100))
	}))
	defer srv.Close()
	f := &follower{out: io.Discard, errOut: io.Discard, first: time.Millisecond, most: time.Millisecond, idle: time.Minute, maxLine: 50}
	err := f.follow(t.Context(), srv.URL, 0)
	if err == nil || !strings.Contains(err.Error(), "longer than 50 bytes") || calls != 1 {
		t.Fatalf("follow()=%v after %d requests, want one request and an error about the long line", err, calls)
	}
}

// TestEventsURLGivesUp: a first connection that fails, and a refusal such
// as 401, end events --url with an error instead of retrying.
func TestEventsURLGivesUp(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no key", http.StatusUnauthorized)
	}))
	defer refuse.Close()
	err := streamEvents(t.Context(), io.Discard, io.Discard, refuse.URL, 0)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("streamEvents against a 401=%v, want an error naming 401", err)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if err := streamEvents(t.Context(), io.Discard, io.Discard, gone.URL, 0); err == nil {
		t.Error("streamEvents against a closed port=nil, want an error")
	}
}

// TestEventsURLNotAStream: a --url that does not lead to an event stream
// (another server, a page of the service) is an error at once, not a
// reconnect loop that says the service ended the stream; a --url with a
// query, which would hide the path of the stream, is refused before any
// request.
func TestEventsURLNotAStream(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"service":"showcase"}`)
	}))
	defer srv.Close()
	for _, tc := range []struct{ name, url, want string }{
		{"page", srv.URL, "not an event stream"},
		{"query", srv.URL + "?after=3", "without a query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			var errOut bytes.Buffer
			err := streamEvents(ctx, io.Discard, &errOut, tc.url, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("streamEvents(%s)=%v, want an error saying %q", tc.url, err, tc.want)
			}
			if n := calls.Load(); n > 1 || errOut.Len() > 0 {
				t.Errorf("made %d requests, stderr=%q; want at most one, and no reconnect", n, errOut.String())
			}
		})
	}
}

// notesRecords reads every record of /notes.
func notesRecords(t *testing.T, dir string, cfg *config.Config) []stash.Record {
	t.Helper()
	set, err := server.OpenStashes(dir, cfg, stash.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	recs, err := set.ReadOnlySession().List("/notes", stash.ListOptions{Limit: 1000, Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestReplayCommand(t *testing.T) {
	dir, cfg := eventsService(t)
	seedNotes(t, dir, cfg)
	want := notesRecords(t, dir, cfg)
	if len(want) != 2 {
		t.Fatalf("records before replay=%v, want 2", want)
	}
	// Writes that bypass the log: replay must undo them.
	set, err := server.OpenStashes(dir, cfg, stash.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ss := set.Session()
	if _, err := ss.Create("/notes", stash.Record{"id": "stray", "title": "not in the log"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Delete("/notes", "n0", stash.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := set.Commit(ss); err != nil {
		t.Fatal(err)
	}
	set.Close()
	if got := notesRecords(t, dir, cfg); reflect.DeepEqual(got, want) {
		t.Fatal("writes outside the log changed nothing")
	}
	var out bytes.Buffer
	if err := execute(t, t.Context(), replayCmd(), &out, "--dir", dir); err != nil {
		t.Fatalf("replay=%v", err)
	}
	if !strings.Contains(out.String(), "replayed 5 events") || !regexp.MustCompile(`(?m)^/notes +minimi\.db +2$`).MatchString(out.String()) {
		t.Fatalf("replay printed %q, want 5 events and /notes with 2 records", out.String())
	}
	if got := notesRecords(t, dir, cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("records after replay=%v, want %v", got, want)
	}
}
