package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/minimi-go/minimi/internal/bus/bustest"
	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/service"
)

// callReply is what /call of service a answers: the reply service.call got.
type callReply struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// call has service a call service b through its /call endpoint.
func call(t *testing.T, a *instance, spec map[string]any) (int, callReply) {
	t.Helper()
	body, _ := json.Marshal(spec)
	w := a.httpDo("POST", "/call", string(body), nil)
	var r callReply
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatalf("/call body %q: %v", w.Body, err)
		}
	} else {
		r.Body = w.Body.Bytes()
	}
	return w.Code, r
}

// TestCallBetweenServices has service a reach service b with service.call.
func TestCallBetweenServices(t *testing.T) {
	ns := runNATS(t)
	b := start(t, connect(t, ns), "testdata/b", nil)
	a := start(t, connect(t, ns), "testdata/a", nil)
	tests := []struct {
		name  string
		spec  map[string]any
		check func(t *testing.T, r callReply)
	}{
		{"param", map[string]any{"method": "GET", "path": "/items/42"}, func(t *testing.T, r callReply) {
			if r.Status != 200 || object(t, r.Body)["id"] != "42" {
				t.Errorf("reply=%d %s, want 200 id 42", r.Status, r.Body)
			}
		}},
		{"static beside param", map[string]any{"method": "GET", "path": "/items/new"}, func(t *testing.T, r callReply) {
			if r.Status != 200 || object(t, r.Body)["new"] != true {
				t.Errorf("reply=%d %s, want 200 new", r.Status, r.Body)
			}
		}},
		{"escaped segment", map[string]any{"method": "GET", "path": "/items/a%20b.c"}, func(t *testing.T, r callReply) {
			if got := object(t, r.Body)["id"]; got != "a b.c" {
				t.Errorf("id=%v, want %q", got, "a b.c")
			}
		}},
		{"json body and query", map[string]any{"method": "post", "path": "/echo?x=1&x=2", "body": map[string]any{"k": "v"}},
			func(t *testing.T, r callReply) {
				m := object(t, r.Body)
				if m["method"] != "POST" || m["path"] != "/echo" || fmt.Sprint(m["query"]) != "map[x:1]" ||
					fmt.Sprint(m["body"]) != "map[k:v]" || m["ctype"] != "application/json" {
					t.Errorf("echo=%v", m)
				}
			}},
		{"text body and headers", map[string]any{"method": "PUT", "path": "/echo", "body": "hello",
			"opts": map[string]any{"headers": map[string]any{"X-Test": "yes"}}}, func(t *testing.T, r callReply) {
			m := object(t, r.Body)
			if m["raw"] != "hello" || m["body"] != nil || m["test"] != "yes" || !strings.HasPrefix(fmt.Sprint(m["ctype"]), "text/plain") {
				t.Errorf("echo=%v", m)
			}
		}},
		{"text reply", map[string]any{"method": "GET", "path": "/text"}, func(t *testing.T, r callReply) {
			if string(r.Body) != `"plain text"` || !strings.HasPrefix(r.Headers["content-type"], "text/plain") {
				t.Errorf("reply=%s %v, want the string plain text", r.Body, r.Headers)
			}
		}},
		{"4xx is a status", map[string]any{"method": "GET", "path": "/teapot"}, func(t *testing.T, r callReply) {
			m := object(t, r.Body)
			if r.Status != 409 || m["title"] != "Conflict" || m["detail"] != "already taken" ||
				r.Headers["content-type"] != "application/problem+json" {
				t.Errorf("reply=%d %v %v, want a 409 problem", r.Status, r.Headers, m)
			}
		}},
		{"404", map[string]any{"method": "GET", "path": "/nope/deeper"}, func(t *testing.T, r callReply) {
			if r.Status != 404 || object(t, r.Body)["status"] != 404.0 {
				t.Errorf("reply=%d %s, want a 404 problem", r.Status, r.Body)
			}
		}},
		{"405", map[string]any{"method": "DELETE", "path": "/items/1"}, func(t *testing.T, r callReply) {
			if r.Status != 405 || r.Headers["allow"] != "GET, HEAD, OPTIONS" {
				t.Errorf("reply=%d allow %q, want 405 with GET, HEAD, OPTIONS", r.Status, r.Headers["allow"])
			}
		}},
		{"command", map[string]any{"method": "POST", "path": "/notes", "body": map[string]any{"title": "from a"}},
			func(t *testing.T, r callReply) {
				if r.Status != 201 || object(t, r.Body)["title"] != "from a" {
					t.Fatalf("reply=%d %s, want 201", r.Status, r.Body)
				}
				w := b.httpDo("GET", "/notes", "", nil)
				if !strings.Contains(w.Body.String(), `"title":"from a"`) {
					t.Errorf("GET /notes on b over HTTP=%s, want the note created over NATS", w.Body)
				}
			}},
		{"422", map[string]any{"method": "POST", "path": "/notes", "body": map[string]any{"title": ""}},
			func(t *testing.T, r callReply) {
				if r.Status != 422 {
					t.Errorf("reply=%d %s, want 422", r.Status, r.Body)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, r := call(t, a, tc.spec)
			if code != 200 {
				t.Fatalf("POST /call=%d %s, want 200", code, r.Body)
			}
			tc.check(t, r)
		})
	}
}

// TestCallCarriesRequestID checks that the callee sees the caller's request id.
func TestCallCarriesRequestID(t *testing.T) {
	ns := runNATS(t)
	start(t, connect(t, ns), "testdata/b", nil)
	a := start(t, connect(t, ns), "testdata/a", nil)
	w := a.httpDo("POST", "/call", `{"method":"GET","path":"/echo"}`, http.Header{"X-Request-Id": {"trace-1"}})
	var r callReply
	_ = json.Unmarshal(w.Body.Bytes(), &r)
	if got := object(t, r.Body)["id"]; got != "trace-1" {
		t.Errorf("callee req.id=%v, want trace-1", got)
	}
}

func TestCallErrors(t *testing.T) {
	ns := runNATS(t)
	start(t, connect(t, ns), "testdata/b", nil)
	a := start(t, connect(t, ns), "testdata/a", nil)
	tests := []struct {
		name   string
		spec   map[string]any
		status int
		title  string
	}{
		{"no responder", map[string]any{"service": "nobody", "method": "GET", "path": "/x"}, 503, "No Responder"},
		{"time-out", map[string]any{"method": "GET", "path": "/slow?ms=3000", "opts": map[string]any{"ms": 50}}, 504, "Gateway Timeout"},
		{"script budget", map[string]any{"method": "GET", "path": "/slow?ms=3000"}, 503, "Script Timeout"},
		{"bad path", map[string]any{"method": "GET", "path": "items"}, 500, "Internal Server Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, r := call(t, a, tc.spec)
			if code != tc.status {
				t.Fatalf("POST /call=%d %s, want %d", code, r.Body, tc.status)
			}
			if got := object(t, r.Body)["title"]; got != tc.title {
				t.Errorf("title=%v, want %q", got, tc.title)
			}
		})
	}
	t.Run("caught", func(t *testing.T) {
		w := a.httpDo("GET", "/catch", "", nil)
		m := object(t, w.Body.Bytes())
		if w.Code != 200 || m["ok"] != false || !strings.Contains(fmt.Sprint(m["err"]), "no one answered") {
			t.Errorf("/catch=%d %v, want ok=false and the no-responder message", w.Code, m)
		}
	})
}

