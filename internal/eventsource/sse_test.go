package eventsource

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// sseMessage is one block of an event stream: an event or a comment.
type sseMessage struct {
	id, event, data, comment string
}

// readSSE reads the next block of a stream.
func readSSE(t *testing.T, r *bufio.Reader) sseMessage {
	t.Helper()
	var m sseMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			return m
		case strings.HasPrefix(line, ":"):
			m.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "id: "):
			m.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			m.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			m.data = line[6:]
		default:
			t.Fatalf("unexpected stream line %q", line)
		}
	}
}

// nextEvent skips comments and returns the next event's seq, checking its framing.
func nextEvent(t *testing.T, r *bufio.Reader) uint64 {
	t.Helper()
	for {
		m := readSSE(t, r)
		if m.comment != "" && m.id == "" {
			continue
		}
		ev, err := DecodeEvent([]byte(m.data))
		if err != nil {
			t.Fatalf("DecodeEvent(data)=%v", err)
		}
		if m.event != "minimi" || m.id != strconv.FormatUint(ev.Seq, 10) {
			t.Fatalf("message id %q event %q, want id %d event minimi", m.id, m.event, ev.Seq)
		}
		return ev.Seq
	}
}

// openStream starts a GET on the SSE handler.
func openStream(t *testing.T, ctx context.Context, url string, header http.Header) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %s %q, want 200 text/event-stream", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	return resp, bufio.NewReader(resp.Body)
}

func TestSSEBacklogThenLive(t *testing.T) {
	s := newService(t, Options{})
	for i := range 3 {
		create(t, s.log, s.set, tags, stash.Record{"id": strconv.Itoa(i)})
	}
	srv := httptest.NewServer(s.log.SSE())
	t.Cleanup(srv.Close)
	_, r := openStream(t, t.Context(), srv.URL+"/_minimi/events?after=1", nil)
	for _, want := range []uint64{2, 3} {
		if got := nextEvent(t, r); got != want {
			t.Fatalf("backlog event=%d, want %d", got, want)
		}
	}
	create(t, s.log, s.set, tags, stash.Record{"id": "live"})
	if got := nextEvent(t, r); got != 4 {
		t.Fatalf("live event=%d, want 4", got)
	}
}

func TestSSELastEventID(t *testing.T) {
	s := newService(t, Options{})
	for i := range 4 {
		create(t, s.log, s.set, tags, stash.Record{"id": strconv.Itoa(i)})
	}
	srv := httptest.NewServer(s.log.SSE())
	t.Cleanup(srv.Close)
	_, r := openStream(t, t.Context(), srv.URL+"?after=0", http.Header{"Last-Event-Id": {"2"}})
	if got := nextEvent(t, r); got != 3 {
		t.Fatalf("first event after Last-Event-ID 2=%d, want 3", got)
	}
}

func TestSSEHeartbeat(t *testing.T) {
	s := newService(t, Options{Heartbeat: 5 * time.Millisecond})
	srv := httptest.NewServer(s.log.SSE())
	t.Cleanup(srv.Close)
	_, r := openStream(t, t.Context(), srv.URL, nil)
	if m := readSSE(t, r); m.comment == "" {
		t.Fatalf("first message=%+v, want the opening comment", m)
	}
	if m := readSSE(t, r); m.comment != "heartbeat" {
		t.Fatalf("idle message=%+v, want a heartbeat comment", m)
	}
}

// TestSSEClientGone: the handler returns once the client goes away.
func TestSSEClientGone(t *testing.T) {
	s := newService(t, Options{})
	returned := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(returned)
		s.log.SSE().ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	_, r := openStream(t, ctx, srv.URL, nil)
	readSSE(t, r)
	cancel()
	<-returned
}

// TestSSELogClosed: the stream ends when the log closes.
func TestSSELogClosed(t *testing.T) {
	s := newService(t, Options{})
	srv := httptest.NewServer(s.log.SSE())
	t.Cleanup(srv.Close)
	resp, r := openStream(t, t.Context(), srv.URL, nil)
	readSSE(t, r)
	if err := s.log.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("reading the rest of the stream: %v", err)
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "req-1")
	s.log.SSE().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("GET on a closed log=%d, want 503", rec.Code)
	}
	checkProblem(t, rec, http.StatusServiceUnavailable)
}

