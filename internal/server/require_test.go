package server

import (
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
)

// TestRequireBrokenLib: a lib module that does not compile, or fails while
// it runs, is reported as such, with its file:line, wherever require meets
// it: when the site loads and during a request.
func TestRequireBrokenLib(t *testing.T) {
	usel := map[string]string{
		"endpoints/usel/usel.execute.lua": "local m = require(\"m\")\nreturn { GET = function(req, res) res:json({ v = m.v }) end }",
	}
	tests := []struct {
		name  string
		lib   string
		wants []string
	}{
		{"does not compile", "return { v = \n", []string{
			`lib/m.lua:2: syntax error`,
			`endpoints/usel/usel.execute.lua:1: require("m"): lib/m.lua:2: syntax error`,
		}},
		{"fails as it runs", "local x = 1\nerror(\"no config\")\n", []string{
			`endpoints/usel/usel.execute.lua:1: require("m"): lib/m.lua:2: no config`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"lib/m.lua": tc.lib}
			for k, v := range usel {
				files[k] = v
			}
			_, err := LoadSite(writeTree(t, files), config.DefaultConfig(), SiteOptions{})
			if err == nil {
				t.Fatal("LoadSite()=nil, want an error")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadSite()=%v, want it to say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "not found") {
				t.Errorf("LoadSite()=%v, want no \"not found\": the module is there", err)
			}
		})
	}
}

// TestRequireAtRequestTime: a module required inside a handler that fails
// as it runs is a 500 whose log names the module's file:line; an error value
// it raises keeps its status.
func TestRequireAtRequestTime(t *testing.T) {
	ts, logs := serveLogged(t, map[string]string{
		"lib/fails.lua":                   "local x = 1\nerror(\"boom\")\n",
		"lib/refuses.lua":                 `error({ status = 409, detail = "taken" })`,
		"endpoints/lazy/lazy.execute.lua": "return { GET = function(req, res)\n  require(\"fails\")\nend, POST = function(req, res)\n  require(\"refuses\")\nend }",
	})
	if got := get(t, "GET", ts.URL+"/lazy"); got != 500 {
		t.Fatalf("GET /lazy=%d, want 500", got)
	}
	failed := logLines(t, logs, "request failed")
	want := `endpoints/lazy/lazy.execute.lua:2: require("fails"): lib/fails.lua:2: boom`
	if len(failed) != 1 || failed[0]["error"] != want || failed[0]["source"] != "endpoints/lazy/lazy.execute.lua:2" {
		t.Errorf("request failed lines=%v, want one with error %q at lazy.execute.lua:2", failed, want)
	}
	if got := get(t, "POST", ts.URL+"/lazy"); got != 409 {
		t.Errorf("POST /lazy=%d, want the 409 the module raised", got)
	}
}
