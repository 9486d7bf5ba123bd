package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
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

// TestRequireCycle: a module required again while it is still loading (a
// require cycle) is an error that names the cycle and the line that closes
// it, not a stack overflow whose message repeats the chain of requires
// until the stack ends. Modules that require each other inside functions,
// after both loaded, are no cycle.
func TestRequireCycle(t *testing.T) {
	tests := []struct {
		name string
		libs map[string]string
		want string // the LoadSite error of a processor that requires "a" at its top level, or "" for none
	}{
		{"itself", map[string]string{"lib/a.lua": `return require("a")`},
			`endpoints/usea/usea.execute.lua:1: require("a"): lib/a.lua requires itself (a → a), at lib/a.lua:1`},
		{"two modules", map[string]string{"lib/a.lua": "local b = require(\"b\")\nreturn b", "lib/b.lua": "\nreturn require(\"a\")"},
			`endpoints/usea/usea.execute.lua:1: require("a"): cycle a → b → a, at lib/b.lua:2`},
		{"three modules", map[string]string{"lib/a.lua": `return require("b")`, "lib/b.lua": `return require("c.d")`,
			"lib/c/d.lua": `return require("a")`},
			`endpoints/usea/usea.execute.lua:1: require("a"): cycle a → b → c.d → a, at lib/c/d.lua:1`},
		{"below the first module", map[string]string{"lib/a.lua": `return require("b")`, "lib/b.lua": `return require("c")`,
			"lib/c.lua": `return require("b")`},
			`endpoints/usea/usea.execute.lua:1: require("a"): lib/a.lua:1: require("b"): cycle b → c → b, at lib/c.lua:1`},
		{"caught", map[string]string{"lib/a.lua": `return { v = require("b") }`,
			"lib/b.lua": `local ok, err = pcall(require, "a") return err`}, ""},
		{"inside functions", map[string]string{
			"lib/a.lua": `local b = require("b") return { v = function() return b.w() end, x = 1 }`,
			"lib/b.lua": `return { w = function() return require("a").x end }`}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"endpoints/usea/usea.execute.lua": "local a = require(\"a\")\nreturn { GET = function(req, res) res:json({ v = a.v }) end }",
			}
			for k, v := range tc.libs {
				files[k] = v
			}
			site, err := LoadSite(writeTree(t, files), config.DefaultConfig(), SiteOptions{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("LoadSite()=%v, want no error", err)
				}
				site.Close()
				return
			}
			if err == nil {
				site.Close()
				t.Fatal("LoadSite()=nil, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "stack overflow") {
				t.Errorf("LoadSite()=%v, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestRequireCycleAtRequestTime: a require cycle met in a handler is a 500
// whose log names the cycle; a module caught in one can be required by the
// next request.
func TestRequireCycleAtRequestTime(t *testing.T) {
	ts, logs := serveLogged(t, map[string]string{
		"lib/a.lua":                       `return require("b")`,
		"lib/b.lua":                       `return require("a")`,
		"lib/c.lua":                       `return { v = 1 }`,
		"endpoints/lazy/lazy.execute.lua": "return { GET = function(req, res)\n  require(\"a\")\nend, POST = function(req, res)\n  res:json(require(\"c\"))\nend }",
	})
	for range 2 {
		if got := get(t, "GET", ts.URL+"/lazy"); got != 500 {
			t.Fatalf("GET /lazy=%d, want 500", got)
		}
		if got := get(t, "POST", ts.URL+"/lazy"); got != 200 {
			t.Fatalf("POST /lazy=%d, want 200", got)
		}
	}
	want := `endpoints/lazy/lazy.execute.lua:2: require("a"): cycle a → b → a, at lib/b.lua:1`
	for _, l := range logLines(t, logs, "request failed") {
		if l["error"] != want {
			t.Errorf("request failed: error %q, want %q", l["error"], want)
		}
	}
}

// TestRequireCycleCaught: a module that catches the error of a require
// cycle gets its message, without the line of a require that pcall made.
func TestRequireCycleCaught(t *testing.T) {
	ts, _ := serveLogged(t, map[string]string{
		"lib/a.lua":                           `return { v = require("b") }`,
		"lib/b.lua":                           `local ok, err = pcall(require, "a") return err`,
		"endpoints/caught/caught.execute.lua": `return { GET = function(req, res) res:json(require("a")) end }`,
	})
	resp, err := http.Get(ts.URL + "/caught")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := `{"v":"require(\"a\"): cycle a → b → a"}`; resp.StatusCode != 200 || string(body) != want {
		t.Errorf("GET /caught=%d %s, want 200 %s", resp.StatusCode, body, want)
	}
}

// TestDocRequireCycle runs the example of docs/lua.md on a require cycle.
func TestDocRequireCycle(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "lua.md"))
	if err != nil {
		t.Fatal(err)
	}
	const first = "-- lib/a.lua\nlocal b = require(\"b\")\n"
	_, block, ok := strings.Cut(string(doc), "```lua\n"+first)
	block, _, closed := strings.Cut(first+block, "\n```")
	if !ok || !closed {
		t.Fatalf("docs/lua.md has no lua block starting %q", first)
	}
	block, want, _ := strings.Cut(block, "\n-- GET /cycle is a 500; the log's error: ")
	files := map[string]string{}
	for _, part := range strings.Split(block, "\n\n") {
		name, src, _ := strings.Cut(strings.TrimPrefix(part, "-- "), "\n")
		files[name] = src
	}
	ts, logs := serveLogged(t, files)
	if got := get(t, "GET", ts.URL+"/cycle"); got != 500 {
		t.Fatalf("GET /cycle=%d, want 500", got)
	}
	if failed := logLines(t, logs, "request failed"); len(failed) != 1 || failed[0]["error"] != want {
		t.Errorf("request failed lines=%v, want one with error %q", failed, want)
	}
}
