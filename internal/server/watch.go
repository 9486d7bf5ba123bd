package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/minimi-go/minimi/internal/stash"
)

// ErrRestart is a change a reload cannot apply to a running service: new or
// changed stash files, a collection gained or lost, a schema's indexes,
// unique, x-hash or x-lowercase fields, or config keys that bind ports and
// files.
var ErrRestart = errors.New("this change needs a restart")

// Quiet is how long a Watcher waits after the last change before it reloads, so
// that an editor's burst of writes is one reload.
const Quiet = 100 * time.Millisecond

// Watcher watches dir/endpoints, dir/lib and the config file of a service
// for changes. Its watches are set when NewWatcher returns, so a change made
// from then on is seen, however soon Run starts.
type Watcher struct {
	w        *fsnotify.Watcher
	t        *tree
	relevant func(path string) bool
	lg       *slog.Logger
}

// NewWatcher watches dir/endpoints, dir/lib and the config file configFile
// (where it is, in dir or not). Run reports what changes; Close ends the
// watches of a Watcher that never runs.
func NewWatcher(dir, configFile string, lg *slog.Logger) (*Watcher, error) {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, err
	}
	// The config file's folder, not the file: an editor that saves by
	// writing a new file and renaming it over the old one would end a
	// watch on the file itself.
	if cd := filepath.Dir(configFile); !sameDir(cd, dir) {
		if err := w.Add(cd); err != nil {
			w.Close()
			return nil, err
		}
	}
	t := &tree{w: w, roots: []string{filepath.Join(dir, "endpoints"), filepath.Join(dir, "lib")}, dirs: map[string]os.FileInfo{}}
	t.sync()
	return &Watcher{w: w, t: t, relevant: relevance(dir, configFile), lg: lg}, nil
}

// Close ends the watches.
func (wa *Watcher) Close() error { return wa.w.Close() }

// Run calls reload after each burst of changes since NewWatcher, until ctx
// ends; then it closes the watches. Before each reload it watches the
// folders on disk again, so that a folder created, renamed or moved in (by a
// mv, or a git checkout) is watched under its new name.
func (wa *Watcher) Run(ctx context.Context, reload func()) {
	defer wa.w.Close()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-wa.w.Events:
			if !ok {
				return
			}
			if wa.relevant(ev.Name) {
				timer = time.After(Quiet)
			}
		case err, ok := <-wa.w.Errors:
			if !ok {
				return
			}
			wa.lg.Warn("watch", keyError, err)
		case <-timer:
			timer = nil
			// What changed before the sync is read by the reload; what
			// changes after it is seen by the watches it set.
			wa.t.sync()
			reload()
		}
	}
}

// tree is the set of folders under roots that a Watcher watches. An inotify
// watch follows a folder, not its path: a renamed folder's watch reports
// under the old name until fsnotify drops it, so each folder's watch is
// checked against what is on disk at its path.
type tree struct {
	w     *fsnotify.Watcher
	roots []string
	dirs  map[string]os.FileInfo // each watched path, as it was when watched
}

// sync makes the watches match the folders on disk: it drops the watches of
// paths that are gone, or that name another folder now, then watches every
// folder not watched yet.
func (t *tree) sync() {
	onDisk := map[string]os.FileInfo{}
	for i, root := range t.roots {
		walkDirs(root, i == 0, func(p string, fi os.FileInfo) { onDisk[p] = fi })
	}
	live := map[string]bool{}
	for _, p := range t.w.WatchList() {
		live[p] = true
	}
	// Drop first: adding a folder that is still watched under its old
	// path would hand back that watch, old path and all.
	for p, was := range t.dirs {
		if now, ok := onDisk[p]; ok && live[p] && os.SameFile(was, now) {
			continue
		}
		_ = t.w.Remove(p) // fails when fsnotify dropped it already
		delete(t.dirs, p)
	}
	for p, fi := range onDisk {
		if _, ok := t.dirs[p]; ok {
			continue
		}
		if err := t.w.Add(p); err == nil {
			t.dirs[p] = fi
		}
	}
}

// walkDirs calls fn with root and every folder under it that the loader
// reads: none whose name starts with a dot, and, with links (endpoints/,
// where an endpoint folder may be a link to one elsewhere), the folders
// that links lead to, so that an edit in a linked folder reloads too. lib/
// is read without following links. A folder reached again through a link
// (a loop) is entered once.
func walkDirs(root string, links bool, fn func(p string, fi os.FileInfo)) {
	seen := map[string]bool{}
	var walk func(p string)
	walk = func(p string) {
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			return
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil || seen[real] {
			return
		}
		seen[real] = true
		fn(p, fi)
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if e.IsDir() || links && e.Type()&fs.ModeSymlink != 0 {
				walk(filepath.Join(p, e.Name()))
			}
		}
	}
	walk(root)
}

