package server

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/stash"
)

// TestLoadSiteReportsEveryProblem: the problems of every kind come in one
// list, sorted by file and line.
func TestLoadSiteReportsEveryProblem(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Endpoints = map[string]config.Endpoint{"/gone": {}}
	_, err := LoadSite(writeTree(t, map[string]string{
		"endpoints/b/b.execute.lua":   "return {\n GET = function() end,\n POST = 1,\n}",
		"endpoints/b/b.access.lua":    "return {\n GET = function(\n",
		"endpoints/a/a.lod.lua":       "return {}",
		"endpoints/a/a.stash.json":    `{"driver": "redis"}`,
		"endpoints/a/a.install.lua":   "x = = 1",
		"endpoints/b/[id]/[x].md":     "ignored",
		"endpoints/b/[id]/[id].x.lua": "return {}",
		"lib/z.lua":                   "return (",
	}), cfg, SiteOptions{})
	var got []string
	for _, p := range Problems(err) {
		f, _ := problemFile(p)
		got = append(got, f)
	}
	want := []string{
		"config.json",
		"endpoints/a/a.install.lua",
		"endpoints/a/a.lod.lua",
		"endpoints/a/a.stash.json",
		"endpoints/b/[id]/[id].x.lua",
		"endpoints/b/b.access.lua",
		"endpoints/b/b.execute.lua",
		"lib/z.lua",
	}
	if !slices.Equal(got, want) {
		t.Errorf("LoadSite() reported the files %q, want %q; error:\n%v", got, want, err)
	}
}

// TestLoadSiteChecksInstalls: an install script that plainly does not
// return a function, or that has no collection to seed, stops the load (and
// so minimi check) instead of the first start. Its top level is not run at
// load, so one that uses the stash there, or loops, loads.
func TestLoadSiteChecksInstalls(t *testing.T) {
	schema := `{"schema": {"type": "object"}}`
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"returns a table", map[string]string{"endpoints/a/a.schema.json": schema, "endpoints/a/a.install.lua": "return {}"},
			"endpoints/a/a.install.lua:1: must return a function(req); it returns a table"},
		{"no return", map[string]string{"endpoints/a/a.schema.json": schema, "endpoints/a/a.install.lua": "local n = 1\nseeded = n"},
			"endpoints/a/a.install.lua:2: must return a function(req); it ends without a return"},
		{"a stash at the top level", map[string]string{"endpoints/a/a.schema.json": schema,
			"endpoints/a/a.install.lua": "stash.at('/a'):create({ id = 'x' })\nlocal seed = stash.at('/a')\nreturn function(req) seed:create({}) end"}, ""},
		{"a loop at the top level", map[string]string{"endpoints/a/a.schema.json": schema,
			"endpoints/a/a.install.lua": "while true do end\nreturn function(req) end"}, ""},
		{"no collection", map[string]string{"endpoints/a/a.install.lua": "return function(req) end"},
			"endpoints/a/a.install.lua: an install script seeds a collection, and /a has none"},
		{"an ancestor's collection", map[string]string{"endpoints/a/a.schema.json": schema,
			"endpoints/a/b/b.install.lua": "return function(req) req.stash:create({}) end"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			site, err := LoadSite(writeTree(t, tc.files), config.DefaultConfig(), SiteOptions{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("LoadSite()=%v, want nil", err)
				}
				site.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadSite()=%v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestInstallTopLevelUsesTheStash: an install script's top level runs at the
// first start, where it may write to the stash as its function does.
func TestInstallTopLevelUsesTheStash(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"endpoints/a/a.schema.json": `{"schema": {"type": "object"}}`,
		"endpoints/a/a.install.lua": "stash.at('/a'):create({ id = 'top' })\nreturn function(req) req.stash:create({ id = 'fn' }) end",
	})
	site, err := LoadSite(dir, config.DefaultConfig(), SiteOptions{Open: openUnder(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)
	if ran, err := site.RunInstalls(t.Context()); err != nil || len(ran) != 1 {
		t.Fatalf("RunInstalls()=%v, %v, want /a", ran, err)
	}
	for _, id := range []string{"top", "fn"} {
		if _, err := site.Stash().Session().Get("/a", id, stash.ReadOptions{}); err != nil {
			t.Errorf("record %s: %v", id, err)
		}
	}
}

// TestEndpointKeyNotation: a config endpoints key that writes a parameter as
// chi writes it ({id}) or as :id is told the folder's name,
// and one that names a group folder is told that a group has no URL.
func TestEndpointKeyNotation(t *testing.T) {
	files := map[string]string{
		"endpoints/todos/[id]/[id].execute.lua":     "return { GET = function() end }",
		"endpoints/(admin)/panel/panel.execute.lua": "return { GET = function() end }",
	}
	for key, want := range map[string]string{
		"/todos/{id}":    `endpoints./todos/{id}: no folder serves this URL; the folder is "/todos/[id]"`,
		"/todos/:id":     `endpoints./todos/:id: no folder serves this URL; the folder is "/todos/[id]"`,
		"/todos/{name}":  `endpoints./todos/{name}: no folder serves this URL`,
		"/nothing":       `endpoints./nothing: no folder serves this URL`,
		"/(admin)/panel": `endpoints./(admin)/panel: no folder serves this URL; the folder's URL is "/panel": a group folder adds no segment to a URL`,
		"/(admin)":       `endpoints./(admin): no folder serves this URL: a group folder adds no segment to a URL, so a key cannot name one; name the URLs inside it`,
	} {
		cfg := config.DefaultConfig()
		cfg.Endpoints = map[string]config.Endpoint{key: {}}
		_, err := LoadSite(writeTree(t, files), cfg, SiteOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadSite() with endpoints key %q=%v, want %q", key, err, want)
		}
		if strings.HasSuffix(want, "this URL") && strings.Contains(err.Error(), "the folder is") {
			t.Errorf("LoadSite() with endpoints key %q=%v, want no folder named", key, err)
		}
	}
	cfg := config.DefaultConfig()
	cfg.Endpoints = map[string]config.Endpoint{"/todos/[id]": {}}
	if _, err := LoadSite(writeTree(t, files), cfg, SiteOptions{}); err != nil {
		t.Errorf("LoadSite() with endpoints key /todos/[id]=%v, want nil", err)
	}
}

// TestCheckDirNamesTheDirectory: a directory without endpoints/ is named as
// an absolute path, so that "no endpoints folder in ." says where the
// command ran.
func TestCheckDirNamesTheDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	err := CheckDir(".")
	want := "no endpoints folder in " + dir + ": pass the service's directory with --dir, or make one with minimi init"
	if !errors.Is(err, ErrNoEndpoints) || err.Error() != want {
		t.Errorf("CheckDir(.)=%v, want %q", err, want)
	}
	if err := os.Mkdir(filepath.Join(dir, "endpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir("."); err != nil {
		t.Errorf("CheckDir(.) with endpoints/=%v, want nil", err)
	}
}
