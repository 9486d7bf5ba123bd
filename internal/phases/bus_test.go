package phases

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/minimi-go/minimi/internal/bus/bustest"
	"github.com/minimi-go/minimi/internal/service"
)

// busConn starts an embedded nats-server and returns a connection to it.
func busConn(t *testing.T) *nats.Conn {
	t.Helper()
	nc := bustest.Conn(t, bustest.Server(t, nil))
	return nc
}

// respond answers every request on subject with fn(msg); a nil reply is
// no answer at all.
func respond(t *testing.T, nc *nats.Conn, subject string, fn func(m *nats.Msg) []byte) {
	t.Helper()
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if data := fn(m); data != nil {
			_ = m.Respond(data)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestNATSPublish(t *testing.T) {
	nc := busConn(t)
	e := load(t, map[string]string{
		"pub/pub.execute.lua": `return { POST = function(req, res)
			nats.publish("orders.created", req.body.v)
			res:status(202)
		end }`,
	}, Options{Bus: service.NewClient(nc)})
	sub, err := nc.SubscribeSync("orders.created")
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	tests := []struct{ name, body, want string }{
		{"table as json", `{"v":{"id":"1","n":[1,2]}}`, `{"id":"1","n":[1,2]}`},
		{"string as is", `{"v":"plain"}`, `plain`},
		{"number as json", `{"v":4.5}`, `4.5`},
		{"nil as nothing", `{}`, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := run(t, e, "POST", "/pub", tc.body)
			if err != nil || resp.Status != 202 {
				t.Fatalf("POST /pub=%v, %v", resp, err)
			}
			msg, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("NextMsg()=%v", err)
			}
			if string(msg.Data) != tc.want {
				t.Errorf("published %q, want %q", msg.Data, tc.want)
			}
		})
	}
}

