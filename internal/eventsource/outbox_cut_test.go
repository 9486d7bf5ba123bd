package eventsource

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/minimi-go/minimi/internal/stash"
)

// holdProxy is a TCP proxy to a NATS server that can hold the server's bytes
// back and then drop every connection, so that a flush is waiting for its
// PONG when the connection breaks.
type holdProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	held   bool
	conns  []net.Conn
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &holdProxy{ln: ln, target: strings.TrimPrefix(target, "nats://")}
	t.Cleanup(func() { ln.Close(); px.cut() })
	go px.accept()
	return px
}

func (px *holdProxy) url() string { return "nats://" + px.ln.Addr().String() }

func (px *holdProxy) accept() {
	for {
		c, err := px.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", px.target)
		if err != nil {
			c.Close()
			continue
		}
		px.mu.Lock()
		px.conns = append(px.conns, c, s)
		px.mu.Unlock()
		go func() { _, _ = io.Copy(s, c) }()
		go px.relay(c, s)
	}
}

// relay copies the server's bytes to the client, except while held.
func (px *holdProxy) relay(c, s net.Conn) {
	buf := make([]byte, 32*1024)
	for {
		n, err := s.Read(buf)
		for px.isHeld() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			c.Close()
			return
		}
	}
}

func (px *holdProxy) isHeld() bool {
	px.mu.Lock()
	defer px.mu.Unlock()
	return px.held
}

func (px *holdProxy) hold() {
	px.mu.Lock()
	px.held = true
	px.mu.Unlock()
}

// cut drops every connection and lets new ones through.
func (px *holdProxy) cut() {
	px.mu.Lock()
	defer px.mu.Unlock()
	for _, c := range px.conns {
		c.Close()
	}
	px.conns, px.held = nil, false
}

// TestOutboxFlushCutOff: a connection that breaks while the outbox waits for
// the server to confirm a batch is one more outage, not the end of the
// outbox: it publishes again once reconnected.
func TestOutboxFlushCutOff(t *testing.T) {
	ns := runNATS(t)
	px := newHoldProxy(t, ns.ClientURL())
	s := newService(t, Options{})
	nc := connect(t, px.url(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	ob := runOutbox(t, s.log, nc, OutboxOptions{RetryWait: 10 * time.Millisecond, FlushTimeout: 30 * time.Second})
	create(t, s.log, s.set, tags, stash.Record{"id": "before"})
	waitFor(t, "the first event sent", func() bool { return ob.Sent() == 1 })

	px.hold()
	create(t, s.log, s.set, tags, stash.Record{"id": "held"})
	time.Sleep(200 * time.Millisecond) // the outbox publishes it and waits for the server's PONG
	px.cut()
	create(t, s.log, s.set, tags, stash.Record{"id": "after"})
	deadline := time.Now().Add(10 * time.Second)
	for ob.Sent() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("Sent()=%d 10s after the connection broke, want 3", ob.Sent())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
