package server

import (
	"slices"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
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
