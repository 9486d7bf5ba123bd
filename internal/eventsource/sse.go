package eventsource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/minimi-go/minimi/internal/problem"
)

// sseBatch is how many events the SSE handler writes per flush.
const sseBatch = 64

// SSE returns the handler of GET /_minimi/events: the events with seq >
// ?after=N (default 0), or > the Last-Event-ID header when a client
// reconnects, as Server-Sent Events, then each new one as it commits:
//
//	id: <seq>
//	event: minimi
//	data: <event JSON>
//
// A comment line is sent every Options.Heartbeat while nothing happens. The
// handler returns when the client goes away, when the request's context
// ends (http.Server.BaseContext ending at shutdown ends it too), or when the
// Log closes.
func (l *Log) SSE() http.Handler { return http.HandlerFunc(l.serveSSE) }

func (l *Log) serveSSE(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	after, err := sseStart(r)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	sub, err := l.Subscribe(after)
	if err != nil {
		writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	// A stream outlives the server's write timeout; each write has its own.
	_ = rc.SetWriteDeadline(time.Now().Add(l.opts.Stall))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": minimi events\n\n")); err != nil || rc.Flush() != nil {
		return
	}
	if l.stream(r.Context(), w, rc, sub) {
		l.opts.Logger.Warn("event stream dropped: its client read nothing for "+l.opts.Stall.String(),
			"remote", r.RemoteAddr, "after", sub.Seq())
	}
}

// writeProblem answers an RFC 9457 problem, like every error reply of the
// server. The request id is the one the server echoes on the reply.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	d := problem.New(status, detail)
	d.Instance = r.URL.EscapedPath()
	d.RequestID = w.Header().Get("X-Request-Id")
	problem.Write(w, d)
}

// sseStart reads where a stream starts: Last-Event-ID, else ?after, else 0.
// A query parameter other than one after is an error: a client that wrote
// ?from=10 or ?since=10 would otherwise get the whole log.
func sseStart(r *http.Request) (uint64, error) {
	for k, v := range r.URL.Query() {
		switch {
		case k != "after":
			return 0, fmt.Errorf("unknown query parameter %q: the stream takes after=<seq> only", k)
		case len(v) > 1:
			return 0, errors.New("query parameter after is given more than once")
		}
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return 0, errors.New("header Last-Event-ID must be an event seq")
		}
		return n, nil
	}
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, errors.New("query parameter after must be an event seq")
		}
		return n, nil
	}
	return 0, nil
}

// endGrace is how long a stream that was stopped has to end its reply: a
// stream waiting for events ends it properly (a client sees the stream end,
// not a cut connection), and a write blocked on a client that reads nothing
// fails.
const endGrace = 100 * time.Millisecond

// stream writes events until the client goes away, ctx ends or the log
// closes. A write that takes longer than Options.Stall fails, and so does a
// write blocked when ctx ends (after endGrace), so that a client that reads
// nothing holds neither a connection nor a shutdown up. It reports whether
// it ended for a stalled client.
func (l *Log) stream(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, sub *Subscription) (stalled bool) {
	unblocked := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(unblocked)
		_ = rc.SetWriteDeadline(time.Now().Add(endGrace))
	})
	defer func() {
		if !stop() { // the deadline is being set: let it finish before the reply ends
			<-unblocked
		}
	}()
	var buf []byte
	for {
		wait, cancel := context.WithTimeout(ctx, l.opts.Heartbeat)
		evs, err := sub.Batch(wait, sseBatch)
		cancel()
		switch {
		case err == nil:
			for len(evs) > 0 {
				buf, evs = l.encodeSSE(buf[:0], evs)
				if ok, stalled := l.send(ctx, w, rc, buf); !ok {
					return stalled
				}
			}
			if cap(buf) > 4*sseChunk {
				buf = nil // a large event's buffer is not kept for the stream's life
			}
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			buf = append(buf[:0], ": heartbeat\n\n"...)
			if ok, stalled := l.send(ctx, w, rc, buf); !ok {
				return stalled
			}
		default:
			return false
		}
	}
}

// encodeSSE appends the frames of evs to buf until it holds sseChunk bytes
// or more, and returns it with the events left: a stream holds about a chunk
// and one event encoded at a time, not a whole batch of large events.
func (l *Log) encodeSSE(buf []byte, evs []*Event) ([]byte, []*Event) {
	for len(evs) > 0 && len(buf) < sseChunk {
		buf = appendSSE(buf, evs[0].Seq, l.Public(evs[0]))
		evs = evs[1:]
	}
	return buf, evs
}

// sseChunk is how much of a batch one write deadline covers: a slow client
// that reads less than this in Options.Stall is dropped, whatever the size
// of the batch or of one event.
const sseChunk = 64 << 10

// send writes buf and flushes it, in chunks of sseChunk, each with its own
// deadline. It reports whether it did, and when not, whether the client
// stalled (rather than the stream being stopped or the client gone).
func (l *Log) send(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, buf []byte) (ok, stalled bool) {
	for len(buf) > 0 {
		chunk := buf[:min(len(buf), sseChunk)]
		buf = buf[len(chunk):]
		// Set before ctx is looked at: once ctx ends, the deadline of
		// endGrace that ctx's AfterFunc sets, or this one, is the last.
		start := time.Now()
		_ = rc.SetWriteDeadline(start.Add(l.opts.Stall))
		if ctx.Err() != nil {
			_ = rc.SetWriteDeadline(time.Now().Add(endGrace))
			return false, false
		}
		_, err := w.Write(chunk)
		if err == nil && len(buf) == 0 {
			err = rc.Flush()
		}
		if err != nil {
			// A write cut short by a stop fails at once; one that stalled,
			// after Stall. (Either way net/http has ended ctx by now.)
			return false, errors.Is(err, os.ErrDeadlineExceeded) && time.Since(start) >= l.opts.Stall
		}
	}
	return true, false
}

func appendSSE(b []byte, seq uint64, data []byte) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, "\nevent: minimi\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}
