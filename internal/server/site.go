package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

// Spec is what a service's endpoints tree declares, read without compiling
// any script: the route table and the collections with their stores.
type Spec struct {
	Table *router.Table
	// Stores and Collections are what the stash and schema files declare,
	// plus the installs collection.
	Stores      []stash.StoreSpec
	Collections []stash.CollectionSpec
	// collectionOf maps each folder to the collection its requests use.
	collectionOf map[*router.Folder]string
	// schemas are the JSON Schemas of the collections, by path, for OPTIONS.
	schemas map[string]json.RawMessage
}

// Site is one loaded version of a service: its config, spec and compiled
// scripts. A reload builds a new Site beside the old one.
type Site struct {
	*Spec
	Dir     string
	Config  *config.Config
	Engine  *phases.Engine
	backend Backend
}

// Backend is what a site's requests read and write.
type Backend struct {
	// Stash holds the collections; nil leaves req.stash nil.
	Stash *stash.Set
	// Log makes commands durable, each one event (DESIGN §6), recorded as
	// the config of the site that ran it says (log_body); nil commits stash
	// writes directly.
	Log *eventsource.Log
	// activate, when set, is what Site.Activate does: what a reloaded site
	// changes in the running stores once it is sure to serve.
	activate func() error
}

// commit is the CommitFunc of a site with config cfg, nil without a log.
func (b Backend) commit(cfg *config.Config) phases.CommitFunc {
	if b.Log == nil {
		return nil
	}
	return logCommands(b.Log, cfg, b.Stash)
}

// SiteOptions configures LoadSite.
type SiteOptions struct {
	// Logger receives the scripts' log lines; nil means discard.
	Logger *slog.Logger
	// Open opens the stores of the site's collections. Nil loads the site
	// without stores (for check and routes).
	Open func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (Backend, error)
	// Bus is the message bus of the scripts' nats and service modules; nil
	// means the bus is off.
	Bus phases.Bus
	// Observer is told how long each route's phases take and why its scripts
	// fail (a *metrics.Metrics); nil means nobody is.
	Observer phases.Observer
}

// InstallsCollection records which install scripts have run. It lives in
// the default store, so its marker commits with the install's own writes.
const InstallsCollection = "/_minimi/installs"

// ReadSpec walks dir/endpoints and parses every schema and stash file. All
// problems are reported together, each naming its file.
func ReadSpec(dir string, cfg *config.Config) (*Spec, error) {
	spec, err := readSpec(dir, cfg)
	if err != nil {
		return nil, err
	}
	return spec, nil
}

// ErrNoEndpoints is the error of a service directory without endpoints/.
var ErrNoEndpoints = errors.New("no endpoints folder")