func TestCallWithBusOff(t *testing.T) {
	a := start(t, nil, "testdata/a", nil)
	w := a.httpDo("POST", "/call", `{"method":"GET","path":"/ping"}`, nil)
	if m := object(t, w.Body.Bytes()); w.Code != 503 || m["title"] != "Bus Off" {
		t.Errorf("POST /call with the bus off=%d %v, want 503 Bus Off", w.Code, m)
	}
}

// TestHTTPAndNATSAgree sends the same requests over HTTP and over NATS.
func TestHTTPAndNATSAgree(t *testing.T) {
	ns := runNATS(t)
	b := start(t, connect(t, ns), "testdata/b", nil)
	nc := connect(t, ns)
	tests := []struct {
		name, method, path, body string
		header                   http.Header
	}{
		{"get", "GET", "/items/7", "", nil},
		{"escaped param", "GET", "/items/a%40b%20c", "", nil},
		{"escaped slash in a param", "GET", "/items/a%2Fb", "", nil},
		{"dot segments", "GET", "/ping/..//items/./7/", "", nil},
		{"escaped dot segment", "GET", "/items/%2e%2e", "", nil},
		{"404", "GET", "/missing", "", nil},
		{"405", "POST", "/items/7", "", nil},
		{"unknown method", "PURGE", "/items/7", "", nil},
		{"unknown method, no URL", "PURGE", "/missing", "", nil},
		{"malformed json", "POST", "/echo", `{"a":`, nil},
		{"too large", "POST", "/echo", `"` + strings.Repeat("x", 5000) + `"`, nil},
		{"problem", "GET", "/teapot", "", nil},
		{"options", "OPTIONS", "/notes", "", nil},
		{"head", "HEAD", "/items/7", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hw := b.httpDo(tc.method, tc.path, tc.body, tc.header)
			rep, err := service.NewClient(nc).Call(ctxFor(t, 5*time.Second), service.Call{Service: "b", Method: tc.method, Path: tc.path,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(tc.body)})
			if err != nil {
				t.Fatalf("Call()=%v", err)
			}
			if rep.Status != hw.Code {
				t.Errorf("NATS status=%d, HTTP %d", rep.Status, hw.Code)
			}
			for _, h := range []string{"Content-Type", "Allow"} {
				if rep.Header.Get(h) != hw.Header().Get(h) {
					t.Errorf("NATS %s=%q, HTTP %q", h, rep.Header.Get(h), hw.Header().Get(h))
				}
			}
			if hw.Code < 400 && string(rep.Body) != hw.Body.String() {
				t.Errorf("NATS body=%q, HTTP %q", rep.Body, hw.Body)
			}
		})
	}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestRawEnvelopes talks to a service as any NATS client would.
