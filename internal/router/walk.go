package router

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

const (
	// rootDir names the endpoints root in error paths, which are relative
	// to the service directory.
	rootDir = "endpoints"
	// rootBase is the file-name prefix of the root folder's files.
	rootBase = "endpoint"
	// reservedURL is the URL under which MiniMi serves its built-ins.
	reservedURL = "/_minimi"
)

// Walk reads the endpoints tree from fsys, which is rooted at the endpoints
// directory, and builds its route table for the configured phases, in order.
// It only reads directory listings, never file contents.
//
// Every problem found is reported: the error is an errors.Join of
// *PathError values sorted by path, and the table is nil. A bad phase name
// is an error wrapping ErrBadPhase.
func Walk(fsys fs.FS, phases []string) (*Table, error) {
	t, err := WalkPartial(fsys, phases)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// WalkPartial is Walk for checking a tree: with the problems it returns the
// table of the rest, the folders and files that are named right, so that
// their contents can be checked too. That table must not be served. It is
// nil only for a bad phase name.
func WalkPartial(fsys fs.FS, phases []string) (*Table, error) {
	if err := checkPhases(phases); err != nil {
		return nil, fmt.Errorf("walk: %w", err)
	}
	w := &walker{fsys: fsys, phases: phases}
	root := &Folder{
		Base:       rootBase,
		Segment:    Segment{Kind: Root},
		URL:        "/",
		Pattern:    "/",
		Processors: map[string]string{},
	}
	w.walk(root)
	w.checkReserved()
	w.checkRoutes()
	return w.table(root), w.err()
}

// walker holds the state of one Walk.
type walker struct {
	fsys    fs.FS
	phases  []string
	folders []*Folder
	errs    []*PathError
}

// walk records f, classifies its files and walks its subfolders.
func (w *walker) walk(f *Folder) {
	w.folders = append(w.folders, f)
	subdirs, ok := w.readDir(f)
	if !ok {
		return
	}
	if f.Segment.Kind == CatchAll && len(subdirs) > 0 {
		w.fail("walk", f.Dir, fmt.Errorf("%w: %s", ErrCatchAllNotLast, strings.Join(subdirs, ", ")))
		return
	}
	for _, name := range subdirs {
		if c := w.child(f, name); c != nil {
			f.Children = append(f.Children, c)
			w.walk(c)
		}
	}
}

// readDir adds the files of f to it and returns the names of its
// subfolders, sorted. Dotfiles and dotfolders are skipped.
func (w *walker) readDir(f *Folder) ([]string, bool) {
	entries, err := fs.ReadDir(w.fsys, fsPath(f.Dir))
	if err != nil {
		w.fail("walk", f.Dir, err)
		return nil, false
	}
	var subdirs []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		rel := path.Join(f.Dir, name)
		dir, err := w.isDir(rel, e)
		switch {
		case err != nil:
			w.fail("walk", rel, err)
		case dir:
			subdirs = append(subdirs, name)
		default:
			w.addFile(f, name)
		}
	}
	return subdirs, true
}

