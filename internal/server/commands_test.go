package server

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/stash"
)

// TestReloadedLogBody: the log records a command's body as the config of
// the site that ran it says, so a reload that turns log_body on or off
// takes effect with the next request, as every other endpoint setting does.
func TestReloadedLogBody(t *testing.T) {
	dir := writeTree(t, notesSite)
	var log *eventsource.Log
	open := func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (Backend, error) {
		b, err := openUnder(t, dir)(stores, colls)
		if err != nil {
			return Backend{}, err
		}
		set := b.Stash
		if log, err = eventsource.Open(set, eventsource.Options{Service: "test"}); err != nil {
			return Backend{}, err
		}
		t.Cleanup(func() { _ = log.Close(context.Background()) })
		return Backend{Stash: set, Log: log}, nil
	}
	withBody, without := config.DefaultConfig(), config.DefaultConfig()
	withBody.Endpoints = map[string]config.Endpoint{"/notes": {"log_body": true}}

	first, err := LoadSite(dir, without, SiteOptions{Open: open})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Close)
	site := first
	for i, cfg := range []*config.Config{without, withBody, without} {
		if i > 0 { // a reload: the new site reuses the running stores and log
			if site, err = LoadSite(dir, cfg, SiteOptions{Open: first.Reuse()}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(site.Close)
		}
		s := serveSite(t, site, nil)
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/notes", strings.NewReader(`{"title":"t`+string(rune('0'+i))+`"}`))
		req.Header.Set("Content-Type", "application/json")
		s.ServeHTTP(rec, req)
		if rec.Code != 201 {
			t.Fatalf("POST /notes=%d %s", rec.Code, rec.Body)
		}
	}
	var bodies []string
	if err := log.Read(0, 10, func(ev *eventsource.Event) error {
		if ev.Command.Path == "/notes" {
			bodies = append(bodies, string(ev.Command.Body))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"", `{"title":"t1"}`, ""}
	if strings.Join(bodies, "|") != strings.Join(want, "|") {
		t.Errorf("recorded bodies %q, want %q: log_body as each site's config says", bodies, want)
	}
}

// TestLogBodyRedacts: a body recorded with log_body leaves out every member,
// at any depth, named as an x-hash or x-hidden field of any collection, so
// that no plain password reaches the data files and no hidden value the
// event stream, whichever endpoint it was sent to.
func TestLogBodyRedacts(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"endpoints/users/users.schema.json": `{"schema": {"type": "object", "properties": {
			"name": {"type": "string"},
			"password": {"type": "string", "x-hash": true, "x-hidden": true},
			"pin": {"type": "string", "x-hidden": true}}}}`,
		"endpoints/users/users.execute.lua":   `return { POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end }`,
		"endpoints/signup/signup.execute.lua": `return { POST = function(req, res) res:status(201):json(stash.at("/users"):create(req.body)) end }`,
		"endpoints/echo/echo.execute.lua":     `return { POST = function(req, res) res:status(201):json(req.body) end }`,
		"endpoints/nested/nested.execute.lua": `return { POST = function(req, res) res:status(201):json(req.body) end }`,
	})
	var log *eventsource.Log
	open := func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (Backend, error) {
		b, err := openUnder(t, dir)(stores, colls)
		if err != nil {
			return Backend{}, err
		}
		if log, err = eventsource.Open(b.Stash, eventsource.Options{Service: "test"}); err != nil {
			return Backend{}, err
		}
		t.Cleanup(func() { _ = log.Close(context.Background()) })
		return Backend{Stash: b.Stash, Log: log}, nil
	}
	cfg := config.DefaultConfig()
	cfg.Endpoints = map[string]config.Endpoint{"/": {"log_body": true}}
	site, err := LoadSite(dir, cfg, SiteOptions{Open: open})
	if err != nil {
		t.Fatal(err)
	}
	s := serveSite(t, site, nil)
	for _, path := range []string{"/users", "/signup", "/echo", "/nested"} {
		body := `{"name":"ada","password":"correct horse","pin":"4321"}`
		if path == "/nested" {
			body = `[{"user":{"name":"ada","n":1.50,"password":"correct horse"}},{"pin":"4321"}]`
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		s.ServeHTTP(rec, req)
		if rec.Code != 201 {
			t.Fatalf("POST %s=%d %s", path, rec.Code, rec.Body)
		}
	}
	bodies := map[string]string{}
	if err := log.Read(0, 10, func(ev *eventsource.Event) error {
		bodies[ev.Command.Path] = string(ev.Command.Body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/users":  `{"name":"ada"}`,
		"/signup": `{"name":"ada"}`,
		"/echo":   `{"name":"ada"}`, // no collection of its own: the names of the service's secret fields all the same
		"/nested": `[{"user":{"n":1.50,"name":"ada"}},{}]`,
	}
	for path, w := range want {
		if bodies[path] != w {
			t.Errorf("recorded body of %s=%s, want %s", path, bodies[path], w)
		}
	}
}