func TestRawEnvelopes(t *testing.T) {
	ns := runNATS(t)
	start(t, connect(t, ns), "testdata/b", nil)
	nc := connect(t, ns)
	t.Run("empty data is a GET", func(t *testing.T) {
		env := natsDo(t, nc, "minimi.rpc.b.items.9", "")
		if env.Status != 200 || string(env.Body) != `{"id":"9"}` {
			t.Errorf("reply=%+v, want 200 {\"id\":\"9\"}", env)
		}
	})
	t.Run("binary body", func(t *testing.T) {
		env := natsDo(t, nc, "minimi.rpc.b.echo",
			`{"method":"POST","headers":{"Content-Type":"application/octet-stream"},"body_base64":"/wD+"}`)
		var m map[string]any
		_ = json.Unmarshal(env.Body, &m)
		if env.Status != 200 || m["raw"] != "\ufffd\x00\ufffd" {
			t.Errorf("reply=%d %s, want the raw bytes echoed", env.Status, env.Body)
		}
	})
	t.Run("nats headers", func(t *testing.T) {
		msg, err := nc.RequestMsg(&nats.Msg{Subject: "minimi.rpc.b.echo", Header: nats.Header{"X-Test": {"hdr"}}}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(msg.Data), `"test":"hdr"`) {
			t.Errorf("reply=%s, want the NATS header seen as x-test", msg.Data)
		}
	})
	t.Run("bad envelope", func(t *testing.T) {
		msg, err := nc.Request("minimi.rpc.b.echo", []byte(`{"method":`), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(msg.Data), `"status":400`) || msg.Header.Get(micro.ErrorCodeHeader) != "400" {
			t.Errorf("reply=%s %v, want a 400 problem with the error headers", msg.Data, msg.Header)
		}
	})
	t.Run("timeout_ms past a Duration", func(t *testing.T) { // bounds nothing, rather than overflowing into an instant time-out
		for _, ms := range []string{"9223372036854775807", "10000000000000"} {
			env := natsDo(t, nc, "minimi.rpc.b.slow", `{"query":"ms=150","timeout_ms":`+ms+`}`)
			if env.Status != 200 {
				t.Errorf("timeout_ms %s: reply=%d %s, want 200", ms, env.Status, env.Body)
			}
		}
	})
	t.Run("headers Go's HTTP server refuses", func(t *testing.T) { // are refused over NATS too
		for _, hdr := range []string{`{"X-A":"a\r\nb"}`, `{"X-A":["ok","\u0000"]}`, `{"":"v"}`, `{"X A":"v"}`} {
			env := natsDo(t, nc, "minimi.rpc.b.echo", `{"headers":`+hdr+`}`)
			if env.Status != 400 || !strings.Contains(string(env.Body), "bad envelope: header") {
				t.Errorf("headers %s: reply=%d %s, want a 400 problem", hdr, env.Status, env.Body)
			}
		}
		msg, err := nc.RequestMsg(&nats.Msg{Subject: "minimi.rpc.b.echo", Header: nats.Header{"X-Test": {"a\x01b"}}}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(msg.Data), `"status":400`) {
			t.Errorf("NATS header with a control character: reply=%s, want a 400 problem", msg.Data)
		}
	})
	t.Run("built-ins are not served", func(t *testing.T) {
		if env := natsDo(t, nc, "minimi.rpc.b._minimi.health", ""); env.Status != 404 {
			t.Errorf("/_minimi/health over NATS=%d, want 404", env.Status)
		}
	})
	// The problems the service answers itself carry a request id, the
	// caller's when it sent a sane one, as the handler's problems do.
	t.Run("request ids of the service's own problems", func(t *testing.T) {
		for _, tc := range []struct {
			name, subject, data string
			hdr                 nats.Header
			want                string // "" for a new id
		}{
			{"bad envelope", "minimi.rpc.b.echo", `{"method":`, nil, ""},
			{"bad envelope, the caller's id", "minimi.rpc.b.echo", `{"method":`, nats.Header{"X-Request-Id": {"trace-9"}}, "trace-9"},
			{"bad header, the envelope's id", "minimi.rpc.b.echo", `{"headers":{"x-request-id":"trace-8","X A":"v"}}`, nil, "trace-8"},
			{"built-ins", "minimi.rpc.b._minimi.health", "", nats.Header{"x-request-id": {"trace-7"}}, "trace-7"},
			{"an id that is not sane", "minimi.rpc.b._minimi.health", "", nats.Header{"X-Request-Id": {"has space"}}, ""},
		} {
			msg, err := nc.RequestMsg(&nats.Msg{Subject: tc.subject, Data: []byte(tc.data), Header: tc.hdr}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Headers map[string][]string `json:"headers"`
				Body    struct {
					RequestID string `json:"request_id"`
				} `json:"body"`
			}
			if err := json.Unmarshal(msg.Data, &env); err != nil {
				t.Fatalf("%s: reply %s: %v", tc.name, msg.Data, err)
			}
			id := env.Body.RequestID
			if id == "" || tc.want != "" && id != tc.want || tc.want == "" && strings.Contains(id, " ") ||
				len(env.Headers["X-Request-Id"]) != 1 || env.Headers["X-Request-Id"][0] != id {
				t.Errorf("%s: reply=%s, want request_id %q in the problem and its X-Request-Id header", tc.name, msg.Data, tc.want)
			}
		}
	})
}