// checkProblem checks that rec is an RFC 9457 problem of status, with the
// request id "req-1".
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type=%q, want application/problem+json", ct)
	}
	var p struct {
		Type, Title, Detail string
		Status              int
		RequestID           string `json:"request_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem %q: %v", rec.Body, err)
	}
	if p.Type == "" || p.Title == "" || p.Detail == "" || p.Status != status || p.RequestID != "req-1" {
		t.Errorf("problem=%+v, want type, title, detail, status %d and request_id req-1", p, status)
	}
}

func TestSSEBadRequest(t *testing.T) {
	s := newService(t, Options{})
	tests := []struct {
		name   string
		method string
		target string
		header http.Header
		want   int
	}{
		{"bad after", http.MethodGet, "/?after=x", nil, http.StatusBadRequest},
		{"negative after", http.MethodGet, "/?after=-1", nil, http.StatusBadRequest},
		{"unknown parameter", http.MethodGet, "/?from=2", nil, http.StatusBadRequest},
		{"after twice", http.MethodGet, "/?after=2&after=5", nil, http.StatusBadRequest},
		{"bad Last-Event-ID", http.MethodGet, "/", http.Header{"Last-Event-Id": {"abc"}}, http.StatusBadRequest},
		{"post", http.MethodPost, "/", nil, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("X-Request-Id", "req-1") // as the server's middleware echoes it
			s.log.SSE().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("ServeHTTP(%s %s)=%d, want %d", tc.method, tc.target, rec.Code, tc.want)
			}
			checkProblem(t, rec, tc.want)
		})
	}
}

// TestSSEData checks that data is the stored event JSON, on one line.
func TestSSEData(t *testing.T) {
	s := newService(t, Options{})
	ev := create(t, s.log, s.set, notes, stash.Record{"title": "multi\nline"})
	srv := httptest.NewServer(s.log.SSE())
	t.Cleanup(srv.Close)
	_, r := openStream(t, t.Context(), srv.URL, nil)
	readSSE(t, r)
	m := readSSE(t, r)
	if m.data != string(ev.JSON()) {
		t.Fatalf("data=%s, want %s", m.data, ev.JSON())
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(m.data), &v); err != nil || v["service"] != "test" {
		t.Fatalf("data decodes to %v, %v, want the event", v, err)
	}
}

// TestSSEStalledClientDropped: a stream whose client reads nothing, so that
// a write blocks once the connection's buffers are full, is dropped after
// Options.Stall and says so in the log; a client that reads goes on.
func TestSSEStalledClientDropped(t *testing.T) {
	var logs syncbuf.Buffer
	s := newService(t, Options{Stall: 300 * time.Millisecond, Logger: textLogger(&logs)})
	big := strings.Repeat("x", 256<<10)
	for i := range 16 { // 4 MiB: more than the connection's buffers hold
		create(t, s.log, s.set, tags, stash.Record{"id": strconv.Itoa(i), "s": big})
	}
	returned := make(chan struct{}, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { returned <- struct{}{} }()
		s.log.SSE().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /_minimi/events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream of a client that reads nothing is still open after 10 s")
	}
	waitFor(t, "the drop in the log", func() bool { return strings.Contains(logs.String(), "event stream dropped") })

	_, r := openStream(t, t.Context(), srv.URL, nil) // a client that reads gets every event
	for want := uint64(1); want <= 16; want++ {
		if got := nextEvent(t, r); got != want {
			t.Fatalf("event=%d, want %d", got, want)
		}
	}
}

// TestSSESlowClientKept: a client that reads slowly but steadily is not
// dropped, though one batch of events takes it longer than Options.Stall:
// the stall is judged per chunk written, not per batch.
func TestSSESlowClientKept(t *testing.T) {
	var logs syncbuf.Buffer
	s := newService(t, Options{Stall: time.Second, Logger: textLogger(&logs)})
	big := strings.Repeat("x", 128<<10)
	const n = 24 // 3 MiB in one batch, from the events kept in memory
	for i := range n {
		create(t, s.log, s.set, tags, stash.Record{"id": strconv.Itoa(i), "s": big})
	}
	srv := httptest.NewUnstartedServer(s.log.SSE())
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	resp, _ := openStream(t, t.Context(), srv.URL, nil)
	slow := bufio.NewReader(&paced{r: resp.Body, n: 16 << 10, every: 2 * time.Millisecond})
	start := time.Now()
	for want := uint64(1); want <= n; want++ {
		if got := nextEvent(t, slow); got != want {
			t.Fatalf("event=%d, want %d", got, want)
		}
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("read %d events in %v: the pace did not make the batch outlast the stall time, so the test proves nothing", n, took)
	}
	if strings.Contains(logs.String(), "event stream dropped") {
		t.Errorf("a client that reads steadily was dropped:\n%s", logs.String())
	}
}

// smallSendBuffers gives accepted connections a small send buffer, so that
// a write waits for the client to read instead of filling kernel memory.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// paced reads at most n bytes per call, and waits every before each.
type paced struct {
	r     io.Reader
	n     int
	every time.Duration
}

func (p *paced) Read(b []byte) (int, error) {
	time.Sleep(p.every)
	return p.r.Read(b[:min(len(b), p.n)])
}

// TestSSEEncodesAChunkAtATime: a stream encodes about sseChunk of a batch
// before it writes, and then one event more at most, so that a batch of
// large events is not held encoded all at once for a slow client.
func TestSSEEncodesAChunkAtATime(t *testing.T) {
	s := newService(t, Options{})
	for i, size := range []int{100, 100, 100 << 10, 100, 100 << 10} {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint(i), "big": strings.Repeat("x", size)})
	}
	sub, err := s.log.Subscribe(0)
	if err != nil {
		t.Fatalf("Subscribe()=%v", err)
	}
	defer sub.Close()
	evs, err := sub.Batch(t.Context(), 64)
	if err != nil || len(evs) != 5 {
		t.Fatalf("Batch()=%d events, %v, want 5", len(evs), err)
	}
	var seqs [][]uint64
	for rest := evs; len(rest) > 0; {
		var buf []byte
		before := rest
		buf, rest = s.log.encodeSSE(nil, rest)
		var got []uint64
		for _, ev := range before[:len(before)-len(rest)] {
			got = append(got, ev.Seq)
		}
		seqs = append(seqs, got)
		if n := bytes.Count(buf, []byte("\nevent: minimi\n")); n != len(got) {
			t.Errorf("a chunk of %d frames for events %v", n, got)
		}
	}
	// The small events go with the first large one, which fills the chunk.
	if want := [][]uint64{{1, 2, 3}, {4, 5}}; !reflect.DeepEqual(seqs, want) {
		t.Errorf("chunks of events %v, want %v", seqs, want)
	}
}
