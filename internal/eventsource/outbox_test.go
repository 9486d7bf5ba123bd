package eventsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/minimi-go/minimi/internal/bus"
	"github.com/minimi-go/minimi/internal/bus/bustest"
	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// runNATS starts an embedded nats-server on a random port.
func runNATS(t testing.TB) *server.Server {
	t.Helper()
	return bustest.Server(t, nil)
}

func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("Connect(%s)=%v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// listen subscribes to every event subject.
func listen(t testing.TB, nc *nats.Conn) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(SubjectPrefix + ".>")
	if err != nil {
		t.Fatalf("SubscribeSync()=%v", err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

// runOutbox runs an outbox until the test ends.
func runOutbox(t testing.TB, l *Log, nc *nats.Conn, opts OutboxOptions) *Outbox {
	t.Helper()
	ob := NewOutbox(l, nc, opts)
	done := make(chan error, 1)
	go func() { done <- ob.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := ob.Close(context.Background()); err != nil {
			t.Errorf("Outbox.Close()=%v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Outbox.Run()=%v", err)
		}
	})
	return ob
}

// msgSeq reads the Minimi-Seq header of a message.
func msgSeq(t testing.TB, m *nats.Msg) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(m.Header.Get(HeaderSeq), 10, 64)
	if err != nil {
		t.Fatalf("message on %s has %s %q", m.Subject, HeaderSeq, m.Header.Get(HeaderSeq))
	}
	return n
}

func TestOutboxPublishes(t *testing.T) {
	ns := runNATS(t)
	s := newService(t, Options{Service: "svc"})
	sub := listen(t, connect(t, ns.ClientURL()))
	paths := []string{"/notes", "/notes/42", "/", "/a.b/c d", "/x/*/>"}
	var evs []*Event
	for _, p := range paths {
		ev, err := s.log.Commit(t.Context(), command("PUT", p), 200, nil, []Emit{{Type: "t", Data: p}})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	ob := runOutbox(t, s.log, connect(t, ns.ClientURL()), OutboxOptions{MaxBatch: 2})
	for i, ev := range evs {
		m, err := sub.NextMsg(30 * time.Second)
		if err != nil {
			t.Fatalf("NextMsg() for event %d: %v", ev.Seq, err)
		}
		if want := Subject("svc", paths[i]); m.Subject != want {
			t.Errorf("subject=%q, want %q", m.Subject, want)
		}
		if m.Header.Get(HeaderMsgID) != ev.ID || msgSeq(t, m) != ev.Seq {
			t.Errorf("headers=%v, want %s %s and %s %d", m.Header, HeaderMsgID, ev.ID, HeaderSeq, ev.Seq)
		}
		if string(m.Data) != string(ev.JSON()) {
			t.Errorf("data=%s, want %s", m.Data, ev.JSON())
		}
	}
	waitFor(t, "the outbox to confirm", func() bool { return ob.Sent() == uint64(len(evs)) })
	if lag := ob.Lag(); lag != 0 {
		t.Fatalf("Lag()=%d, want 0", lag)
	}
	if err := ob.Close(t.Context()); err != nil {
		t.Fatalf("Close()=%v", err)
	}
	if seq, err := s.log.cursor(DefaultOutboxName); err != nil || seq != uint64(len(evs)) {
		t.Fatalf("stored cursor=%d, %v, want %d", seq, err, len(evs))
	}
}

// TestOutboxResume: a restarted outbox (and a restarted service) resumes
// after its stored cursor: it sends what it missed and nothing twice.
func TestOutboxResume(t *testing.T) {
	ns := runNATS(t)
	s := newService(t, Options{})
	sub := listen(t, connect(t, ns.ClientURL()))
	pub := connect(t, ns.ClientURL())
	for i := range 5 {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint(i)})
	}
	ob := NewOutbox(s.log, pub, OutboxOptions{})
	done := make(chan error, 1)
	go func() { done <- ob.Run(t.Context()) }()
	waitFor(t, "five events sent", func() bool { return ob.Sent() == 5 })
	if err := ob.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run()=%v", err)
	}
	for range 5 {
		if _, err := sub.NextMsg(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint("b", i)})
	}
	ob2 := runOutbox(t, s.log, pub, OutboxOptions{})
	for want := uint64(6); want <= 10; want++ {
		m, err := sub.NextMsg(30 * time.Second)
		if err != nil || msgSeq(t, m) != want {
			t.Fatalf("NextMsg()=%v, %v, want event %d", m, err, want)
		}
	}
	waitFor(t, "ten events sent", func() bool { return ob2.Sent() == 10 })
	if err := ob2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	s.reopen(t, Options{})
	create(t, s.log, s.set, tags, stash.Record{"id": "after restart"})
	runOutbox(t, s.log, pub, OutboxOptions{})
	m, err := sub.NextMsg(30 * time.Second)
	if err != nil || msgSeq(t, m) != 11 {
		t.Fatalf("NextMsg() after restart=%v, %v, want event 11 only", m, err)
	}
}