// isDir reports whether the entry is a folder, following symbolic links.
func (w *walker) isDir(rel string, e fs.DirEntry) (bool, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	fi, err := fs.Stat(w.fsys, rel)
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

// addFile records the file name of folder f, or the reason it cannot be
// one of f's files.
func (w *walker) addFile(f *Folder, name string) {
	rel := path.Join(f.Dir, name)
	k, err := classifyFile(f.Base, name, w.phases)
	if err != nil {
		w.fail("walk", rel, err)
		return
	}
	switch k.role {
	case roleProcessor:
		f.Processors[k.phase] = rel
	case roleSchema:
		f.Schema = rel
	case roleStash:
		f.Stash = rel
	case roleInstall:
		f.Install = rel
	}
}

// child builds the subfolder name of parent, or returns nil when the name
// is not a valid segment.
func (w *walker) child(parent *Folder, name string) *Folder {
	rel := path.Join(parent.Dir, name)
	seg, err := ParseSegment(name)
	if err != nil {
		if pe, ok := errors.AsType[*PathError](err); ok {
			err = pe.Err
		}
		w.fail("parse", rel, err)
		return nil
	}
	c := &Folder{
		Dir:        rel,
		Base:       name,
		Segment:    seg,
		URL:        joinURL(parent.URL, seg.url()),
		Pattern:    joinURL(parent.Pattern, seg.pattern()),
		Params:     slices.Clone(parent.Params),
		Processors: map[string]string{},
		Parent:     parent,
	}
	if seg.Kind == Param || seg.Kind == CatchAll {
		if slices.Contains(parent.Params, seg.Name) {
			w.fail("walk", rel, fmt.Errorf("%w: %q", ErrDuplicateParam, seg.Name))
		}
		c.Params = slices.Clip(append(c.Params, seg.Name))
	}
	return c
}

// checkReserved reports the folders that would serve /_minimi.
func (w *walker) checkReserved() {
	for _, f := range w.folders {
		if f.Segment.Kind != Group && f.URL == reservedURL {
			w.fail("walk", f.Dir, fmt.Errorf("%w: %s is for built-ins", ErrReserved, reservedURL))
		}
	}
}

// checkRoutes reports folders that chi could not tell apart: the same URL
// (ErrDuplicateRoute), or parameters of different names in the same place
// (ErrParamConflict). Group folders own no URL and are left out.
// Only the topmost folders of a conflict are reported.
func (w *walker) checkRoutes() {
	byShape := map[string][]*Folder{}
	var shapes []string
	for _, f := range w.folders {
		if f.Segment.Kind == Group {
			continue
		}
		s := shape(f.Pattern)
		if _, ok := byShape[s]; !ok {
			shapes = append(shapes, s)
		}
		byShape[s] = append(byShape[s], f)
	}
	// Parents come before their children in w.folders, so a conflict is
	// found at its top; the folders below it are not reported again.
	reported := map[*Folder]bool{}
	for _, s := range shapes {
		same := byShape[s]
		if len(same) < 2 || !slices.ContainsFunc(same, func(f *Folder) bool { return !below(f, reported) }) {
			continue
		}
		w.conflict(same)
		for _, f := range same {
			reported[f] = true
		}
	}
}

// below reports whether an ancestor of f is in set.
func below(f *Folder, set map[*Folder]bool) bool {
	for p := f.Parent; p != nil; p = p.Parent {
		if set[p] {
			return true
		}
	}
	return false
}

// conflict reports folders with the same shape as one error on the first.
func (w *walker) conflict(same []*Folder) {
	slices.SortFunc(same, func(a, b *Folder) int { return strings.Compare(a.Dir, b.Dir) })
	first, others := same[0], same[1:]
	names := make([]string, len(others))
	dup := true
	for i, f := range others {
		names[i] = displayPath(f.Dir)
		if f.URL != first.URL {
			dup = false
			names[i] += " (" + f.URL + ")"
		}
	}
	list := strings.Join(names, ", ")
	if dup {
		w.fail("walk", first.Dir, fmt.Errorf("%w: %s is also served by %s", ErrDuplicateRoute, first.URL, list))
		return
	}
	w.fail("walk", first.Dir, fmt.Errorf("%w: %s matches the same requests as %s", ErrParamConflict, first.URL, list))
}

// shape is a chi pattern with the parameter names left out: two folders
// of one shape match the same requests.
func shape(pattern string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(pattern, '{')
		if open < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		end := strings.IndexByte(pattern[open:], '}')
		if end < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		b.WriteString(pattern[:open+1])
		pattern = pattern[open+end:]
	}
}

// fail records a problem with the file or folder rel.
func (w *walker) fail(op, rel string, err error) {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		err = pe.Err // the path is already in the PathError
	}
	w.errs = append(w.errs, &PathError{Op: op, Path: displayPath(rel), Err: err})
}

// err joins the problems found, sorted by path.
func (w *walker) err() error {
	slices.SortStableFunc(w.errs, func(a, b *PathError) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Err.Error(), b.Err.Error()))
	})
	errs := make([]error, len(w.errs))
	for i, e := range w.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func (w *walker) table(root *Folder) *Table {
	t := &Table{
		Phases:  slices.Clone(w.phases),
		Root:    root,
		Folders: w.folders,
		byURL:   make(map[string]*Folder, len(w.folders)),
	}
	for _, f := range w.folders {
		if f.Segment.Kind != Group {
			t.byURL[f.URL] = f
		}
	}
	return t
}

// joinURL appends the segment seg to the URL or pattern base; an empty seg
// leaves base as it is.
func joinURL(base, seg string) string {
	switch {
	case seg == "":
		return base
	case base == "/":
		return "/" + seg
	}
	return base + "/" + seg
}

// displayPath is the path of rel as shown in errors: relative to the
// service directory.
func displayPath(rel string) string {
	if rel == "" {
		return rootDir
	}
	return rootDir + "/" + rel
}

// fsPath is the fs.FS name of rel.
func fsPath(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}
