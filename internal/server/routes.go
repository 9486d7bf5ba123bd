package server

import (
	"github.com/minimi-go/minimi/internal/router"
)

// Route describes one folder of the route table, for /_minimi/routes and
// `minimi routes`.
type Route struct {
	URL     string   `json:"url"`
	Pattern string   `json:"pattern"`
	Kind    string   `json:"kind"`
	Methods []string `json:"methods,omitempty"`
	Phases  []Phase  `json:"phases,omitempty"`
	Schema  string   `json:"schema,omitempty"`
	Stash   string   `json:"stash,omitempty"`
}

// Phase is one processor of a folder.
type Phase struct {
	Phase    string   `json:"phase"`
	File     string   `json:"file"`
	Handlers []string `json:"handlers"`
}

// Routes lists every folder of the site's table with its processors, and the
// methods of the folders that are the target of a URL.
func Routes(site *Site) []Route {
	out := make([]Route, 0, len(site.Table.Folders))
	for _, f := range site.Table.Folders {
		r := Route{URL: f.URL, Pattern: f.Pattern, Kind: f.Segment.Kind.String(), Methods: site.Engine.Allow(f)}
		if f.Segment.Kind == router.Group {
			r.Pattern = ""
		}
		for _, phase := range site.Config.Phases {
			if file, ok := f.Processors[phase]; ok {
				r.Phases = append(r.Phases, Phase{Phase: phase, File: "endpoints/" + file, Handlers: site.Engine.Handlers(f, phase)})
			}
		}
		if f.Schema != "" {
			r.Schema = "endpoints/" + f.Schema
		}
		if f.Stash != "" {
			r.Stash = "endpoints/" + f.Stash
		}
		out = append(out, r)
	}
	return out
}