// TestCallLoop: services that call each other in a loop stop after
// MaxHops, with a 508 that every caller sees, whether the loop goes through
// service.call or through nats.request on the service's subjects, long
// before the first request's time budget ends.
func TestCallLoop(t *testing.T) {
	ns := runNATS(t)
	b := start(t, connect(t, ns), "testdata/b", nil)
	for _, path := range []string{"/loop", "/loop?via=request"} {
		w := b.httpDo("GET", path, "", nil)
		body := w.Body.Bytes()
		depth := 0
		for ; ; depth++ { // walk down the nested replies to the innermost
			var m map[string]json.RawMessage
			if json.Unmarshal(body, &m) != nil || m["inner"] == nil {
				break
			}
			body = m["inner"]
		}
		// The HTTP request, MaxHops requests over the bus, and the 508.
		if w.Code != http.StatusLoopDetected || depth != service.MaxHops+1 || !strings.Contains(string(body), "services that call each other in a loop") {
			t.Errorf("GET %s=%d, %d levels deep, innermost %s; want 508 from %d services down", path, w.Code, depth, body, service.MaxHops+1)
		}
	}
}

// TestReplyNearMaxPayload: an error reply whose body fits the bus's max
// payload but not with its error headers is answered all the same (as a
// 502), never left for the caller to time out on.
func TestReplyNearMaxPayload(t *testing.T) {
	ns := runNATS(t)
	start(t, connect(t, ns), "testdata/b", nil)
	nc := connect(t, ns)
	max := int(nc.MaxPayload())
	for n := max - 600; n < max; n += 7 { // the headers are some 70 bytes: every size near the edge
		msg, err := nc.Request("minimi.rpc.b.teapot", []byte(`{"query":"n=`+strconv.Itoa(n)+`"}`), 5*time.Second)
		if err != nil {
			t.Fatalf("detail padded by %d bytes: %v, want a reply", n, err)
		}
		if code := msg.Header.Get(micro.ErrorCodeHeader); code != "409" && code != "502" {
			t.Fatalf("detail padded by %d bytes: error code %q, want 409 or 502", n, code)
		}
	}
}