// relevance returns what says whether a changed path can change the
// service: a path under dir/endpoints or dir/lib, or the config file.
func relevance(dir, configFile string) func(path string) bool {
	configFile = absPath(configFile)
	return func(path string) bool {
		if absPath(path) == configFile {
			return true
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return false
		}
		first, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		return first == "endpoints" || first == "lib"
	}
}

// absPath is path made absolute and clean, or only clean if the working
// directory cannot be read.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

func sameDir(a, b string) bool { return absPath(a) == absPath(b) }

// Reuse returns a SiteOptions.Open that hands a reloaded site the stores of
// the running one. Schemas whose validation rules or x-hidden fields changed
// are applied by the new site's Activate. Anything else the stash and
// schema files declare differently (stores, collections, indexes, unique,
// x-hash or x-lowercase fields) fails with ErrRestart.
func (s *Site) Reuse() func([]stash.StoreSpec, []stash.CollectionSpec) (Backend, error) {
	return func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (Backend, error) {
		if !sameStores(s.Stores, stores) || !sameCollections(s.Collections, colls) {
			what := "stash files, or the folders with a schema file, changed"
			if d := layoutChange(s.Stores, stores, s.Collections, colls); d != "" {
				what = d
			}
			return Backend{}, errors.New(what + ": " + ErrRestart.Error())
		}
		b := s.backend
		b.activate = nil
		var changed []stash.CollectionSpec
		for i, c := range colls {
			running := s.Collections[i].Schema
			if b.Stash != nil {
				if rc := b.Stash.Collection(c.Path); rc != nil {
					running = rc.Schema() // what the stores run, whatever the specs say
				}
			}
			if !running.SameShape(c.Schema) {
				// One %w: the reload log prints each error of a join apart.
				return Backend{}, fmt.Errorf("schema of %s: %v: %w", c.Path, stash.ErrSchemaShape, ErrRestart)
			}
			if !bytes.Equal(schemaJSON(running), schemaJSON(c.Schema)) {
				changed = append(changed, c)
			}
		}
		if len(changed) > 0 && b.Stash != nil {
			b.activate = func() error { return b.Stash.SetSchemas(changed) }
		}
		return b, nil
	}
}

func sameStores(a, b []stash.StoreSpec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sameCollections says whether a and b declare the same collections in the
// same stores; their schemas may differ.
func sameCollections(a, b []stash.CollectionSpec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Path != b[i].Path || a[i].Store != b[i].Store {
			return false
		}
	}
	return true
}

// layoutChange names what differs between the running stores and
// collections (a) and the reloaded ones (b): "a collection at /seed gained,
// store /notes changed". It is "" when it finds nothing to name.
func layoutChange(aStores, bStores []stash.StoreSpec, aColls, bColls []stash.CollectionSpec) string {
	var out []string
	stores := map[string]stash.StoreSpec{}
	for _, st := range aStores {
		stores[st.Name] = st
	}
	for _, st := range bStores {
		if was, ok := stores[st.Name]; !ok {
			out = append(out, "a store at "+st.Name+" gained")
		} else if was != st {
			out = append(out, "store "+st.Name+" changed")
		}
		delete(stores, st.Name)
	}
	for _, st := range aStores {
		if _, gone := stores[st.Name]; gone {
			out = append(out, "the store at "+st.Name+" gone")
		}
	}
	colls := map[string]string{} // path → store
	for _, c := range aColls {
		colls[c.Path] = c.Store
	}
	for _, c := range bColls {
		if was, ok := colls[c.Path]; !ok {
			out = append(out, "a collection at "+c.Path+" gained")
		} else if was != c.Store {
			out = append(out, "collection "+c.Path+" moved to another store")
		}
		delete(colls, c.Path)
	}
	for _, c := range aColls {
		if _, gone := colls[c.Path]; gone {
			out = append(out, "the collection at "+c.Path+" gone")
		}
	}
	return strings.Join(out, ", ")
}

func schemaJSON(s *stash.Schema) []byte {
	if s == nil {
		return nil
	}
	return s.JSON()
}
