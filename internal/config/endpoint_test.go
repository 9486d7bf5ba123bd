package config

import (
	"reflect"
	"testing"
)

func TestConfigEndpoint(t *testing.T) {
	c := DefaultConfig()
	c.Endpoints = map[string]Endpoint{
		"/":              {"a": 1.0, "b": "root"},
		"/notes":         {"b": "notes", "c": true},
		"/notes/[id]":    {"c": false},
		"/notes-archive": {"d": 1.0},
		"/users/[id]":    {"e": 1.0},
	}
	tests := []struct {
		url  string
		want Endpoint
	}{
		{"/", Endpoint{"a": 1.0, "b": "root"}},
		{"/notes", Endpoint{"a": 1.0, "b": "notes", "c": true}},
		{"/notes/[id]", Endpoint{"a": 1.0, "b": "notes", "c": false}},
		{"/notes/[id]/comments", Endpoint{"a": 1.0, "b": "notes", "c": false}},
		{"/notes-archive", Endpoint{"a": 1.0, "b": "root", "d": 1.0}},
		{"/users", Endpoint{"a": 1.0, "b": "root"}},
		{"/other/deep", Endpoint{"a": 1.0, "b": "root"}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			if got := c.Endpoint(tc.url); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Endpoint(%q)=%v, want %v", tc.url, got, tc.want)
			}
		})
	}
}

func TestConfigEndpointEmpty(t *testing.T) {
	tests := []struct {
		name string
		c    *Config
	}{
		{"nil config", nil},
		{"no endpoints", DefaultConfig()},
		{"no match", &Config{Endpoints: map[string]Endpoint{"/a": {"x": 1.0}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.c.Endpoint("/b")
			if got == nil || len(got) != 0 {
				t.Errorf("Endpoint(/b)=%#v, want an empty non-nil map", got)
			}
			got["k"] = "writable"
		})
	}
}

func TestConfigEndpointFresh(t *testing.T) {
	c := &Config{Endpoints: map[string]Endpoint{
		"/": {"list": []any{"x"}, "obj": map[string]any{"k": "v"}, "names": []string{"n"}},
	}}
	e := c.Endpoint("/a")
	e["new"] = true
	e["list"].([]any)[0] = "changed"
	e["obj"].(map[string]any)["k"] = "changed"
	e["names"].([]string)[0] = "changed"
	want := Endpoint{"list": []any{"x"}, "obj": map[string]any{"k": "v"}, "names": []string{"n"}}
	if got := c.Endpoints["/"]; !reflect.DeepEqual(got, want) {
		t.Errorf("Endpoints[/]=%v after changing Endpoint(/a)'s result, want %v", got, want)
	}
}

func TestEndpointClients(t *testing.T) {
	tests := []struct {
		name string
		e    Endpoint
		want []string
	}{
		{"absent", Endpoint{}, nil},
		{"from JSON", Endpoint{"clients": []any{"web", "cron"}}, []string{"web", "cron"}},
		{"from Go", Endpoint{"clients": []string{"web"}}, []string{"web"}},
		{"empty list", Endpoint{"clients": []any{}}, []string{}},
		{"not a list", Endpoint{"clients": "web"}, nil},
		{"not strings", Endpoint{"clients": []any{"web", 1.0}}, nil},
		{"nil endpoint", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.Clients(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Clients()=%#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestEndpointLogBody(t *testing.T) {
	tests := []struct {
		name string
		e    Endpoint
		want bool
	}{
		{"absent", Endpoint{}, false},
		{"true", Endpoint{"log_body": true}, true},
		{"false", Endpoint{"log_body": false}, false},
		{"string", Endpoint{"log_body": "true"}, false},
		{"nil endpoint", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.LogBody(); got != tc.want {
				t.Errorf("LogBody()=%v, want %v", got, tc.want)
			}
		})
	}
}

// TestConfigLogBody: Config.LogBody says what the merged settings say.
func TestConfigLogBody(t *testing.T) {
	cfg := &Config{Endpoints: map[string]Endpoint{
		"/":            {"log_body": true},
		"/notes":       {"log_body": false, "x": 1.0},
		"/notes/[id]":  {"x": 2.0},
		"/users":       {"x": 3.0},
		"/users/[id]":  {"log_body": "yes"},
		"/notesbook":   {"log_body": false},
		"/tags/[name]": {"log_body": true},
	}}
	for _, url := range []string{"/", "/notes", "/notes/[id]", "/notesbook", "/users", "/users/[id]", "/tags", "/tags/[name]", "/other/[x]"} {
		if got, want := cfg.LogBody(url), cfg.Endpoint(url).LogBody(); got != want {
			t.Errorf("LogBody(%q)=%v, want %v", url, got, want)
		}
	}
	if (*Config)(nil).LogBody("/") {
		t.Error("nil LogBody(\"/\")=true, want false")
	}
}

// TestConfigCustom: req.config holds the custom keys only, not MiniMi's
// own clients and log_body, wherever they are set.
func TestConfigCustom(t *testing.T) {
	c := DefaultConfig()
	c.Endpoints = map[string]Endpoint{
		"/notes":      {"page_size": 20.0, "clients": []any{"web"}},
		"/notes/[id]": {"log_body": true},
	}
	for url, want := range map[string]map[string]any{
		"/notes":      {"page_size": 20.0},
		"/notes/[id]": {"page_size": 20.0},
		"/users":      {},
	} {
		if got := c.Custom(url); !reflect.DeepEqual(got, want) {
			t.Errorf("Custom(%q)=%v, want %v", url, got, want)
		}
	}
	if !c.LogBody("/notes/[id]") || !reflect.DeepEqual(c.Endpoint("/notes/[id]").Clients(), []string{"web"}) {
		t.Errorf("Custom changed the settings MiniMi reads: log_body %v, clients %v",
			c.LogBody("/notes/[id]"), c.Endpoint("/notes/[id]").Clients())
	}
}

func TestEndpointsListClients(t *testing.T) {
	c := DefaultConfig()
	if c.EndpointsListClients() {
		t.Errorf("no endpoints: EndpointsListClients()=true")
	}
	c.Endpoints = map[string]Endpoint{"/notes": {"log_body": true}}
	if c.EndpointsListClients() {
		t.Errorf("an entry without clients: EndpointsListClients()=true")
	}
	c.Endpoints["/admin"] = Endpoint{"clients": []any{"ops"}}
	if !c.EndpointsListClients() {
		t.Errorf("an entry with clients: EndpointsListClients()=false")
	}
}
