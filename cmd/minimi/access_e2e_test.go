package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The keys of testdata/access/config.json, whose SHA-256 sums it holds.
const (
	webKey    = "web-key-for-tests"
	adminKey  = "admin-key-for-tests"
	remoteKey = "remote-key-for-tests"
	appOrigin = "https://app.example.com"
)

// call sends a request with a client key (when not empty) and extra headers
// given as name, value pairs.
func call(t *testing.T, method, url, key, body string, headers ...string) reply {
	t.Helper()
	req, err := newRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-Client-Key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, req)
}

func TestAccessEndToEnd(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/access"))
	u := p.base
	tests := []struct {
		name         string
		method, path string
		key          string
		headers      []string
		status       int
		check        func(t *testing.T, r reply)
	}{
		{name: "no key is 401", method: "GET", path: "/whoami", status: 401, check: isProblem(401)},
		{name: "unknown key is 401", method: "GET", path: "/whoami", key: "guess", status: 401, check: isProblem(401)},
		{name: "the hash is not the key", method: "GET", path: "/whoami",
			key: "650b35e962d49b6d582e2e5d5fe3291db868bd3b62730dc12e8d66647562444d", status: 401, check: isProblem(401)},
		{name: "address outside the client's cidrs is 403", method: "GET", path: "/whoami", key: remoteKey, status: 403, check: isProblem(403)},
		{name: "forwarded-for does not help", method: "GET", path: "/whoami", key: remoteKey,
			headers: []string{"X-Forwarded-For", "10.1.2.3"}, status: 403, check: isProblem(403)},
		{name: "req.client", method: "GET", path: "/whoami", key: webKey, status: 200, check: jsonField("client", "web")},
		{name: "req.client in a command", method: "POST", path: "/whoami", key: adminKey, status: 200, check: jsonField("client", "admin")},
		{name: "endpoint keeps other clients out", method: "GET", path: "/admin", key: webKey, status: 403, check: isProblem(403)},
		{name: "and its subtree", method: "GET", path: "/admin/panel", key: webKey, status: 403, check: isProblem(403)},
		{name: "endpoint lets its client in", method: "GET", path: "/admin", key: adminKey, status: 200, check: jsonField("client", "admin")},
		{name: "and into its subtree", method: "GET", path: "/admin/panel", key: adminKey, status: 200, check: jsonField("area", "admin/panel")},
		{name: "unlisted origin is 403 even with a key", method: "GET", path: "/whoami", key: webKey,
			headers: []string{"Origin", "https://evil.example.com"}, status: 403, check: isProblem(403)},
		{name: "listed origin gets CORS headers", method: "GET", path: "/whoami", key: webKey,
			headers: []string{"Origin", appOrigin}, status: 200, check: func(t *testing.T, r reply) {
				wantHeader(t, r, "Access-Control-Allow-Origin", appOrigin)
				wantHeader(t, r, "Access-Control-Expose-Headers", "X-Request-Id")
			}},
		{name: "preflight is answered without a key", method: "OPTIONS", path: "/whoami",
			headers: []string{"Origin", appOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-client-key, content-type"},
			status:  204, check: func(t *testing.T, r reply) {
				wantHeader(t, r, "Access-Control-Allow-Origin", appOrigin)
				wantHeader(t, r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS, POST")
				wantHeader(t, r, "Access-Control-Allow-Headers", "x-client-key, content-type")
				if r.header.Get("Access-Control-Max-Age") == "" || !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
					t.Errorf("preflight lacks Max-Age or Vary: Origin: %v", r.header)
				}
			}},
		{name: "preflight from an unlisted origin is 403", method: "OPTIONS", path: "/whoami",
			headers: []string{"Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST"}, status: 403, check: isProblem(403)},
		{name: "health needs no key", method: "GET", path: "/_minimi/health", status: 200},
		{name: "routes need a key", method: "GET", path: "/_minimi/routes", status: 401, check: isProblem(401)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, u+tc.path, tc.key, "", tc.headers...)
			if r.status != tc.status {
				t.Fatalf("%s %s status=%d, want %d; body %s", tc.method, tc.path, r.status, tc.status, r.body)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestOpenPathsAsSent: the paths open without a key are matched as sent.
// /_minimi%2Fhealth decodes to /_minimi/health but routes to a root [any]
// folder, so it needs a key like any other endpoint.
// TestEventsURLRefused: events --url against a service with client keys
// says why the stream was refused, and, without a key, where it goes.
func TestEventsURLRefused(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/access"))
	for _, tc := range []struct{ key, want string }{
		{"", "401 Unauthorized: send a client key in the X-Client-Key header (events --url sends the client key in $MINIMI_CLIENT_KEY)"},
		{"guess", "401 Unauthorized: the client key is not known\n"},
	} {
		cmd := exec.Command(binary, "events", "--url", p.base)
		cmd.Env = append(os.Environ(), "MINIMI_CLIENT_KEY="+tc.key)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("events --url with key %q: %v, output %q, want it to say %q", tc.key, err, out, tc.want)
		}
	}
}

func TestOpenPathsAsSent(t *testing.T) {
	dir := copyTree(t, "testdata/access")
	mkdir(t, filepath.Join(dir, "endpoints/[any]"))
	write(t, filepath.Join(dir, "endpoints/[any]/[any].execute.lua"), `return { GET = function(req, res) res:json({ any = req.params.any }) end }`)
	p := startServe(t, dir)
	for _, path := range []string{"/_minimi%2Fhealth", "/_minimi%2fready", "/_minimi%2Fhealth/"} {
		if r := call(t, "GET", p.base+path, "", ""); r.status != 401 {
			t.Errorf("GET %s without a key=%d, want 401; body %s", path, r.status, r.body)
		}
	}
	if r := call(t, "GET", p.base+"/_minimi%2Fhealth", webKey, ""); r.status != 200 || r.json(t)["any"] != "_minimi/health" {
		t.Errorf("GET /_minimi%%2Fhealth with a key=%d %s, want 200 from [any]", r.status, r.body)
	}
	if r := call(t, "GET", p.base+"/_minimi/health", "", ""); r.status != 200 {
		t.Errorf("GET /_minimi/health without a key=%d, want 200", r.status)
	}
}

func jsonField(key, want string) func(t *testing.T, r reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		if got := r.json(t)[key]; got != want {
			t.Errorf("%s=%v, want %q; body %s", key, got, want, r.body)
		}
	}
}

func wantHeader(t *testing.T, r reply, name, want string) {
	t.Helper()
	if got := r.header.Get(name); got != want {
		t.Errorf("%s=%q, want %q", name, got, want)
	}
}

func TestAuthEndToEnd(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/access"))
	sign := func(t *testing.T, ttl string) string {
		t.Helper()
		r := call(t, "POST", p.base+"/token", webKey, `{"claims": {"sub": "ada", "role": "editor"}, "ttl": `+ttl+`}`)
		tok, _ := r.json(t)["token"].(string)
		if r.status != 200 || strings.Count(tok, ".") != 2 {
			t.Fatalf("sign status=%d body %s, want 200 and a token", r.status, r.body)
		}
		return tok
	}
	check := func(t *testing.T, tok string) reply {
		t.Helper()
		return call(t, "POST", p.base+"/token/check", webKey, "", "Authorization", "Bearer "+tok)
	}
	t.Run("round trip", func(t *testing.T) {
		r := check(t, sign(t, "60"))
		if m := r.json(t); r.status != 200 || m["sub"] != "ada" || m["role"] != "editor" {
			t.Errorf("check=%d %s, want the claims", r.status, r.body)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		tok := sign(t, "60")
		r := check(t, tok[:len(tok)-2]+"AA")
		if r.status != 401 || r.json(t)["detail"] != "token invalid" {
			t.Errorf("tampered token: %d %s, want 401 token invalid", r.status, r.body)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		tok := sign(t, "1")
		eventually(t, "a token signed for 1 second never expired", func() string {
			r := check(t, tok)
			if r.status == 401 && r.json(t)["detail"] == "token expired" {
				return ""
			}
			return string(r.body)
		})
	})
	t.Run("hash is never the plain value", func(t *testing.T) {
		r := call(t, "POST", p.base+"/password", webKey, `{"password": "correct horse battery"}`)
		m := r.json(t)
		hash, _ := m["hash"].(string)
		if r.status != 200 || m["same"] != false || m["verified"] != true || m["wrong"] != false ||
			!strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "correct horse") {
			t.Errorf("password=%d %s, want an argon2id hash that verifies only the password", r.status, r.body)
		}
	})
}

// TestSandboxLimitsEndToEnd runs scripts that would take the server's memory
// or stack: each is stopped with a clear error and the server goes on serving.
func TestSandboxLimitsEndToEnd(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/access"), "GOMEMLIMIT=128MiB")
	tests := []struct {
		path   string
		status int
		title  string
		log    string
	}{
		{"/bomb/rep", 500, "Internal Server Error", "string.rep: the result would be longer than"},
		{"/bomb/concat", 500, "Internal Server Error", "string concatenation: the result would be longer than"},
		{"/bomb/table", 503, "Script Memory Limit", "script memory limit exceeded"},
		{"/deep", 500, "Internal Server Error", "stack overflow"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := call(t, "GET", p.base+tc.path, webKey, "")
			if r.status != tc.status {
				t.Fatalf("status=%d, want %d; body %s", r.status, tc.status, r.body)
			}
			isProblem(tc.status)(t, r)
			if got := r.json(t)["title"]; got != tc.title {
				t.Errorf("title=%v, want %q", got, tc.title)
			}
			p.waitLog(t, tc.log)
			if r := call(t, "GET", p.base+"/whoami", webKey, ""); r.status != 200 {
				t.Errorf("next request status=%d, want 200: the server must keep serving", r.status)
			}
		})
	}
}

// TestSlowClientsEndToEnd checks the HTTP server's own limits: a client that
// sends its headers a byte at a time (slowloris) is cut off, and a header
// block over the limit is refused.
func TestSlowClientsEndToEnd(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/access"))
	addr := strings.TrimPrefix(p.base, "http://")
	t.Run("slowloris", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		closed := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, conn) // returns when the server closes
			closed <- err
		}()
		if _, err := io.WriteString(conn, "GET /whoami HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		// An endless header, a byte at a time. The bound only stops a broken
		// server from hanging the test; it is far past the server's
		// header-read timeout.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		giveUp := time.After(60 * time.Second)
		for {
			select {
			case <-closed:
				return
			case <-giveUp:
				t.Fatal("the server kept a connection that never finished its headers")
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return // the server closed the connection
				}
			}
		}
	})
	t.Run("header too large", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := "GET /whoami HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 200<<10) + "\r\n\r\n"
		_, _ = io.WriteString(conn, req) // the server may close before reading it all
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no reply to an oversized header block: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status=%d, want 431", resp.StatusCode)
		}
	})
}