// TestOutboxIdleSync: with no commands to carry it, the cursor is stored
// on its own every SyncInterval.
func TestOutboxIdleSync(t *testing.T) {
	ns := runNATS(t)
	s := newService(t, Options{})
	for i := range 3 {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint(i)})
	}
	runOutbox(t, s.log, connect(t, ns.ClientURL()), OutboxOptions{SyncInterval: 5 * time.Millisecond})
	waitFor(t, "the cursor to be stored", func() bool {
		seq, err := s.log.cursor(DefaultOutboxName)
		return err == nil && seq == 3
	})
}

func TestOutboxRunTwiceAndCloseFirst(t *testing.T) {
	ns := runNATS(t)
	s := newService(t, Options{})
	nc := connect(t, ns.ClientURL())
	idle := NewOutbox(s.log, nc, OutboxOptions{})
	if err := idle.Close(t.Context()); err != nil {
		t.Fatalf("Close() before Run=%v", err)
	}
	if err := idle.Run(t.Context()); err != nil {
		t.Fatalf("Run() after Close=%v, want nil at once", err)
	}
	ob := runOutbox(t, s.log, nc, OutboxOptions{})
	waitFor(t, "Run to start", func() bool { return ob.running.Load() })
	if err := ob.Run(t.Context()); !errors.Is(err, ErrOutboxRunning) {
		t.Fatalf("second Run()=%v, want ErrOutboxRunning", err)
	}
}