// TestReplyTooLarge: a reply larger than the bus's max payload becomes a
// 502 problem that says how the request ended, with its request id and the
// services API's error headers.
func TestReplyTooLarge(t *testing.T) {
	ns := runNATS(t)
	start(t, connect(t, ns), "testdata/b", func(c *config.Config) { c.Limits.BodyBytes = 1 << 20 })
	nc := connect(t, ns)
	// Each control byte of the raw body is six in the JSON reply.
	body := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, int(nc.MaxPayload())/4))
	msg, err := nc.RequestMsg(&nats.Msg{Subject: "minimi.rpc.b.echo", Header: nats.Header{"X-Request-Id": {"big-1"}},
		Data: []byte(`{"method":"POST","headers":{"Content-Type":"application/octet-stream"},"body_base64":"` + body + `"}`)}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(msg.Data, &env); err != nil {
		t.Fatalf("reply %q: %v", msg.Data, err)
	}
	p := object(t, env.Body)
	detail, _ := p["detail"].(string)
	if env.Status != http.StatusBadGateway || p["request_id"] != "big-1" || msg.Header.Get(micro.ErrorCodeHeader) != "502" ||
		!strings.Contains(detail, "the reply (status 200)") || !strings.Contains(detail, "the request was served") {
		t.Errorf("reply=%d %s %v, want a 502 problem saying the request was served, with its id and error headers", env.Status, env.Body, msg.Header)
	}
}

// TestDiscovery finds the service with the NATS services API from a plain client.
func TestDiscovery(t *testing.T) {
	ns := runNATS(t)
	start(t, connect(t, ns), "testdata/b", nil)
	nc := connect(t, ns)
	var ping micro.Ping
	request(t, nc, "$SRV.PING.b", &ping)
	if ping.Name != "b" || ping.Version != "1.2.3" || ping.ID == "" {
		t.Errorf("PING=%+v, want b 1.2.3", ping)
	}
	var info micro.Info
	request(t, nc, "$SRV.INFO.b", &info)
	subjects := map[string]string{}
	for _, ep := range info.Endpoints {
		subjects[ep.Metadata["url"]] = ep.Subject
		if ep.QueueGroup != service.DefaultQueueGroup {
			t.Errorf("endpoint %s queue group=%q, want %q", ep.Name, ep.QueueGroup, service.DefaultQueueGroup)
		}
	}
	for url, subj := range map[string]string{"/echo": "minimi.rpc.b.echo", "/items/[id]": "minimi.rpc.b.items.*", "/notes": "minimi.rpc.b.notes"} {
		if subjects[url] != subj {
			t.Errorf("INFO endpoint of %s=%q, want %q (all: %v)", url, subjects[url], subj, subjects)
		}
	}
	const n = 5
	for i := range n {
		natsDo(t, nc, "minimi.rpc.b.echo", fmt.Sprintf(`{"query":"i=%d"}`, i))
	}
	natsDo(t, nc, "minimi.rpc.b.teapot", "")
	// A request is counted once its handler returns, which can be just after
	// the caller has the reply: ask until the last one shows.
	got := map[string]*micro.EndpointStats{}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var stats micro.Stats
		request(t, nc, "$SRV.STATS.b", &stats)
		for _, ep := range stats.Endpoints {
			got[ep.Name] = ep
		}
		if ep := got["teapot"]; ep != nil && ep.NumRequests == 1 && got["echo"] != nil && got["echo"].NumRequests == n ||
			time.Now().After(deadline) {
			break
		}
	}
	if ep := got["echo"]; ep == nil || ep.NumRequests != n || !strings.Contains(string(ep.Data), `"served":5`) {
		t.Errorf("STATS echo=%+v, want %d requests", ep, n)
	}
	if ep := got["teapot"]; ep == nil || !strings.Contains(string(ep.Data), `"status_4xx":1`) {
		t.Errorf("STATS teapot=%+v, want one 4xx", ep)
	}
}

func request(t *testing.T, nc *nats.Conn, subject string, v any) {
	t.Helper()
	msg, err := nc.Request(subject, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("Request(%s)=%v", subject, err)
	}
	if err := json.Unmarshal(msg.Data, v); err != nil {
		t.Fatalf("reply of %s %q: %v", subject, msg.Data, err)
	}
}