// CheckDir reports whether dir holds a service: an endpoints folder. serve
// checks it before it starts anything else. The error names dir as an
// absolute path: "." says nothing of where the command ran.
func CheckDir(dir string) error {
	st, err := os.Stat(filepath.Join(dir, "endpoints"))
	if err == nil && st.IsDir() {
		return nil
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return fmt.Errorf("%w in %s: pass the service's directory with --dir, or make one with minimi init", ErrNoEndpoints, dir)
}

// readSpec is ReadSpec that goes on past problems: with them it returns
// the spec of the rest of the tree (nil for a bad phase name), for LoadSite
// to check the scripts of. That spec must not be served.
func readSpec(dir string, cfg *config.Config) (*Spec, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	endpoints := os.DirFS(filepath.Join(dir, "endpoints"))
	table, err := router.WalkPartial(endpoints, cfg.Phases)
	if table == nil {
		return nil, err
	}
	errs := []error{err}
	spec := &Spec{Table: table}
	errs = append(errs, spec.readStashes(endpoints)...)
	errs = append(errs, checkEndpointKeys(cfg, table))
	// The installs' ids are folder URLs ("/notes", "/"), and no URL serves them.
	spec.Collections = append(spec.Collections, stash.CollectionSpec{Path: InstallsCollection, AnyID: true})
	return spec, errors.Join(errs...)
}

// DataDir is the config's data_dir, relative to the service directory.
func DataDir(dir string, cfg *config.Config) string {
	if filepath.IsAbs(cfg.DataDir) {
		return cfg.DataDir
	}
	return filepath.Join(dir, cfg.DataDir)
}

// OpenStashes opens the stores of the service in dir, for commands that
// work on its data without serving it (events, replay). opts.DataDir,
// Stores and Collections are filled in.
func OpenStashes(dir string, cfg *config.Config, opts stash.Options) (*stash.Set, error) {
	spec, err := ReadSpec(dir, cfg)
	if err != nil {
		return nil, err
	}
	opts.DataDir, opts.Stores, opts.Collections = DataDir(dir, cfg), spec.Stores, spec.Collections
	return stash.Open(opts)
}

// LoadSite reads the spec of the service in dir, opens its stores through
// opts.Open, compiles every script (and dir/lib) and plans every route. All
// problems are reported together, each naming its file (and line, for
// scripts), sorted as Problems sorts them: a tree with misnamed files or bad
// schema or stash files opens no stores, but its other scripts are still
// compiled, to report their problems too.
func LoadSite(dir string, cfg *config.Config, opts SiteOptions) (*Site, error) {
	spec, err := readSpec(dir, cfg)
	if spec == nil {
		return nil, err
	}
	if err != nil {
		if e, lerr := phases.Load(spec.Table, engineOptions(dir, cfg, spec, Backend{}, opts)); lerr != nil {
			err = errors.Join(err, lerr)
		} else {
			e.Close()
		}
		return nil, errors.Join(Problems(err)...)
	}
	site := &Site{Spec: spec, Dir: dir, Config: cfg}
	if opts.Open != nil {
		if site.backend, err = opts.Open(spec.Stores, spec.Collections); err != nil {
			return nil, err
		}
	}
	site.Engine, err = phases.Load(spec.Table, engineOptions(dir, cfg, spec, site.backend, opts))
	if err != nil {
		return nil, errors.Join(Problems(err)...)
	}
	return site, nil
}

// engineOptions are the phases.Options of the service in dir.
func engineOptions(dir string, cfg *config.Config, spec *Spec, b Backend, opts SiteOptions) phases.Options {
	var lib fs.FS
	if st, err := os.Stat(filepath.Join(dir, "lib")); err == nil && st.IsDir() {
		lib = os.DirFS(filepath.Join(dir, "lib"))
	}
	return phases.Options{
		Phases:         cfg.Phases,
		Endpoints:      os.DirFS(filepath.Join(dir, "endpoints")),
		Lib:            lib,
		ScriptTimeout:  time.Duration(cfg.Limits.ScriptMS) * time.Millisecond,
		CallStackSize:  cfg.Limits.CallStack,
		RegistrySize:   cfg.Limits.Registry,
		Dev:            cfg.Dev,
		EndpointConfig: cfg.Custom,
		Stash:          b.Stash,
		CollectionOf:   func(f *router.Folder) string { return spec.collectionOf[f] },
		Commit:         b.commit(cfg),
		Logger:         opts.Logger,
		AuthSecret:     cfg.Auth.Secret,
		Bus:            opts.Bus,
		Observer:       opts.Observer,
	}
}

// readStashes parses the schema and stash files of the tree and resolves,
// for every folder, the collection its requests use: its own or its
// nearest ancestor's (DESIGN §2).
func (s *Spec) readStashes(endpoints fs.FS) []error {
	var errs []error
	storeOf := map[*router.Folder]string{}
	s.collectionOf = map[*router.Folder]string{}
	s.schemas = map[string]json.RawMessage{}
	seen := map[string]string{}
	for _, f := range s.Table.Folders { // parents come before children
		if f.Parent != nil {
			storeOf[f] = storeOf[f.Parent]
			s.collectionOf[f] = s.collectionOf[f.Parent]
		}
		if f.Stash != "" {
			spec, err := readStore(endpoints, f)
			if err != nil {
				errs = append(errs, err)
			} else {
				s.Stores = append(s.Stores, spec)
				storeOf[f] = spec.Name
			}
		}
		if f.Schema == "" {
			continue
		}
		if other, dup := seen[f.URL]; dup {
			errs = append(errs, &router.PathError{Op: "schema", Path: "endpoints/" + f.Schema,
				Err: errors.New("a second collection at " + f.URL + " (also endpoints/" + other + ")")})
			continue
		}
		seen[f.URL] = f.Schema
		data, err := router.ReadFile(endpoints, "endpoints", f.Schema)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		schema, err := stash.ParseSchema("endpoints/"+f.Schema, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.Collections = append(s.Collections, stash.CollectionSpec{Path: f.URL, Store: storeOf[f], Schema: schema})
		var doc struct {
			Schema json.RawMessage `json:"schema"`
		}
		_ = json.Unmarshal(data, &doc) // ParseSchema accepted it
		s.schemas[f.URL] = doc.Schema
		s.collectionOf[f] = f.URL
	}
	return errs
}

func readStore(endpoints fs.FS, f *router.Folder) (stash.StoreSpec, error) {
	data, err := router.ReadFile(endpoints, "endpoints", f.Stash)
	if err != nil {
		return stash.StoreSpec{}, err
	}
	spec, err := stash.ParseStore("endpoints/"+f.Stash, data)
	if err != nil {
		return spec, err
	}
	spec.Name = f.URL
	return spec, nil
}

// checkEndpointKeys refuses config endpoints entries that name no folder.
// A key that names a parameter as a route pattern or the request log does
// ({id}, :id) is told the folder's name when that folder exists, and one
// that names a group folder ((admin)) is told that a group has no URL.
func checkEndpointKeys(cfg *config.Config, t *router.Table) error {
	var errs []error
	for key := range cfg.Endpoints {
		if key == "/" || t.Lookup(key) != nil {
			continue
		}
		err := errors.New("no folder serves this URL")
		noGroups := withoutGroups(key)
		switch alt := folderNotation(noGroups); {
		case noGroups != key && alt != "/" && t.Lookup(alt) != nil:
			err = fmt.Errorf("no folder serves this URL; the folder's URL is %q: a group folder adds no segment to a URL", alt)
		case noGroups != key:
			err = errors.New("no folder serves this URL: a group folder adds no segment to a URL, so a key cannot name one; name the URLs inside it")
		case alt != key && t.Lookup(alt) != nil:
			err = fmt.Errorf("no folder serves this URL; the folder is %q: a key names a parameter as its folder does", alt)
		}
		errs = append(errs, &config.KeyError{Key: "endpoints." + key, Err: err})
	}
	return errors.Join(errs...)
}

// withoutGroups is url without its group segments, (name): "/(admin)/panel"
// is "/panel", "/(admin)" is "/".
func withoutGroups(url string) string {
	segs := strings.Split(url, "/")
	out := segs[:0]
	for _, seg := range segs {
		if !(len(seg) > 2 && strings.HasPrefix(seg, "(") && strings.HasSuffix(seg, ")")) {
			out = append(out, seg)
		}
	}
	if joined := strings.Join(out, "/"); joined != "" {
		return joined
	}
	return "/"
}

// folderNotation writes the segments {name} and :name of url as a folder
// names its parameter: [name].
func folderNotation(url string) string {
	segs := strings.Split(url, "/")
	for i, seg := range segs {
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && len(seg) > 2:
			segs[i] = "[" + seg[1:len(seg)-1] + "]"
		case strings.HasPrefix(seg, ":") && len(seg) > 1:
			segs[i] = "[" + seg[1:] + "]"
		}
	}
	return strings.Join(segs, "/")
}

// Schema returns the JSON Schema of the collection requests to f use, or nil.
func (s *Spec) Schema(f *router.Folder) json.RawMessage {
	return s.schemas[s.collectionOf[f]]
}

// Stash returns the site's stashes, nil when it was loaded without them.
func (s *Site) Stash() *stash.Set { return s.backend.Stash }

// Close releases the site's Lua states. The stores belong to whoever opened them.
func (s *Site) Close() { s.Engine.Close() }

// Activate applies what a reloaded site changes in the stores it shares with
// the running one (new validation rules of a schema file); call it just
// before the site starts serving. It does nothing for a site that changes
// nothing there.
func (s *Site) Activate() error {
	if s.backend.activate == nil {
		return nil
	}
	return s.backend.activate()
}