// TestOutboxOversized: an event larger than the server's max payload is
// sent as its outline, marked as such, so that subscribers still see every
// seq; one whose outline is too large as well is skipped, and the ones
// after it are sent.
func TestOutboxOversized(t *testing.T) {
	opts := bustest.Options(t)
	opts.MaxPayload = 1024
	ns := bustest.Server(t, opts)
	s := newService(t, Options{})
	sub := listen(t, connect(t, ns.ClientURL()))
	big := strings.Repeat("x", 2048)
	create(t, s.log, s.set, tags, stash.Record{"id": "small"})
	ss := s.set.Session()
	if _, err := ss.Create(tags, stash.Record{"id": "big", "blob": big}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.log.Commit(t.Context(), command("POST", tags), 201, ss.Changes(), []Emit{{Type: "big.made", Data: big}}); err != nil {
		t.Fatal(err)
	}
	commit(t, s.log, s.set, tags+"/"+big, func(*stash.Session) error { return nil }) // its path alone is too large
	logged := command("POST", tags)
	logged.Body = json.RawMessage(`"` + big + `"`) // a logged body: left out of the outline too
	if _, err := s.log.Commit(t.Context(), logged, 201, nil, nil); err != nil {
		t.Fatal(err)
	}
	create(t, s.log, s.set, tags, stash.Record{"id": "after"})
	ob := runOutbox(t, s.log, connect(t, ns.ClientURL()), OutboxOptions{})
	for _, want := range []uint64{1, 2, 4, 5} {
		m, err := sub.NextMsg(30 * time.Second)
		if err != nil || msgSeq(t, m) != want {
			t.Fatalf("NextMsg()=%v, %v, want event %d", m, err, want)
		}
		outline := m.Header.Get(HeaderOutline)
		if want == 4 {
			if outline == "" || bytes.Contains(m.Data, []byte(big)) {
				t.Errorf("event 4: %s %q, data %d bytes, want its outline without the body", HeaderOutline, outline, len(m.Data))
			}
			continue
		}
		if want != 2 {
			if outline != "" {
				t.Errorf("event %d: %s %q on an event sent whole", want, HeaderOutline, outline)
			}
			continue
		}
		if n, err := strconv.Atoi(outline); err != nil || n <= 2*len(big) {
			t.Errorf("event 2: %s %q, want the size of the whole event", HeaderOutline, outline)
		}
		ev, err := DecodeEvent(m.Data)
		if err != nil {
			t.Fatalf("the outline is not an event: %v: %s", err, m.Data)
		}
		if bytes.Contains(m.Data, []byte(big)) || len(ev.Changes) != 1 || ev.Changes[0].ID != "big" ||
			ev.Changes[0].Record != nil || len(ev.Events) != 1 || ev.Events[0].Type != "big.made" || ev.Events[0].Data != nil {
			t.Errorf("outline=%s, want the change and the emit without their data", m.Data)
		}
	}
	waitFor(t, "all confirmed", func() bool { return ob.Sent() == 5 })
	if ob.Outlined() != 2 || ob.Skipped() != 1 {
		t.Fatalf("Outlined()=%d Skipped()=%d, want 2 and 1", ob.Outlined(), ob.Skipped())
	}
}

// natsProcess is a nats-server run as a separate process, with JetStream
// storing in dir, so that it can be stopped and started on the same port.
type natsProcess struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

func (p *natsProcess) url() string { return "nats://127.0.0.1:" + strconv.Itoa(p.port) }

func (p *natsProcess) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(p.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(p.port), "-js", "-sd", p.dir)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	waitFor(t, "nats-server to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (p *natsProcess) stop(t *testing.T) {
	t.Helper()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
	p.cmd = nil
}

// buildNATS builds the nats-server binary of the module graph.
func buildNATS(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is needed to build nats-server")
	}
	bin := filepath.Join(t.TempDir(), "nats-server")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		t.Fatalf("go build nats-server: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestOutboxOutage stops the NATS server process while commands go on,
// then starts it again: commands succeed throughout, and every event
// reaches the stream, in order.
func TestOutboxOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a nats-server process")
	}
	p := &natsProcess{bin: buildNATS(t), dir: t.TempDir(), port: freePort(t)}
	p.start(t)
	t.Cleanup(func() { p.stop(t) })

	admin := connect(t, p.url(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	js, err := jetstream.New(admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "EVENTS",
		Subjects: []string{SubjectPrefix + ".>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatalf("CreateStream()=%v", err)
	}
	b, err := bus.Start(bus.Options{Enabled: true, URL: p.url()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	s := newService(t, Options{})
	ob := runOutbox(t, s.log, b.Conn(), OutboxOptions{RetryWait: 10 * time.Millisecond, FlushTimeout: time.Second})

	const n = 10
	for i := range n {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint("up", i)})
	}
	waitFor(t, "events sent before the outage", func() bool { return ob.Sent() == n })
	p.stop(t)
	for i := range n {
		create(t, s.log, s.set, tags, stash.Record{"id": fmt.Sprint("down", i)})
	}
	if s.log.Head() != 2*n || ob.Lag() == 0 {
		t.Fatalf("Head()=%d Lag()=%d during the outage, want %d and a lag", s.log.Head(), ob.Lag(), 2*n)
	}
	p.start(t)
	waitFor(t, "events sent after the outage", func() bool { return ob.Sent() == 2*n })

	reader := connect(t, p.url())
	rjs, err := jetstream.New(reader)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := rjs.Stream(t.Context(), "EVENTS")
	if err != nil {
		t.Fatalf("Stream()=%v", err)
	}
	info, err := stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatalf("GetMsg(%d)=%v", seq, err)
		}
		got, err := strconv.ParseUint(m.Header.Get(HeaderSeq), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if got <= last { // at least once: a repeat is allowed, and dropped
			continue
		}
		if got != last+1 {
			t.Fatalf("stream message %d has event %d after %d: lost or reordered", seq, got, last)
		}
		last = got
	}
	if last != 2*n {
		t.Fatalf("last event in the stream=%d, want %d", last, 2*n)
	}
	_ = os.Remove(p.bin)
}

// TestCursorStore: a cursor is stored by the next round, by a sync of its
// own, or directly once the log is closed; it never goes back.
func TestCursorStore(t *testing.T) {
	s := newService(t, Options{})
	s.log.noteCursor("a", 3)
	create(t, s.log, s.set, tags, stash.Record{"id": "x"})
	if seq, err := s.log.cursor("a"); err != nil || seq != 3 {
		t.Fatalf("cursor(a) after a round=%d, %v, want 3", seq, err)
	}
	if err := s.log.syncCursor(t.Context(), "b", 5); err != nil {
		t.Fatalf("syncCursor()=%v", err)
	}
	s.log.noteCursor("b", 4)
	if err := s.log.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.log.syncCursor(t.Context(), "c", 9); err != nil {
		t.Fatalf("syncCursor() after Close=%v", err)
	}
	for name, want := range map[string]uint64{"a": 3, "b": 5, "c": 9} {
		if seq, err := s.log.cursor(name); err != nil || seq != want {
			t.Fatalf("cursor(%s)=%d, %v, want %d", name, seq, err, want)
		}
		if got := s.log.storedCursor(name); got != want {
			t.Fatalf("storedCursor(%s)=%d, want %d", name, got, want)
		}
	}
}

// TestOutboxPermissionDenied: an event the server refuses to take from the
// outbox's user (a publish permission) is counted and logged as skipped,
// like one it can never take, and not passed over in silence as if sent.
func TestOutboxPermissionDenied(t *testing.T) {
	opts := bustest.Options(t)
	opts.Users = []*server.User{
		{Username: "pub", Password: "pub", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{Subject("test", "/secret")}}}},
		{Username: "sub", Password: "sub"},
	}
	ns := bustest.Server(t, opts)
	s := newService(t, Options{})
	sub := listen(t, connect(t, ns.ClientURL(), nats.UserInfo("sub", "sub")))
	for _, p := range []string{"/open", "/secret", "/open"} {
		commit(t, s.log, s.set, p, func(*stash.Session) error { return nil })
	}
	var logs syncbuf.Buffer
	ob := runOutbox(t, s.log, connect(t, ns.ClientURL(), nats.UserInfo("pub", "pub"),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})), OutboxOptions{Logger: textLogger(&logs)})
	waitFor(t, "all confirmed", func() bool { return ob.Sent() == 3 })
	if ob.Skipped() != 1 || !strings.Contains(logs.String(), "seq=2") || !strings.Contains(logs.String(), "Permissions Violation") {
		t.Fatalf("Skipped()=%d, want 1, and the log to name event 2 and the refusal:\n%s", ob.Skipped(), logs.String())
	}
	var last uint64
	for last < 3 {
		m, err := sub.NextMsg(30 * time.Second)
		if err != nil {
			t.Fatalf("NextMsg()=%v after event %d", err, last)
		}
		last = msgSeq(t, m)
		if last == 2 {
			t.Fatal("event 2 arrived on a subject the outbox may not publish on")
		}
	}
}
