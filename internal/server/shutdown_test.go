package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// TestShutdownCutsOffSlowRequests: a request that outlasts the shutdown
// grace is cut off, the log says so with its method and path, and Serve
// returns nil.
func TestShutdownCutsOffSlowRequests(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Limits.ScriptMS = 20000
	site, err := LoadSite(writeTree(t, map[string]string{
		"endpoints/spin/spin.execute.lua": `return { POST = function(req, res)
  local t = time.ms() while time.ms() - t < 15000 do end res:send("done") end }`,
	}), cfg, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)
	logs := &syncbuf.Buffer{}
	s, err := New(Options{Site: site, Logger: slog.New(slog.NewJSONHandler(logs, nil)), AccessLog: logs,
		ShutdownTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	replied := make(chan error, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/spin", "text/plain", nil)
		if err == nil {
			resp.Body.Close()
		}
		replied <- err
	}()
	for s.inFlight.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve()=%v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the grace ran out")
	}
	t.Logf("Serve returned %v after its context ended", time.Since(start).Round(time.Millisecond))
	if err := <-replied; err == nil {
		t.Error("the request cut off got a reply")
	}
	got := logs.String()
	for _, want := range []string{
		`"msg":"stopping","component":"http","requests":1,"event_streams":0`,
		`"level":"WARN","msg":"shutdown grace ran out: the requests in flight are cut off","component":"http","requests":1,"grace":"300ms"`,
		`"level":"WARN","msg":"request cut off by the stop","component":"http","request_id":`,
		`"method":"POST","path":"/spin"`,
		`"msg":"request","component":"http"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %s:\n%s", want, got)
		}
	}
}
