package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/minimi-go/minimi/internal/bus/bustest"
)

// natsForServe starts a nats-server for `minimi serve` processes to share
// and returns the environment that points them at it.
func natsForServe(t *testing.T) (*natsserver.Server, []string) {
	t.Helper()
	ns := bustest.Server(t, nil)
	return ns, []string{"MINIMI_NATS_ENABLED=true", "MINIMI_NATS_URL=" + ns.ClientURL()}
}

// instanceOf copies testdata/services/b with its /whoami instance set to name.
func instanceOf(t *testing.T, name string) string {
	t.Helper()
	dir := copyTree(t, "testdata/services/b")
	write(t, filepath.Join(dir, "config.json"),
		fmt.Sprintf(`{"name": "b", "endpoints": {"/whoami": {"instance": %q}}}`, name))
	return dir
}

// pingAll sends $SRV.PING.<name> and collects replies until want arrived.
func pingAll(t *testing.T, nc *nats.Conn, name string, want int) []micro.Ping {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$SRV.PING."+name, inbox, nil); err != nil {
		t.Fatal(err)
	}
	var out []micro.Ping
	for len(out) < want {
		msg, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("PING %s: %d replies, want %d: %v", name, len(out), want, err)
		}
		var p micro.Ping
		if err := json.Unmarshal(msg.Data, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestServeServices runs service a and two instances of service b as
// `minimi serve` processes on one NATS server: a reaches b with
// service.call, NATS spreads the calls over both instances, and a plain
// NATS client discovers them.
func TestServeServices(t *testing.T) {
	ns, env := natsForServe(t)
	startServe(t, instanceOf(t, "b1"), env...)
	startServe(t, instanceOf(t, "b2"), env...)
	a := startServe(t, copyTree(t, "testdata/services/a"), env...)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	t.Run("discovery", func(t *testing.T) {
		pings := pingAll(t, nc, "b", 2)
		if pings[0].ID == pings[1].ID || pings[0].Version == "" {
			t.Errorf("PING b=%+v, want two instances with a version", pings)
		}
		pingAll(t, nc, "a", 1)
	})
	t.Run("queue group", func(t *testing.T) {
		seen := map[string]int{}
		for range 30 {
			r := do(t, "GET", a.base+"/proxy/whoami", "", "")
			if r.status != 200 {
				t.Fatalf("GET /proxy/whoami=%d %s", r.status, r.body)
			}
			from, _ := r.json(t)["from"].(map[string]any)
			seen[fmt.Sprint(from["instance"])]++
		}
		if len(seen) != 2 || seen["b1"] == 0 || seen["b2"] == 0 {
			t.Errorf("instances seen=%v, want b1 and b2", seen)
		}
	})
	t.Run("request id", func(t *testing.T) {
		req, _ := newRequest("GET", a.base+"/proxy/whoami", "")
		req.Header.Set("X-Request-Id", "e2e-trace")
		r := send(t, req)
		if from, _ := r.json(t)["from"].(map[string]any); from["id"] != "e2e-trace" {
			t.Errorf("callee req.id=%v, want e2e-trace", from["id"])
		}
	})
	tests := []struct {
		name, path string
		status     int
		check      func(t *testing.T, m map[string]any)
	}{
		{"4xx from the callee", "/proxy/teapot", 409, func(t *testing.T, m map[string]any) {
			if from, _ := m["from"].(map[string]any); from["detail"] != "already taken" {
				t.Errorf("from=%v, want the callee's problem", m["from"])
			}
		}},
		{"404 from the callee", "/proxy/nowhere", 404, nil},
		{"no responder", "/proxy/whoami?to=c", 503, func(t *testing.T, m map[string]any) {
			if m["title"] != "No Responder" {
				t.Errorf("problem=%v, want No Responder", m)
			}
		}},
		{"time-out", "/impatient", 504, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "GET", a.base+tc.path, "", "")
			if r.status != tc.status {
				t.Fatalf("GET %s=%d %s, want %d", tc.path, r.status, r.body, tc.status)
			}
			if tc.check != nil {
				tc.check(t, r.json(t))
			}
		})
	}
	t.Run("raw request", func(t *testing.T) {
		msg, err := nc.Request("minimi.rpc.b.whoami", nil, 10*time.Second)
		if err != nil {
			t.Fatalf("Request()=%v", err)
		}
		if !strings.Contains(string(msg.Data), `"status":200`) || !strings.Contains(string(msg.Data), `"instance":"b`) {
			t.Errorf("reply=%s, want a 200 envelope from b", msg.Data)
		}
	})
}

