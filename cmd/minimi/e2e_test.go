package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/syncbuf"
)

// binary is the minimi binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "minimi-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "minimi")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", binary, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build minimi:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `minimi serve`.
type proc struct {
	cmd  *exec.Cmd
	base string
	logs *syncbuf.Buffer
	done chan error
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

// copyTree copies a testdata service into a fresh temp dir, so that a test
// that writes (data_dir) never touches the source tree.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	copyInto(t, src, dst)
	return dst
}

// startServe runs `minimi serve` on dir and waits until it answers.
func startServe(t *testing.T, dir string, env ...string) *proc {
	t.Helper()
	return startServeArgs(t, dir, nil, env...)
}

// startServeArgs is startServe with extra serve flags.
func startServeArgs(t *testing.T, dir string, args []string, env ...string) *proc {
	t.Helper()
	p := spawnServe(t, dir, args, env...)
	p.waitServing(t)
	return p
}

// spawnServe runs `minimi serve` on dir, without waiting for it to answer.
func spawnServe(t *testing.T, dir string, args []string, env ...string) *proc {
	t.Helper()
	port := freePort(t)
	p := &proc{logs: &syncbuf.Buffer{}, done: make(chan error, 1), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	p.cmd = exec.Command(binary, append([]string{"serve", "--dir", dir, "--port", fmt.Sprint(port)}, args...)...)
	p.cmd.Env = append(append(os.Environ(), "MINIMI_NATS_ENABLED=false"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// waitServing waits until p answers.
func (p *proc) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("minimi serve exited early: %v\n%s", err, p.logs)
		default:
		}
		if resp, err := http.Get(p.base + "/_minimi/health"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("minimi serve did not answer\n%s", p.logs)
}

// waitLog waits until the process's log holds want: log lines are written
// in batches, up to 100ms after the request that made them.
func (p *proc) waitLog(t *testing.T, want string) {
	t.Helper()
	eventually(t, "log line "+strconv.Quote(want), func() string {
		if !strings.Contains(p.logs.String(), want) {
			return "not in the log:\n" + p.logs.String()
		}
		return ""
	})
}

// stop sends SIGTERM and waits; it fails the test unless the exit is clean.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("minimi serve exit: %v\n%s", err, p.logs)
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("minimi serve did not stop on SIGTERM\n%s", p.logs)
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func do(t *testing.T, method, url, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return send(t, req)
}

// newRequest is a request with a JSON body.
func newRequest(method, url, body string) (*http.Request, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err == nil && body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, err
}

func send(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func TestServeEndToEnd(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/service"))
	u := p.base
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		check                           func(t *testing.T, r reply)
	}{
		{name: "phase order across ancestors", method: "GET", path: "/order/inner", status: 200, check: func(t *testing.T, r reply) {
			want := "load / > load /order > access / > access /order/inner > execute /order"
			if got := r.json(t)["joined"]; got != want {
				t.Errorf("trace=%q, want %q", got, want)
			}
		}},
		{name: "group folder processors run", method: "GET", path: "/panel", status: 200, check: func(t *testing.T, r reply) {
			if got := fmt.Sprint(r.json(t)["trace"]); got != "[load / load (admin) access /]" {
				t.Errorf("trace=%s", got)
			}
		}},
		{name: "params and query", method: "GET", path: "/items/42?sort=asc&sort=desc", status: 200, check: func(t *testing.T, r reply) {
			m := r.json(t)
			if m["id"] != "42" || m["sort"] != "asc" {
				t.Errorf("got %v, want id=42 sort=asc", m)
			}
		}},
		{name: "trailing slash", method: "GET", path: "/items/42/", status: 200},
		{name: "params decoded once", method: "GET", path: "/items/a%2Fb%40c%2525", status: 200, check: jsonField("id", "a/b@c%25")},
		{name: "dot segments resolved", method: "GET", path: "/nope/../items//42", status: 200, check: jsonField("id", "42")},
		{name: "escaped dot segment refused", method: "GET", path: "/items/%2E%2E", status: 400, check: isProblem(400)},
		{name: "404 no folder", method: "GET", path: "/nope", status: 404, check: isProblem(404)},
		{name: "404 folder without handler", method: "GET", path: "/items", status: 404, check: isProblem(404)},
		{name: "405 with Allow", method: "POST", path: "/items/1", status: 405, check: func(t *testing.T, r reply) {
			isProblem(405)(t, r)
			if got := r.header.Get("Allow"); got != "DELETE, GET, HEAD, OPTIONS" {
				t.Errorf("Allow=%q", got)
			}
		}},
		{name: "unknown method is 405 with Allow", method: "PURGE", path: "/items/1", status: 405, check: func(t *testing.T, r reply) {
			isProblem(405)(t, r)
			wantHeader(t, r, "Allow", "DELETE, GET, HEAD, OPTIONS")
		}},
		{name: "unknown method on no URL is 404", method: "PROPFIND", path: "/nope", status: 404, check: isProblem(404)},
		{name: "OPTIONS", method: "OPTIONS", path: "/items/1", status: 204, check: func(t *testing.T, r reply) {
			if got := r.header.Get("Allow"); got != "DELETE, GET, HEAD, OPTIONS" {
				t.Errorf("Allow=%q", got)
			}
		}},
		{name: "HEAD answers like GET without a body", method: "HEAD", path: "/items/7", status: 200},
		{name: "lua error is a 500 that hides the message", method: "GET", path: "/boom", status: 500, check: func(t *testing.T, r reply) {
			isProblem(500)(t, r)
			if bytes.Contains(r.body, []byte("secret")) || bytes.Contains(r.body, []byte("boom.execute.lua")) {
				t.Errorf("500 leaks the Lua message: %s", r.body)
			}
		}},
		{name: "error{status=409}", method: "POST", path: "/conflict", status: 409, check: func(t *testing.T, r reply) {
			if m := r.json(t); m["detail"] != "already taken" || m["title"] != "Conflict" {
				t.Errorf("got %v", m)
			}
		}},
		{name: "json body and endpoint config", method: "POST", path: "/echo", ctype: "application/json", body: `{"a":[1,2]}`, status: 201, check: func(t *testing.T, r reply) {
			m := r.json(t)
			if fmt.Sprint(m["body"]) != "map[a:[1 2]]" || m["greeting"] != "hi" {
				t.Errorf("got %v", m)
			}
		}},
		{name: "malformed json is 400", method: "POST", path: "/echo", ctype: "application/json", body: `{"a":`, status: 400, check: isProblem(400)},
		{name: "deeply nested json is 400", method: "POST", path: "/echo", ctype: "application/json", body: strings.Repeat("[", 500), status: 400, check: isProblem(400)},
		{name: "body over the limit is 413", method: "POST", path: "/echo", ctype: "application/json", body: `{"a":"` + strings.Repeat("x", 2000) + `"}`, status: 413, check: isProblem(413)},
		{name: "sandbox", method: "GET", path: "/sandbox", status: 200, check: func(t *testing.T, r reply) {
			for k, v := range r.json(t) {
				if v != true {
					t.Errorf("%s is reachable from Lua", k)
				}
			}
		}},
		{name: "routes built-in", method: "GET", path: "/_minimi/routes", status: 200},
		{name: "ready built-in", method: "GET", path: "/_minimi/ready", status: 200},
		{name: "events: a bad after is a problem", method: "GET", path: "/_minimi/events?after=abc", status: 400, check: isProblem(400)},
		{name: "events: a negative after is a problem", method: "GET", path: "/_minimi/events?after=-1", status: 400, check: isProblem(400)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, u+tc.path, tc.ctype, tc.body)
			if r.status != tc.status {
				t.Fatalf("%s %s status=%d, want %d; body %s", tc.method, tc.path, r.status, tc.status, r.body)
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id on the reply")
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	p.waitLog(t, "endpoints/boom/boom.execute.lua:3") // the file:line of the 500
}

func isProblem(status int) func(t *testing.T, r reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("Content-Type=%q, want application/problem+json", ct)
		}
		m := r.json(t)
		for _, k := range []string{"type", "title", "status", "request_id"} {
			if _, ok := m[k]; !ok {
				t.Errorf("problem lacks %q: %s", k, r.body)
			}
		}
		if int(m["status"].(float64)) != status {
			t.Errorf("problem status=%v, want %d", m["status"], status)
		}
	}
}

func TestServeScriptBudget(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/service"))
	start := time.Now()
	r := do(t, "GET", p.base+"/spin", "", "")
	elapsed := time.Since(start)
	if r.status != 503 {
		t.Fatalf("spin status=%d, want 503; %s", r.status, r.body)
	}
	// The budget is 200ms; allow generous slack for a loaded machine, but a
	// runaway script must not hold the request for the 10s request limit.
	if elapsed > 5*time.Second {
		t.Errorf("spin answered after %v, want soon after the 200ms budget", elapsed)
	}
	if r := do(t, "GET", p.base+"/items/1", "", ""); r.status != 200 {
		t.Errorf("next request status=%d, want 200", r.status)
	}
}

func TestServeRequestID(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/service"))
	req, _ := http.NewRequest("GET", p.base+"/nope", nil)
	req.Header.Set("X-Request-Id", "trace-abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.Header.Get("X-Request-Id") != "trace-abc" || m["request_id"] != "trace-abc" {
		t.Errorf("request id echoed as %q / %v, want trace-abc", resp.Header.Get("X-Request-Id"), m["request_id"])
	}
}

// TestServeRefusesToStart checks that a bad config or script stops start-up
// with a message naming the key or file:line.
func TestServeRefusesToStart(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(t *testing.T, dir string)
		wants []string
	}{
		{"unknown config key", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "config.json"), `{"prot": 3000}`)
		}, []string{`unknown key "prot"`}},
		{"unknown environment variable", func(t *testing.T, dir string) {
			t.Setenv("MINIMI_NATS_ENABLE", "false")
		}, []string{"unknown environment variable MINIMI_NATS_ENABLE"}},
		{"wrong config type", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "config.json"), `{"limits": {"script_ms": "fast"}}`)
		}, []string{"limits.script_ms"}},
		{"lua syntax error", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "endpoints/boom/boom.execute.lua"), "return {\n GET = function(req, res)\n  res:json({)\n end }")
		}, []string{"endpoints/boom/boom.execute.lua:3"}},
		{"endless top level", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "endpoints/boom/boom.execute.lua"), "local n = 0\nwhile true do n = n + 1 end\nreturn {}")
		}, []string{"endpoints/boom/boom.execute.lua:2", "top level ran past limits.script_ms (200ms)"}},
		{"no endpoints folder", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "endpoints")); err != nil {
				t.Fatal(err)
			}
		}, []string{"no endpoints folder in ", "--dir"}},
		{"misnamed processor", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "endpoints/boom/boom.lod.lua"), "return {}")
		}, []string{"endpoints/boom/boom.lod.lua"}},
		{"misplaced schema keywords", func(t *testing.T, dir string) {
			mkdir(t, filepath.Join(dir, "endpoints/nh"))
			write(t, filepath.Join(dir, "endpoints/nh/nh.schema.json"), `{"schema": {"type": "object", "properties": {
  "pin": {"type": "integer", "x-hash": true},
  "creds": {"type": "object", "properties": {"pw": {"type": "string", "x-hash": true, "x-hidden": true}}}}}}`)
		}, []string{
			"endpoints/nh/nh.schema.json: invalid schema: /schema/properties/creds/properties/pw: x-hash applies to top-level properties only",
			"/schema/properties/creds/properties/pw: x-hidden applies to top-level properties only",
			"/schema/properties/pin: x-hash needs",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, "testdata/service")
			tc.edit(t, dir)
			serve := exec.Command(binary, "serve", "--dir", dir, "--port", fmt.Sprint(freePort(t)))
			serve.Env = append(os.Environ(), "MINIMI_NATS_ENABLED=false") // no fixed NATS port to collide on
			out, err := serve.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("serve exit=%v, want a non-zero exit; output:\n%s", err, out)
			}
			for _, w := range tc.wants {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			out, err = exec.Command(binary, "check", "--dir", dir).CombinedOutput()
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("check exit=%v, want 1", err)
			}
			for _, w := range tc.wants {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("check output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestServePortInUse: a second service on a port another process holds
// stops at once, and says which setting to change.
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	serve := exec.Command(binary, "serve", "--dir", copyTree(t, "testdata/service"), "--port", fmt.Sprint(port))
	serve.Env = append(os.Environ(), "MINIMI_NATS_ENABLED=false")
	out, err := serve.CombinedOutput()
	want := "address already in use (another MiniMi service?): give this service another port (--port or MINIMI_PORT, 0 for any free port)"
	if err == nil || !bytes.Contains(out, []byte(want)) {
		t.Errorf("serve on a port in use: %v, output:\n%s\nwant it to say %q", err, out, want)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeGracefulShutdown sends SIGTERM while a request is in flight: the
// request completes and the process exits 0.
func TestServeGracefulShutdown(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	write(t, filepath.Join(dir, "endpoints/spin/spin.execute.lua"),
		`return { GET = function(req, res) local t = time.ms() while time.ms() - t < 150 do end res:send("done") end }`)
	p := startServe(t, dir)
	got := make(chan reply, 1)
	go func() {
		resp, err := http.Get(p.base + "/spin")
		if err != nil {
			got <- reply{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- reply{status: resp.StatusCode, body: b}
	}()
	time.Sleep(50 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	r := <-got
	if r.status != 200 || string(r.body) != "done" {
		t.Errorf("in-flight request got %d %q, want 200 done", r.status, r.body)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit=%v, want 0\n%s", err, p.logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if logs := p.logs.String(); !strings.Contains(logs, `"msg":"stopping","component":"http","requests":`) {
		t.Errorf("no stopping line with the requests in flight\n%s", logs)
	}
}

// TestServeStoppedIsLast: "stopped" is the last log line of a clean stop,
// after the embedded NATS server and the stores have closed.
func TestServeStoppedIsLast(t *testing.T) {
	p := startServeArgs(t, copyTree(t, "testdata/service"), nil, "MINIMI_NATS_ENABLED=true", "MINIMI_NATS_PORT=-1")
	p.stop(t)
	lines := strings.Split(strings.TrimSpace(p.logs.String()), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last["msg"] != "stopped" {
		t.Errorf("last log line %q (%v), want msg stopped\n%s", lines[len(lines)-1], err, p.logs)
	}
	if !strings.Contains(p.logs.String(), "Server Exiting") {
		t.Errorf("no line from the embedded NATS server's shutdown: the test would prove nothing\n%s", p.logs)
	}
}

func TestRoutesAndVersion(t *testing.T) {
	out, err := exec.Command(binary, "routes", "--dir", "testdata/service").CombinedOutput()
	if err != nil {
		t.Fatalf("routes: %v\n%s", err, out)
	}
	for _, w := range []string{"/items/[id]", "DELETE,GET,HEAD,OPTIONS", "endpoints/order/order.load.lua", "/panel"} {
		if !bytes.Contains(out, []byte(w)) {
			t.Errorf("routes output lacks %q:\n%s", w, out)
		}
	}
	out, err = exec.Command(binary, "version").CombinedOutput()
	if err != nil || !bytes.HasPrefix(out, []byte("minimi ")) {
		t.Errorf("version=%q %v", out, err)
	}
}
