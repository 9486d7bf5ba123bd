package config

import (
	"maps"
	"slices"
	"strings"
)

// Endpoint keys that MiniMi itself reads; every other key is custom config for the scripts.
const (
	keyClients = "clients"
	keyLogBody = "log_body"
)

// Endpoint is one endpoint's settings: the known keys below plus any custom keys the
// scripts read as req.config. Values are as encoding/json decodes them into any
// (string, float64, bool, nil, []any, map[string]any).
type Endpoint map[string]any

// Clients is "clients": the names of the configured clients allowed on the endpoint's
// subtree, or nil when the key is absent (then every known client is allowed).
func (e Endpoint) Clients() []string {
	names, _ := stringList(e[keyClients])
	return names
}

// LogBody is "log_body": whether the event log records the request body of commands.
func (e Endpoint) LogBody() bool {
	b, _ := e[keyLogBody].(bool)
	return b
}

// stringList converts a JSON array of strings (or a []string set from Go) to a fresh []string.
func stringList(v any) ([]string, bool) {
	switch v := v.(type) {
	case []string:
		return slices.Clone(v), true
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// Endpoint returns the merged settings for the folder URL url: every Endpoints entry whose
// key is url or an ancestor of it ("/notes" applies to "/notes/[id]", "/" to every URL),
// with deeper keys overriding shallower ones key by key. The result is a fresh deep copy
// that the caller may change; it is empty, never nil, when nothing applies or c is nil.
func (c *Config) Endpoint(url string) Endpoint {
	out := Endpoint{}
	if c == nil {
		return out
	}
	var keys []string
	for key := range c.Endpoints {
		if appliesTo(key, url) {
			keys = append(keys, key)
		}
	}
	// The matching keys are ancestors of one URL, so a longer key is a deeper one.
	slices.SortFunc(keys, func(a, b string) int { return len(a) - len(b) })
	for _, key := range keys {
		for k, v := range c.Endpoints[key] {
			out[k] = deepCopy(v)
		}
	}
	return out
}

// EndpointsListClients reports whether some entry of Endpoints has a
// "clients" list, that is whether any endpoint keeps some clients out.
func (c *Config) EndpointsListClients() bool {
	if c == nil {
		return false
	}
	for _, e := range c.Endpoints {
		if _, ok := e[keyClients]; ok {
			return true
		}
	}
	return false
}

// Custom is Endpoint(url) without MiniMi's own keys (clients, log_body): the
// custom config that scripts read as req.config.
func (c *Config) Custom(url string) map[string]any {
	e := c.Endpoint(url)
	delete(e, keyClients)
	delete(e, keyLogBody)
	return e
}

// LogBody is Endpoint(url).LogBody() without building the merged settings:
// the "log_body" of the deepest Endpoints entry that applies to url and sets it.
func (c *Config) LogBody(url string) bool {
	if c == nil {
		return false
	}
	from, found := "", false // the entry whose log_body counts
	for key, e := range c.Endpoints {
		if _, ok := e[keyLogBody]; ok && appliesTo(key, url) && (!found || len(key) > len(from)) {
			from, found = key, true
		}
	}
	if !found {
		return false
	}
	b, _ := c.Endpoints[from][keyLogBody].(bool)
	return b
}

// appliesTo reports whether the settings at key apply to the folder URL url.
func appliesTo(key, url string) bool {
	return key == url || key == "/" || strings.HasPrefix(url, key+"/")
}

// deepCopy copies the maps and slices of a decoded JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := maps.Clone(v)
		for k, x := range m {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := slices.Clone(v)
		for i, x := range s {
			s[i] = deepCopy(x)
		}
		return s
	case []string:
		return slices.Clone(v)
	}
	return v
}