func TestNATSRequest(t *testing.T) {
	nc := busConn(t)
	respond(t, nc, "math.double", func(m *nats.Msg) []byte {
		var n float64
		_ = json.Unmarshal(m.Data, &n)
		out, _ := json.Marshal(map[string]float64{"n": 2 * n})
		return out
	})
	respond(t, nc, "greet", func(m *nats.Msg) []byte { return []byte("hello " + string(m.Data)) })
	respond(t, nc, "never", func(*nats.Msg) []byte { return nil })
	e := load(t, map[string]string{
		"ask/ask.execute.lua": `return { POST = function(req, res)
			local b = req.body
			res:json({ reply = nats.request(b.subject, b.data, b.ms) })
		end }`,
	}, Options{Bus: service.NewClient(nc), ScriptTimeout: 300 * time.Millisecond})
	tests := []struct {
		name, body string
		want       string // the JSON of reply, or
		status     int    // the status of the error
	}{
		{"json reply", `{"subject":"math.double","data":21}`, `{"n":42}`, 0},
		{"text reply", `{"subject":"greet","data":"ada"}`, `"hello ada"`, 0},
		{"no responder", `{"subject":"nobody.here","data":1}`, "", 503},
		{"time-out", `{"subject":"never","data":1,"ms":30}`, "", 504},
		{"script budget", `{"subject":"never","data":1}`, "", 503},
		{"ms past any duration is the script budget", `{"subject":"never","data":1,"ms":1e13}`, "", 503},
		{"negative ms", `{"subject":"never","data":1,"ms":-1}`, "", 500},
		{"wildcard", `{"subject":"a.*"}`, "", 500},
		{"event log subject", `{"subject":"minimi.events.x.y"}`, "", 500},
		{"server api", `{"subject":"$JS.API.INFO"}`, "", 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := run(t, e, "POST", "/ask", tc.body)
			if tc.status != 0 {
				if !isStatus(err, tc.status) {
					t.Fatalf("POST /ask=%v, %v, want status %d", resp, err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("POST /ask=%v", err)
			}
			if got := decode(t, resp)["reply"]; mustJSON(t, got) != tc.want {
				t.Errorf("reply=%s, want %s", mustJSON(t, got), tc.want)
			}
		})
	}
	t.Run("script budget is the script timeout", func(t *testing.T) {
		_, err := run(t, e, "POST", "/ask", `{"subject":"never","data":1}`)
		if !errors.Is(err, ErrScriptTimeout) {
			t.Errorf("err=%v, want ErrScriptTimeout", err)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServiceCallEnvelope answers service.call with a plain responder and
// checks both envelopes.
func TestServiceCallEnvelope(t *testing.T) {
	nc := busConn(t)
	got := make(chan *nats.Msg, 1)
	respond(t, nc, "minimi.rpc.b.items.*", func(m *nats.Msg) []byte {
		got <- m
		return []byte(`{"status":201,"headers":{"Content-Type":["application/json"],"X-Seen":["yes"]},"body":{"ok":true}}`)
	})
	respond(t, nc, "minimi.rpc.b.text", func(m *nats.Msg) []byte {
		return []byte(`{"status":409,"headers":{"Content-Type":["text/plain"]},"body":"taken"}`)
	})
	respond(t, nc, "minimi.rpc.b.junk", func(m *nats.Msg) []byte { return []byte(`not an envelope`) })
	e := load(t, map[string]string{
		"call/call.execute.lua": `return { POST = function(req, res)
			local c = req.body
			local r = service.call("b", c.method, c.path, c.body, c.opts)
			res:json({ status = r.status, seen = r.headers["x-seen"], body = r.body })
		end }`,
	}, Options{Bus: service.NewClient(nc)})

	resp, err := run(t, e, "POST", "/call", `{"method":"patch","path":"/items/a%20b?x=1","body":{"k":"v"},"opts":{"headers":{"X-Test":"1"}}}`)
	if err != nil {
		t.Fatalf("POST /call=%v", err)
	}
	if m := decode(t, resp); m["status"] != 201.0 || m["seen"] != "yes" || mustJSON(t, m["body"]) != `{"ok":true}` {
		t.Errorf("Lua saw %v, want status 201, x-seen yes, body {ok=true}", m)
	}
	msg := <-got
	var env struct {
		Method    string              `json:"method"`
		Query     string              `json:"query"`
		Headers   map[string][]string `json:"headers"`
		Body      json.RawMessage     `json:"body"`
		TimeoutMS int64               `json:"timeout_ms"`
	}
	if err := json.Unmarshal(msg.Data, &env); err != nil {
		t.Fatalf("request envelope %q: %v", msg.Data, err)
	}
	if msg.Subject != "minimi.rpc.b.items.a%20b" || env.Method != "PATCH" || env.Query != "x=1" || string(env.Body) != `{"k":"v"}` ||
		env.Headers["X-Request-Id"][0] != "t1" || env.Headers["X-Test"][0] != "1" || env.TimeoutMS <= 0 {
		t.Errorf("request on %s=%s, want PATCH x=1 with the body, X-Request-Id t1, X-Test and a timeout", msg.Subject, msg.Data)
	}

	resp, err = run(t, e, "POST", "/call", `{"method":"GET","path":"/text"}`)
	if err != nil {
		t.Fatalf("POST /call=%v", err)
	}
	if m := decode(t, resp); m["status"] != 409.0 || m["body"] != "taken" {
		t.Errorf("Lua saw %v, want 409 and the text taken", m)
	}
	if _, err := run(t, e, "POST", "/call", `{"method":"GET","path":"/junk"}`); !isStatus(err, 502) {
		t.Errorf("a reply that is no envelope=%v, want 502", err)
	}
}

func TestBusOff(t *testing.T) {
	files := map[string]string{
		"pub/pub.execute.lua":   `return { GET = function(req, res) nats.publish("a", "b") end }`,
		"ask/ask.execute.lua":   `return { GET = function(req, res) nats.request("a", "b") end }`,
		"call/call.execute.lua": `return { GET = function(req, res) service.call("b", "GET", "/") end }`,
	}
	for _, opts := range []struct {
		name string
		o    Options
	}{{"no bus", Options{}}, {"client without a connection", Options{Bus: service.NewClient(nil)}}} {
		e := load(t, files, opts.o)
		for _, url := range []string{"/pub", "/ask", "/call"} {
			t.Run(opts.name+url, func(t *testing.T) {
				_, err := run(t, e, "GET", url, "")
				var pe *Error
				if !errors.As(err, &pe) || pe.Status != 503 || pe.Title != "Bus Off" || !errors.Is(err, service.ErrBusOff) {
					t.Errorf("GET %s=%v, want 503 Bus Off", url, err)
				}
			})
		}
	}
}

func TestBusOutsideRequest(t *testing.T) {
	_, err := tryLoad(map[string]string{
		"a/a.execute.lua": "nats.publish(\"a\", \"b\")\nreturn { GET = function() end }",
	}, Options{})
	if err == nil || !strings.Contains(err.Error(), "nats.publish outside a request") {
		t.Errorf("Load()=%v, want nats.publish outside a request", err)
	}
}

// TestServiceCallHeaders: service.call's headers are the callee's request
// headers, so names and values are checked as res:header checks them.
func TestServiceCallHeaders(t *testing.T) {
	tests := []struct{ headers, want string }{
		{`{ ["X-A"] = "a\r\nX-Injected: 1" }`, "invalid value for header X-A: control character 0x0d at byte 1"},
		{`{ ["X-A"] = "a\0" }`, "invalid value for header X-A: control character 0x00"},
		{`{ ["X A"] = "v" }`, `invalid header name "X A"`},
	}
	for _, tc := range tests {
		t.Run(tc.headers, func(t *testing.T) {
			e := load(t, map[string]string{"call/call.execute.lua": `return { GET = function(req, res)
				service.call("b", "GET", "/", nil, { headers = ` + tc.headers + ` })
			end }`}, Options{Bus: service.NewClient(nil)})
			_, err := run(t, e, "GET", "/call", "")
			if !isStatus(err, 500) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err=%v, want a 500 containing %q", err, tc.want)
			}
		})
	}
}