// TestServeServicesReload adds a folder under serve --watch: the NATS
// services API lists its endpoint, and it answers over NATS.
func TestServeServicesReload(t *testing.T) {
	ns, env := natsForServe(t)
	dir := instanceOf(t, "b1")
	startServeArgs(t, dir, []string{"--watch"}, env...)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fresh := filepath.Join(dir, "endpoints", "fresh")
	if err := os.MkdirAll(fresh, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(fresh, "fresh.execute.lua"), `return { GET = function(req, res) res:send("new") end }`)
	eventually(t, "new endpoint over NATS", func() string {
		msg, err := nc.Request("$SRV.INFO.b", nil, 5*time.Second)
		if err != nil {
			return err.Error()
		}
		if !strings.Contains(string(msg.Data), `"subject":"minimi.rpc.b.fresh"`) {
			return "INFO lacks minimi.rpc.b.fresh: " + string(msg.Data)
		}
		msg, err = nc.Request("minimi.rpc.b.fresh", nil, 5*time.Second)
		if err != nil {
			return err.Error()
		}
		if !strings.Contains(string(msg.Data), `"body":"new"`) {
			return "reply " + string(msg.Data)
		}
		return ""
	})
}

// TestServeLogsNoBusSecret: the NATS URL in the log leaves out its password
// or token, as nats.go's own lines do, so that the log of a service on a
// protected bus holds no credential of it.
func TestServeLogsNoBusSecret(t *testing.T) {
	for _, tc := range []struct {
		name, secret, user string
		want               string // how the log writes the URL's credentials
	}{
		{"password", "s3cret-bus-pw", "minimi", "nats://minimi:xxxxx@"},
		{"token", "s3cret-bus-token", "", "nats://xxxxx@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := bustest.Options(t)
			creds := tc.secret
			if tc.user != "" {
				opts.Username, opts.Password = tc.user, tc.secret
				creds = tc.user + ":" + tc.secret
			} else {
				opts.Authorization = tc.secret
			}
			ns := bustest.Server(t, opts)
			url := strings.Replace(ns.ClientURL(), "nats://", "nats://"+creds+"@", 1)
			p := startServe(t, copyTree(t, "testdata/services/b"), "MINIMI_NATS_ENABLED=true", "MINIMI_NATS_URL="+url)
			p.waitLog(t, `"msg":"serving"`)
			p.waitLog(t, tc.want)
			if strings.Contains(p.logs.String(), tc.secret) {
				t.Errorf("the log holds the bus's secret %q:\n%s", tc.secret, p.logs)
			}
		})
	}
}

// TestTwoServicesExample runs examples/two-services as its README does: an
// order reserves stock in the inventory over NATS, one the inventory cannot
// fill is its 409, and one whose count is not a whole number from 1 (1.5,
// "2", 0) is a 422 that reserves nothing, from either service.
func TestTwoServicesExample(t *testing.T) {
	_, env := natsForServe(t)
	b := startServe(t, copyTree(t, "../../examples/two-services/b"), env...)
	a := startServe(t, copyTree(t, "../../examples/two-services/a"), env...)
	order := func(body string) reply {
		t.Helper()
		return do(t, "POST", a.base+"/orders", "application/json", body)
	}
	if r := order(`{"sku":"pear","count":1}`); r.status != 201 || r.json(t)["left"] != 1.0 {
		t.Fatalf("POST /orders pear 1=%d %s, want 201 with left 1", r.status, r.body)
	}
	if r := order(`{"sku":"pear","count":5}`); r.status != 409 || r.json(t)["detail"] != "only 1 Pear left" {
		t.Errorf("POST /orders pear 5=%d %s, want 409 only 1 Pear left", r.status, r.body)
	}
	for _, count := range []string{`1.5`, `"2"`, `0`, `-1`} {
		if r := order(`{"sku":"apple","count":` + count + `}`); r.status != 422 {
			t.Errorf("POST /orders count %s=%d %s, want 422", count, r.status, r.body)
		}
		if r := do(t, "POST", b.base+"/reserve", "application/json", `{"sku":"apple","count":`+count+`}`); r.status != 422 {
			t.Errorf("POST /reserve count %s=%d %s, want 422", count, r.status, r.body)
		}
	}
	if r := order(`{"sku":"apple"}`); r.status != 201 || r.json(t)["left"] != 9.0 {
		t.Errorf("POST /orders apple=%d %s, want 201 with left 9: the refused orders reserved nothing", r.status, r.body)
	}
}
