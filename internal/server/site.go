package server

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/router"
)

// Site is one loaded version of a service: its config, route table and
// compiled scripts. A reload builds a new Site beside the old one.
type Site struct {
	Dir    string
	Config *config.Config
	Table  *router.Table
	Engine *phases.Engine
}

// LoadSite walks dir/endpoints, compiles every script (and dir/lib) and
// plans every route. All problems are reported together, each naming its
// file (and line, for scripts).
func LoadSite(dir string, cfg *config.Config, lg *slog.Logger) (*Site, error) {
	endpoints := os.DirFS(filepath.Join(dir, "endpoints"))
	table, err := router.Walk(endpoints, cfg.Phases)
	if err != nil {
		return nil, err
	}
	var lib fs.FS
	if st, err := os.Stat(filepath.Join(dir, "lib")); err == nil && st.IsDir() {
		lib = os.DirFS(filepath.Join(dir, "lib"))
	}
	eng, err := phases.Load(table, phases.Options{
		Phases:        cfg.Phases,
		Endpoints:     endpoints,
		Lib:           lib,
		ScriptTimeout: time.Duration(cfg.Limits.ScriptMS) * time.Millisecond,
		CallStackSize: cfg.Limits.CallStack,
		RegistrySize:  cfg.Limits.Registry,
		Dev:           cfg.Dev,
		EndpointConfig: func(url string) map[string]any {
			return cfg.Endpoint(url)
		},
		Logger: lg,
	})
	if err != nil {
		return nil, err
	}
	if err := checkEndpointKeys(cfg, table); err != nil {
		eng.Close()
		return nil, err
	}
	return &Site{Dir: dir, Config: cfg, Table: table, Engine: eng}, nil
}

// checkEndpointKeys refuses config endpoints entries that name no folder.
func checkEndpointKeys(cfg *config.Config, t *router.Table) error {
	var errs []error
	for key := range cfg.Endpoints {
		if key != "/" && t.Lookup(key) == nil {
			errs = append(errs, &config.KeyError{Key: "endpoints." + key, Err: errors.New("no folder serves this URL")})
		}
	}
	return errors.Join(errs...)
}

// Close releases the site's Lua states.
func (s *Site) Close() { s.Engine.Close() }