// TestQueueGroup runs two instances of b: NATS spreads requests among them.
func TestQueueGroup(t *testing.T) {
	ns := runNATS(t)
	one := start(t, connect(t, ns), "testdata/b", nil)
	two := start(t, connect(t, ns), "testdata/b", nil)
	nc := connect(t, ns)
	const n = 40
	for range n {
		if env := natsDo(t, nc, "minimi.rpc.b.ping", ""); env.Status != 200 {
			t.Fatalf("reply=%+v", env)
		}
	}
	// An instance counts a request once its handler returns, which can be
	// just after the caller has the reply.
	var counts []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		counts = []int{requests(one, "ping"), requests(two, "ping")}
		if counts[0]+counts[1] >= n || time.Now().After(deadline) {
			break
		}
	}
	if counts[0]+counts[1] != n || counts[0] == 0 || counts[1] == 0 {
		t.Errorf("requests per instance=%v, want %d shared by both", counts, n)
	}
}

func requests(in *instance, endpoint string) int {
	for _, ep := range in.svc.Stats().Endpoints {
		if ep.Name == endpoint {
			return ep.NumRequests
		}
	}
	return -1
}

// TestClientKeys checks the client key guard over NATS: keys work, address
// ranges cannot match a NATS caller.
func TestClientKeys(t *testing.T) {
	ns := runNATS(t)
	sum := func(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:]) }
	start(t, connect(t, ns), "testdata/b", func(cfg *config.Config) {
		cfg.Clients = map[string]config.Client{
			"open":   {KeySHA256: sum("open-key")},
			"ranged": {KeySHA256: sum("ranged-key"), CIDRs: []string{"127.0.0.0/8"}},
		}
	})
	nc := connect(t, ns)
	tests := []struct {
		name, data string
		status     int
	}{
		{"no key", ``, 401},
		{"known key", `{"headers":{"X-Client-Key":"open-key"}}`, 200},
		{"unknown key", `{"headers":{"X-Client-Key":"nope"}}`, 401},
		{"key with cidrs", `{"headers":{"X-Client-Key":"ranged-key"}}`, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := natsDo(t, nc, "minimi.rpc.b.echo", tc.data)
			if env.Status != tc.status {
				t.Fatalf("status=%d %s, want %d", env.Status, env.Body, tc.status)
			}
			if tc.status == 200 && !strings.Contains(string(env.Body), `"client":"open"`) {
				t.Errorf("body=%s, want req.client open", env.Body)
			}
		})
	}
}

// TestUpdate swaps in a reloaded site, as hot reload does.
func TestUpdate(t *testing.T) {
	ns := runNATS(t)
	b := start(t, connect(t, ns), "testdata/b", nil)
	nc := connect(t, ns)
	id := b.svc.Info().ID
	same := load(t, "testdata/b", b.cfg, nc)
	b.srv.Swap(same)
	if err := b.svc.Update(same.Engine); err != nil {
		t.Fatalf("Update(same routes)=%v", err)
	}
	if got := b.svc.Info().ID; got != id {
		t.Errorf("ID after a reload with the same routes=%q, want %q kept", got, id)
	}
	fewer := load(t, "testdata/a", b.cfg, nc) // a's routes under b's name
	b.srv.Swap(fewer)
	if err := b.svc.Update(fewer.Engine); err != nil {
		t.Fatalf("Update(other routes)=%v", err)
	}
	if got := b.svc.Info().ID; got == id {
		t.Errorf("ID after the routes changed=%q, want a new registration", got)
	}
	var info micro.Info
	request(t, nc, "$SRV.INFO.b", &info)
	var names []string
	for _, ep := range info.Endpoints {
		names = append(names, ep.Name)
	}
	if got := strings.Join(names, " "); got != "call catch ping" {
		t.Errorf("INFO endpoints=%q, want call catch ping", got)
	}
	if env := natsDo(t, nc, "minimi.rpc.b.echo", ""); env.Status != 404 {
		t.Errorf("removed /echo=%d, want 404", env.Status)
	}
	if env := natsDo(t, nc, "minimi.rpc.b.catch", ""); env.Status != 200 {
		t.Errorf("added /catch=%d %s, want 200", env.Status, env.Body)
	}
}

