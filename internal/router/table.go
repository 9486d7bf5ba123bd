package router

import (
	"cmp"
	"fmt"
	"io"
	"strings"
)

// Kind says how a folder name maps to a URL segment.
type Kind int

const (
	// Root is the endpoints/ folder itself: the URL "/".
	Root Kind = iota
	// Static is a plain folder name: one literal URL segment.
	Static
	// Param is a folder named [name]: one URL segment bound to req.params.name.
	Param
	// CatchAll is a folder named [...name]: the rest of the path, bound to req.params.name.
	CatchAll
	// Group is a folder named (name): no URL segment; its processors still run for its descendants.
	Group
)

func (k Kind) String() string {
	switch k {
	case Root:
		return "root"
	case Static:
		return "static"
	case Param:
		return "param"
	case CatchAll:
		return "catchall"
	case Group:
		return "group"
	}
	return "unknown"
}

// Segment is the parsed form of one folder name.
type Segment struct {
	Kind Kind
	// Name is the literal segment (Static), the parameter name (Param, CatchAll)
	// or the group name (Group); empty for Root.
	Name string
}

// Folder is one directory of the endpoints tree.
type Folder struct {
	// Dir is the folder's path relative to the endpoints root, slash-separated;
	// "" for the root.
	Dir string
	// Base is the file-name prefix of the folder's files: the folder's own name,
	// or "endpoint" for the root.
	Base    string
	Segment Segment
	// URL is the public path in MiniMi notation, e.g. "/hello/[name]"; a group
	// folder has the URL of its parent.
	URL string
	// Pattern is the chi routing pattern, e.g. "/hello/{name}" or "/files/*".
	Pattern string
	// Params lists the parameter names bound along the path, root first.
	Params []string

	// Processors maps a phase name to the processor file (relative to the
	// endpoints root, slash-separated), for the phases this folder has.
	Processors map[string]string
	// Schema, Stash and Install are the folder's <base>.schema.json,
	// <base>.stash.json and <base>.install.lua files; "" when absent.
	Schema  string
	Stash   string
	Install string

	Parent   *Folder
	Children []*Folder
}

// Chain returns the folders from the root down to f, f last.
func (f *Folder) Chain() []*Folder {
	n := 0
	for p := f; p != nil; p = p.Parent {
		n++
	}
	chain := make([]*Folder, n)
	for p := f; p != nil; p = p.Parent {
		n--
		chain[n] = p
	}
	return chain
}

// Table is the route table: the endpoints tree as walked from disk.
type Table struct {
	// Phases are the configured phases, in order.
	Phases []string
	// Root is the endpoints folder itself.
	Root *Folder
	// Folders lists every folder in depth-first order, parents before
	// children, siblings sorted by name.
	Folders []*Folder

	// byURL indexes the non-group folders by URL; nil for a Table not
	// built by Walk.
	byURL map[string]*Folder
}

// Lookup returns the folder whose URL, in MiniMi notation ("/hello/[name]"),
// is exactly url, or nil. Group folders are never returned: they own no URL.
func (t *Table) Lookup(url string) *Folder {
	if t.byURL != nil {
		return t.byURL[url]
	}
	for _, f := range t.Folders {
		if f.Segment.Kind != Group && f.URL == url {
			return f
		}
	}
	return nil
}

// Within returns the folders that path, a request's decoded path, lies in
// or below, whichever folder serves it: the deepest folder of each way the
// table's patterns can match a prefix of path (a static segment, a
// parameter, a catch-all, which takes the rest; group folders are looked
// through), less those that a way more specific at their first difference
// (static before parameter before catch-all, as chi routes) matches at
// least as deep. So /users/me lies in /users/me, not /users/[id]; and
// /y/foo/secret, which only a catch-all serves, lies in /y/foo and in
// /y/[p]/secret. A slash the request escaped (%2F) separates segments here,
// as it does in the path a handler reads. The root is returned for "/".
func (t *Table) Within(path string) []*Folder {
	var segs []string
	if p := strings.Trim(path, "/"); p != "" {
		segs = strings.Split(p, "/")
	}
	var ways []way
	var walk func(f *Folder, kinds []Kind)
	walk = func(f *Folder, kinds []Kind) {
		d := len(kinds)
		deeper := false
		if d < len(segs) {
			for _, c := range childrenThroughGroups(f) {
				switch c.Segment.Kind {
				case Static:
					if c.Segment.Name == segs[d] {
						deeper = true
						walk(c, append(kinds[:d:d], Static))
					}
				case Param:
					if segs[d] != "" {
						deeper = true
						walk(c, append(kinds[:d:d], Param))
					}
				case CatchAll:
					deeper = true
					all := append(kinds[:d:d], CatchAll)
					for len(all) < len(segs) {
						all = append(all, CatchAll)
					}
					ways = append(ways, way{c, all})
				}
			}
		}
		if !deeper {
			ways = append(ways, way{f, kinds})
		}
	}
	walk(t.Root, nil)
	var out []*Folder
	for i, w := range ways {
		shadowed := false
		for j, o := range ways {
			if i != j && len(o.kinds) >= len(w.kinds) && o.before(w) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			out = append(out, w.f)
		}
	}
	return out
}

// way is one way of matching a prefix of a path: the folder it ends in and
// the kind of the folder that matched each segment.
type way struct {
	f     *Folder
	kinds []Kind
}

// before reports whether w is more specific than o where they first differ.
func (w way) before(o way) bool {
	for i := range min(len(w.kinds), len(o.kinds)) {
		if w.kinds[i] != o.kinds[i] {
			return w.kinds[i] < o.kinds[i]
		}
	}
	return false
}

// childrenThroughGroups returns f's children, with each group folder
// replaced by its own children (recursively): the folders one URL segment
// below f.
func childrenThroughGroups(f *Folder) []*Folder {
	var out []*Folder
	for _, c := range f.Children {
		if c.Segment.Kind == Group {
			out = append(out, childrenThroughGroups(c)...)
		} else {
			out = append(out, c)
		}
	}
	return out
}

// Format writes the table as text, one line per folder in Folders order:
// the URL, then pattern=, kind=, dir= ("." for the root), params= when the
// folder binds any, one <phase>= per processor in phase order, and schema=,
// stash=, install= when present. Fields are separated by two spaces. The
// output is stable, for golden files and the routes command.
func (t *Table) Format(w io.Writer) {
	for _, f := range t.Folders {
		fmt.Fprintln(w, t.line(f))
	}
}

func (t *Table) line(f *Folder) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  pattern=%s  kind=%s  dir=%s", f.URL, f.Pattern, f.Segment.Kind, cmp.Or(f.Dir, "."))
	if len(f.Params) > 0 {
		fmt.Fprintf(&b, "  params=%s", strings.Join(f.Params, ","))
	}
	for _, p := range t.Phases {
		if file, ok := f.Processors[p]; ok {
			fmt.Fprintf(&b, "  %s=%s", p, file)
		}
	}
	for _, kv := range [...][2]string{{"schema", f.Schema}, {"stash", f.Stash}, {"install", f.Install}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "  %s=%s", kv[0], kv[1])
		}
	}
	return b.String()
}
