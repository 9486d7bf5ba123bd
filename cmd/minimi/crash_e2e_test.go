package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestCrashLosesNoAcknowledgedCommand runs many concurrent commands, kills
// the process with SIGKILL right after the last reply, restarts it and
// checks that every acknowledged record and event is there, with the log's
// seq gap-free, and that GETs and failed commands left no event.
func TestCrashLosesNoAcknowledgedCommand(t *testing.T) {
	dir := copyTree(t, "testdata/stash")
	p := startServe(t, dir)

	const workers, each = 32, 8
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				req, _ := newRequest("POST", p.base+"/notes", fmt.Sprintf(`{"title":"w%d-%d","owner":"o%d"}`, w, i, w%4))
				r := send(t, req)
				if r.status != 201 {
					t.Errorf("POST status %d: %s", r.status, r.body)
					return
				}
				var rec map[string]any
				_ = json.Unmarshal(r.body, &rec)
				mu.Lock()
				acked = append(acked, rec["id"].(string))
				mu.Unlock()
			}
		}()
	}
	// Queries and failed commands run alongside; neither may leave an event.
	for range 20 {
		do(t, "GET", p.base+"/notes", "", "")
		do(t, "POST", p.base+"/notes?fail=1", jsonType, `{"title":"ghost"}`)
	}
	wg.Wait()
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no flush
		t.Fatal(err)
	}
	<-p.done

	p = startServe(t, dir)
	for _, id := range acked {
		if r := do(t, "GET", p.base+"/notes/"+id, "", ""); r.status != 200 {
			t.Errorf("acknowledged note %s after the crash: %d", id, r.status)
		}
	}
	r := do(t, "GET", p.base+"/notes?limit=1000", "", "")
	if got := r.json(t)["count"]; got != float64(len(acked)+1) { // + the seeded note
		t.Errorf("count=%v after the crash, want %d", got, len(acked)+1)
	}
	p.stop(t)

	// The log: seq 1..N without a gap, one event per acknowledged command
	// (plus the install), none for the GETs or the failed commands.
	out, err := exec.Command(binary, "events", "--dir", dir).Output()
	if err != nil {
		t.Fatalf("minimi events: %v", err)
	}
	var seqs []uint64
	created := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Seq     uint64                  `json:"seq"`
			Command struct{ Method string } `json:"command"`
			Changes []struct {
				Op, Stash, ID string
			} `json:"changes"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("event line %q: %v", sc.Bytes(), err)
		}
		seqs = append(seqs, ev.Seq)
		for _, ch := range ev.Changes {
			if ch.Stash == "/notes" && ch.Op == "create" {
				created[ch.ID] = true
			}
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("seq %d at position %d: the log has a gap or a duplicate", s, i)
		}
	}
	if want := len(acked) + 1; len(seqs) != want {
		t.Errorf("%d events, want %d (one per acknowledged command, plus the install)", len(seqs), want)
	}
	for _, id := range acked {
		if !created[id] {
			t.Errorf("no event creates acknowledged note %s", id)
		}
	}
}

// TestReplayGivesTheSameRecords rebuilds every stash from the log of a
// served service and compares every record before and after.
func TestReplayGivesTheSameRecords(t *testing.T) {
	dir := copyTree(t, "testdata/stash")
	p := startServe(t, dir)
	for i := range 20 {
		do(t, "POST", p.base+"/notes", jsonType, fmt.Sprintf(`{"title":"n%d","stars":%d}`, i, i))
	}
	do(t, "POST", p.base+"/users", jsonType, `{"email":"r@example.com","password":"long enough"}`)
	do(t, "POST", p.base+"/archive", jsonType, `{"what":"x"}`)
	first := do(t, "GET", p.base+"/notes?limit=100", "", "").json(t)["items"].([]any)
	do(t, "PATCH", p.base+"/notes/"+first[3].(map[string]any)["id"].(string), jsonType, `{"stars":99}`)
	do(t, "DELETE", p.base+"/notes/"+first[5].(map[string]any)["id"].(string), "", "")
	paths := []string{"/notes?limit=100", "/users?hidden=1", "/archive"}
	before := map[string]string{}
	for _, path := range paths {
		before[path] = string(do(t, "GET", p.base+path, "", "").body)
	}
	p.stop(t)
	if out, err := exec.Command(binary, "replay", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("minimi replay: %v\n%s", err, out)
	}
	p = startServe(t, dir)
	for _, path := range paths {
		if got := string(do(t, "GET", p.base+path, "", "").body); got != before[path] {
			t.Errorf("GET %s after replay:\n%s\nwant\n%s", path, got, before[path])
		}
	}
}

// TestShutdownEndsEventStreams checks that an open /_minimi/events stream
// does not hold SIGTERM up: the process exits 0 at once, and the stream's
// reply ends as a reply does, not as a cut connection.
func TestShutdownEndsEventStreams(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/stash"))
	resp, err := http.Get(p.base + "/_minimi/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := resp.Body.Read(make([]byte, 64)); err != nil { // the stream is open: the install's event
		t.Fatal(err)
	}
	rest := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		rest <- err
	}()
	t.Logf("stopped %v after SIGTERM", p.termAndWait(t, 8*time.Second).Round(time.Millisecond))
	select {
	case err := <-rest:
		if err != nil {
			t.Errorf("the stream after SIGTERM: %v, want its end", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the stream did not end after SIGTERM")
	}
}

// TestShutdownEndsStalledEventStreams: a stream whose client reads nothing,
// so that the server's writes block once the connection's buffers are full,
// does not hold SIGTERM up for the shutdown grace either.
func TestShutdownEndsStalledEventStreams(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	if err := os.MkdirAll(filepath.Join(dir, "endpoints/big"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "endpoints/big/big.execute.lua"),
		`return { POST = function(req, res) emit("big", { s = string.rep("x", 1000000) }) res:status(204) end }`)
	p := startServe(t, dir)
	for range 16 { // more than the connection's buffers hold
		if r := do(t, "POST", p.base+"/big", "", ""); r.status != 204 {
			t.Fatalf("POST /big=%d %s", r.status, r.body)
		}
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	for range 3 {
		conn, err := d.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /_minimi/events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second) // the streams fill their connections and block
	t.Logf("stopped %v after SIGTERM", p.termAndWait(t, 5*time.Second).Round(time.Millisecond))
	if logs := p.logs.String(); strings.Contains(logs, "cut off") {
		t.Errorf("the stalled streams were cut off at the end of the grace\n%s", logs)
	}
}

// TestShutdownWithNATSDown: SIGTERM while NATS is unreachable and the outbox
// is behind stops in bounded time, exits 0 and says how many events wait to
// be published at the next start.
func TestShutdownWithNATSDown(t *testing.T) {
	ns, env := natsForServe(t)
	p := startServeArgs(t, copyTree(t, "testdata/stash"), nil, env...)
	if r := do(t, "POST", p.base+"/notes", jsonType, `{"title":"sent"}`); r.status != 201 {
		t.Fatalf("POST /notes=%d %s", r.status, r.body)
	}
	eventually(t, "the outbox caught up", func() string {
		if lag, ok := metricValue(scrape(t, p.base), "minimi_outbox_lag_events"); !ok || lag != 0 {
			return fmt.Sprintf("minimi_outbox_lag_events=%v (%v), want 0", lag, ok)
		}
		return ""
	})
	ns.Shutdown()
	ns.WaitForShutdown()
	for range 3 {
		if r := do(t, "POST", p.base+"/notes", jsonType, `{"title":"held"}`); r.status != 201 {
			t.Fatalf("POST /notes with NATS down=%d %s", r.status, r.body)
		}
	}
	t.Logf("stopped %v after SIGTERM", p.termAndWait(t, 15*time.Second).Round(time.Millisecond))
	p.wantLog(t, `"level":"WARN","msg":"outbox not flushed: the events left are published at the next start"`,
		`"events":3`, `"msg":"stopped"`)
}

// TestShutdownCutsOffNATSRequests: a request over NATS that outlasts the
// shutdown grace is cut off, the log says so, and the stop exits 0. It takes
// the grace's 10 seconds.
func TestShutdownCutsOffNATSRequests(t *testing.T) {
	ns, env := natsForServe(t)
	dir := copyTree(t, "testdata/service")
	write(t, filepath.Join(dir, "config.json"), `{"name": "slow", "limits": {"script_ms": 60000, "request_ms": 60000}}`)
	write(t, filepath.Join(dir, "endpoints/spin/spin.execute.lua"),
		`return { GET = function(req, res) log.info("spinning") while true do end end }`)
	p := startServeArgs(t, dir, nil, env...)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go func() { _, _ = nc.Request("minimi.rpc.slow.spin", nil, 30*time.Second) }()
	p.waitLog(t, `"msg":"spinning"`)
	p.termAndWait(t, 20*time.Second)
	p.wantLog(t, `"level":"WARN","msg":"shutdown grace ran out: the requests over NATS in flight are cut off"`, `"msg":"stopped"`)
	logs := p.logs.String()
	if cut, stopped := strings.Index(logs, `"path":"/spin"`), strings.Index(logs, `"msg":"stopped"`); cut < 0 || cut > stopped {
		t.Errorf("the request cut off was not logged before the stop ended (at %d, stopped at %d)\n%s", cut, stopped, logs)
	}
}

// termAndWait sends SIGTERM and waits up to within for a clean exit; it
// returns how long the stop took.
func (p *proc) termAndWait(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit=%v, want 0\n%s", err, p.logs)
		}
	case <-time.After(within):
		t.Fatalf("no exit within %v of SIGTERM\n%s", within, p.logs)
	}
	return time.Since(start)
}

// wantLog checks that the process's log holds each of wants.
func (p *proc) wantLog(t *testing.T, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(p.logs.String(), want) {
			t.Errorf("the log lacks %s\n%s", want, p.logs)
		}
	}
}

// TestBackupOnSignal: SIGUSR1 makes a running service write a copy of its
// store files into data_dir/backups/<time>, and a service started on that
// copy has the records written before the signal and not those after it.
func TestBackupOnSignal(t *testing.T) {
	dir := copyTree(t, "testdata/stash")
	p := startServe(t, dir)
	idOf := func(r reply) string {
		var rec struct{ ID string }
		if r.status != 201 || json.Unmarshal(r.body, &rec) != nil || rec.ID == "" {
			t.Fatalf("POST /notes=%d %s", r.status, r.body)
		}
		return rec.ID
	}
	kept := idOf(do(t, "POST", p.base+"/notes", jsonType, `{"title":"kept"}`))
	idOf(do(t, "POST", p.base+"/archive", jsonType, `{"what":"archived"}`)) // archive.db, a store of its own
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, `"msg":"backup written"`)
	later := idOf(do(t, "POST", p.base+"/notes", jsonType, `{"title":"later"}`))
	idOf(do(t, "POST", p.base+"/archive", jsonType, `{"what":"archived later"}`))
	p.stop(t)

	copies, err := filepath.Glob(filepath.Join(dir, "data", "backups", "*"))
	if err != nil || len(copies) != 1 || strings.HasSuffix(copies[0], ".partial") {
		t.Fatalf("backups: %q %v, want one finished copy", copies, err)
	}
	restored := t.TempDir() // a copy of the backup, as docs/operations.md says to restore
	copyInto(t, copies[0], restored)
	q := startServe(t, dir, "MINIMI_DATA_DIR="+restored)
	if r := do(t, "GET", q.base+"/notes/"+kept, "", ""); r.status != 200 || !strings.Contains(string(r.body), `"kept"`) {
		t.Errorf("the copy: GET the note written before the signal=%d %s, want it", r.status, r.body)
	}
	if r := do(t, "GET", q.base+"/notes/"+later, "", ""); r.status != 404 {
		t.Errorf("the copy: GET the note written after the signal=%d %s, want 404", r.status, r.body)
	}
	if r := do(t, "GET", q.base+"/archive", "", ""); r.status != 200 || !strings.Contains(string(r.body), `"archived"`) ||
		strings.Contains(string(r.body), "archived later") {
		t.Errorf("the copy: GET /archive=%d %s, want the record written before the signal only", r.status, r.body)
	}
}