// A reload while the NATS server is away registers the new routes at once
// and stops the previous registrations once the connection is back, so the
// server then holds only the current subscriptions and every request finds
// one that answers. (Stopped while away, they were sent again on reconnect
// and then forgotten without an unsubscription: the server kept handing
// requests to them.) The connection's own reconnect handler still runs.
func TestUpdateWhileDisconnected(t *testing.T) {
	opts := bustest.Options(t)
	ns := bustest.Server(t, opts)
	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	if err != nil {
		t.Fatalf("Connect()=%v", err)
	}
	t.Cleanup(nc.Close)
	b := start(t, nc, "testdata/b", nil)
	oldIDs := []string{b.svc.Info().ID}
	opts.Port = ns.Addr().(*net.TCPAddr).Port
	ns.Shutdown()
	ns.WaitForShutdown()
	for deadline := time.Now().Add(5 * time.Second); nc.IsConnected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connection did not notice the server's shutdown")
		}
	}
	for _, gone := range [][]string{{"teapot"}, {"teapot", "text"}} { // two reloads before it is back
		site := load(t, siteWithout(t, "testdata/b", gone...), b.cfg, nc)
		b.srv.Swap(site)
		if err := b.svc.Update(site.Engine); err != nil {
			t.Fatalf("Update() while disconnected=%v", err)
		}
		if id := b.svc.Info().ID; slices.Contains(oldIDs, id) {
			t.Errorf("ID after the routes changed=%q, want a new registration", id)
		}
		oldIDs = append(oldIDs, b.svc.Info().ID)
	}
	oldIDs = oldIDs[:len(oldIDs)-1]
	ns = bustest.Server(t, opts) // the same port: the connection comes back
	select {
	case <-reconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("no reconnect handler call within 5s")
	}
	cid, err := nc.GetClientID()
	if err != nil {
		t.Fatalf("GetClientID()=%v", err)
	}
	var subs []string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		subs = serverSubs(t, ns, cid)
		all := strings.Join(subs, "\n")
		if len(subs) == nc.NumSubscriptions() && !strings.Contains(all, oldIDs[0]) && !strings.Contains(all, oldIDs[1]) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the server holds %d subscriptions of the connection, it %d; want the same and none of %v:\n%s",
				len(subs), nc.NumSubscriptions(), oldIDs, all)
			break
		}
	}
	caller := connect(t, ns)
	for i := range 20 {
		msg, err := caller.Request("minimi.rpc.b.ping", nil, 300*time.Millisecond)
		if err != nil {
			t.Fatalf("request %d: Request(minimi.rpc.b.ping)=%v, want a reply", i+1, err)
		}
		var env envelope
		if err := json.Unmarshal(msg.Data, &env); err != nil || env.Status != 200 || string(env.Body) != `{"pong":true}` {
			t.Fatalf("request %d: reply %s, want 200 pong", i+1, msg.Data)
		}
	}
	if env := natsDo(t, caller, "minimi.rpc.b.text", ""); env.Status != 404 {
		t.Errorf("removed /text=%d, want 404", env.Status)
	}
}

