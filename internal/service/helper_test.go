package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/minimi-go/minimi/internal/bus/bustest"
	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/server"
	"github.com/minimi-go/minimi/internal/service"
	"github.com/minimi-go/minimi/internal/stash"
)

// runNATS starts an embedded nats-server on a random port.
func runNATS(t testing.TB) *natsserver.Server { return bustest.Server(t, nil) }

// connect opens a connection to ns, closed at cleanup.
func connect(t testing.TB, ns *natsserver.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatalf("Connect()=%v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// instance is one running MiniMi service: its site, HTTP server and bus service.
type instance struct {
	cfg  *config.Config
	site *server.Site
	srv  *server.Server
	svc  *service.Service
}

// start runs the service in testdata/<name> on nc; edit, when not nil,
// changes its config first. A nil nc loads it with the bus off.
func start(t testing.TB, nc *nats.Conn, dir string, edit func(*config.Config)) *instance {
	t.Helper()
	cfg, err := config.ReadConfigFile(filepath.Join(dir, "config.json"), true)
	if err != nil {
		t.Fatalf("ReadConfigFile()=%v", err)
	}
	if edit != nil {
		edit(cfg)
	}
	in := &instance{cfg: cfg}
	in.site = load(t, dir, cfg, nc)
	in.srv, err = server.New(server.Options{Site: in.site})
	if err != nil {
		t.Fatalf("server.New()=%v", err)
	}
	if nc == nil {
		return in
	}
	in.svc, err = service.New(nc, service.Options{Name: cfg.Name, Version: "v1.2.3", Handler: in.srv, Routes: in.site.Engine})
	if err != nil {
		t.Fatalf("service.New()=%v", err)
	}
	t.Cleanup(func() {
		if err := in.svc.Close(context.Background()); err != nil {
			t.Errorf("Close()=%v", err)
		}
	})
	return in
}

// load loads the site in dir with its stores under a temp dir.
func load(t testing.TB, dir string, cfg *config.Config, nc *nats.Conn) *server.Site {
	t.Helper()
	var bus phases.Bus
	if nc != nil {
		bus = service.NewClient(nc)
	}
	data := t.TempDir()
	site, err := server.LoadSite(dir, cfg, server.SiteOptions{
		Bus: bus,
		Open: func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (server.Backend, error) {
			set, err := stash.Open(stash.Options{DataDir: data, Stores: stores, Collections: colls, NoSync: true})
			if err == nil {
				t.Cleanup(func() { _ = set.Close() })
			}
			return server.Backend{Stash: set}, err
		},
	})
	if err != nil {
		t.Fatalf("LoadSite(%s)=%v", dir, err)
	}
	t.Cleanup(site.Close)
	return site
}

// httpDo sends one request to in over HTTP (in memory).
func (in *instance) httpDo(method, target, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	in.srv.ServeHTTP(w, req)
	return w
}

// envelope is a reply envelope as a plain NATS client decodes it.
type envelope struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    json.RawMessage     `json:"body"`
}

// natsDo sends a raw request envelope on subject with a plain NATS client.
func natsDo(t testing.TB, nc *nats.Conn, subject, data string) envelope {
	t.Helper()
	msg, err := nc.Request(subject, []byte(data), 5*time.Second)
	if err != nil {
		t.Fatalf("Request(%s)=%v", subject, err)
	}
	var env envelope
	if err := json.Unmarshal(msg.Data, &env); err != nil {
		t.Fatalf("reply %q: %v", msg.Data, err)
	}
	return env
}

// object decodes a JSON object.
func object(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("body %q: %v", data, err)
	}
	return m
}