// TestSlowHeadersWithinRequestMS: headers that trickle in are part of the
// request, so the connection closes when limits.request_ms passes, not at
// the 10 seconds headers get at most.
func TestSlowHeadersWithinRequestMS(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	write(t, filepath.Join(dir, "config.json"), `{"name": "e2e", "limits": {"request_ms": 1000}}`)
	p := startServe(t, dir)
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes
		close(closed)
	}()
	if _, err := io.WriteString(conn, "GET /items/1 HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("the connection closed %v after it opened, want about limits.request_ms (1s)", d.Round(time.Millisecond))
			}
			return
		case <-tick.C:
			_, _ = io.WriteString(conn, "X-Slow: a\r\n")
		}
	}
}

func TestKeyCommand(t *testing.T) {
	out, err := exec.Command(binary, "key", "web", "--cidr", "10.0.0.0/8").CombinedOutput()
	if err != nil {
		t.Fatalf("minimi key: %v\n%s", err, out)
	}
	key := regexp.MustCompile(`(?m)^  (mk_[A-Za-z0-9_-]{43})$`).FindSubmatch(out)
	sum := regexp.MustCompile(`"key_sha256": "([0-9a-f]{64})"`).FindSubmatch(out)
	if key == nil || sum == nil || !bytes.Contains(out, []byte(`"10.0.0.0/8"`)) {
		t.Fatalf("minimi key output lacks the key, its sum or the cidr:\n%s", out)
	}
	// The printed entry admits the printed key: serve a service configured with it.
	dir := copyTree(t, "testdata/access")
	cfg, err := os.ReadFile(dir + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir+"/config.json", strings.Replace(string(cfg), "650b35e962d49b6d582e2e5d5fe3291db868bd3b62730dc12e8d66647562444d", string(sum[1]), 1))
	p := startServe(t, dir)
	if r := call(t, "GET", p.base+"/whoami", string(key[1]), ""); r.status != 200 || r.json(t)["client"] != "web" {
		t.Errorf("the new key: %d %s, want 200 as web", r.status, r.body)
	}
	if r := call(t, "GET", p.base+"/whoami", webKey, ""); r.status != 401 {
		t.Errorf("the replaced key: status=%d, want 401", r.status)
	}
	out, err = exec.Command(binary, "key", "not a name").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !bytes.Contains(out, []byte("client name")) {
		t.Errorf("minimi key with a bad name: %v %s, want an error naming the client name", err, out)
	}
	// A range with host bits set could mean the network or the one address: refused, with both.
	out, err = exec.Command(binary, "key", "web", "--cidr", "10.0.0.1/8").CombinedOutput()
	want := `--cidr "10.0.0.1/8" has host bits set: write 10.0.0.0/8 for the network, or 10.0.0.1/32 for the one address`
	if !errors.As(err, &ee) || !bytes.Contains(out, []byte(want)) || bytes.Contains(out, []byte("mk_")) {
		t.Errorf("minimi key --cidr 10.0.0.1/8: %v %s, want no key and %q", err, out, want)
	}
	again, _ := exec.Command(binary, "key", "web").CombinedOutput()
	if bytes.Contains(again, key[1]) {
		t.Errorf("two runs printed the same key")
	}
}