// siteWithout copies the site in dir to a temp dir without the endpoint
// folders named.
func siteWithout(t *testing.T, dir string, folders ...string) string {
	t.Helper()
	tmp := t.TempDir()
	if err := os.CopyFS(tmp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	for _, f := range folders {
		if err := os.RemoveAll(filepath.Join(tmp, "endpoints", f)); err != nil {
			t.Fatal(err)
		}
	}
	return tmp
}

// serverSubs lists the subscriptions ns holds for the client cid, as
// "subject queue".
func serverSubs(t *testing.T, ns *natsserver.Server, cid uint64) []string {
	t.Helper()
	cz, err := ns.Connz(&natsserver.ConnzOptions{CID: cid, SubscriptionsDetail: true})
	if err != nil {
		t.Fatalf("Connz()=%v", err)
	}
	var subs []string
	for _, c := range cz.Conns {
		for _, s := range c.SubsDetail {
			subs = append(subs, s.Subject+" "+s.Queue)
		}
	}
	return subs
}

func TestClose(t *testing.T) {
	ns := runNATS(t)
	b := start(t, connect(t, ns), "testdata/b", nil)
	if err := b.svc.Close(t.Context()); err != nil {
		t.Fatalf("Close()=%v", err)
	}
	if err := b.svc.Close(t.Context()); err != nil {
		t.Fatalf("second Close()=%v", err)
	}
	if err := b.svc.Update(b.site.Engine); !errors.Is(err, service.ErrClosed) {
		t.Errorf("Update() after Close=%v, want ErrClosed", err)
	}
	_, err := service.NewClient(connect(t, ns)).Call(ctxFor(t, 5*time.Second), service.Call{Service: "b", Path: "/ping"})
	if !errors.Is(err, service.ErrNoResponders) {
		t.Errorf("Call() after Close=%v, want ErrNoResponders", err)
	}
}

// TestCloseCutOff: requests still running when Close's context ends are
// cut off, which CloseCutOff reports apart from the error: a cut-off is not
// a failure of the stop, and an error of the stop is not a cut-off.
func TestCloseCutOff(t *testing.T) {
	ns := runNATS(t)
	b := start(t, connect(t, ns), "testdata/b", nil)
	client := service.NewClient(connect(t, ns))
	go func() {
		_, _ = client.Call(ctxFor(t, 5*time.Second), service.Call{Service: "b", Path: "/slow?ms=1500"})
	}()
	time.Sleep(200 * time.Millisecond) // the call is in flight
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	cutOff, err := b.svc.CloseCutOff(ctx)
	if !cutOff || err != nil {
		t.Errorf("CloseCutOff() with a request running=%v, %v, want true, nil", cutOff, err)
	}
	idle := start(t, connect(t, ns), "testdata/b", nil)
	if cutOff, err := idle.svc.CloseCutOff(t.Context()); cutOff || err != nil {
		t.Errorf("CloseCutOff() of an idle service=%v, %v, want false, nil", cutOff, err)
	}
}

// A stop while the NATS server is away has nothing to tell it: Close
// returns at once, and nil, with no request in flight, rather than waiting
// for a flush that cannot come back and reporting a time-out that reads as
// requests cut off; a registration a reload replaced meanwhile stops too.
func TestCloseWhileDisconnected(t *testing.T) {
	ns := runNATS(t)
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(time.Hour))
	if err != nil {
		t.Fatalf("Connect()=%v", err)
	}
	t.Cleanup(nc.Close)
	b := start(t, nc, "testdata/b", nil)
	ns.Shutdown()
	ns.WaitForShutdown()
	for deadline := time.Now().Add(5 * time.Second); nc.IsConnected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connection did not notice the server's shutdown")
		}
	}
	site := load(t, siteWithout(t, "testdata/b", "teapot"), b.cfg, nc)
	if err := b.svc.Update(site.Engine); err != nil {
		t.Fatalf("Update() while disconnected=%v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	begin := time.Now()
	if err := b.svc.Close(ctx); err != nil {
		t.Errorf("Close()=%v, want nil", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Close() took %v, want well under a second", d)
	}
}

// A service that starts while its NATS server is not reachable yet
// registers at once: its subscriptions go out when the connection comes up,
// so New does not wait for a flush that cannot be answered.
func TestNewWhileDisconnected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + ln.Addr().String()
	ln.Close()
	nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(time.Hour))
	if err != nil {
		t.Fatalf("Connect()=%v", err)
	}
	t.Cleanup(nc.Close)
	begin := time.Now()
	start(t, nc, "testdata/b", nil)
	if d := time.Since(begin); d > time.Second {
		t.Errorf("New() took %v on a connection not yet up, want well under a second", d)
	}
}

func TestNewRefuses(t *testing.T) {
	ns := runNATS(t)
	b := start(t, connect(t, ns), "testdata/b", nil)
	nc := connect(t, ns)
	tests := []struct {
		name string
		nc   *nats.Conn
		opts service.Options
		want error
	}{
		{"no connection", nil, service.Options{Handler: b.srv, Routes: b.site.Engine}, service.ErrBusOff},
		{"no handler", nc, service.Options{Routes: b.site.Engine}, service.ErrInvalidOptions},
		{"no routes", nc, service.Options{Handler: b.srv}, service.ErrInvalidOptions},
		{"negative in flight", nc, service.Options{Handler: b.srv, Routes: b.site.Engine, MaxInFlight: -1}, service.ErrInvalidOptions},
		{"bad queue group", nc, service.Options{Handler: b.srv, Routes: b.site.Engine, QueueGroup: "a b"}, service.ErrInvalidOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := service.New(tc.nc, tc.opts); !errors.Is(err, tc.want) {
				t.Errorf("New()=%v, want %v", err, tc.want)
			}
		})
	}
}

func TestClientBusOff(t *testing.T) {
	var c *service.Client
	if err := c.Publish("x", nil, 0); !errors.Is(err, service.ErrBusOff) {
		t.Errorf("nil Client Publish()=%v, want ErrBusOff", err)
	}
	if _, err := service.NewClient(nil).Call(t.Context(), service.Call{Service: "b", Path: "/"}); !errors.Is(err, service.ErrBusOff) {
		t.Errorf("Client(nil).Call()=%v, want ErrBusOff", err)
	}
}
