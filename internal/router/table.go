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

// Deepest returns the deepest folder that path, a request's decoded path,
// passes through or ends in, matching each segment as chi does: a static
// folder before a parameter, a parameter before a catch-all, which takes
// the rest. Group folders are looked through; the root is returned for "/".
// The folder need not have a handler: a request another folder serves
// (a catch-all, a parameter) can have its path in or below it. A slash
// that the request sent escaped (%2F) separates segments here, as it does
// in the path a handler reads.
func (t *Table) Deepest(path string) *Folder {
	f := t.Root
	for seg := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		next := childFor(f, seg)
		if seg == "" || next == nil {
			break
		}
		f = next
		if f.Segment.Kind == CatchAll {
			break
		}
	}
	return f
}

// childFor returns the child of f (through groups) that the route segment
// seg goes to, or nil.
func childFor(f *Folder, seg string) *Folder {
	var param, catchAll *Folder
	var static func(p *Folder) *Folder
	static = func(p *Folder) *Folder {
		for _, c := range p.Children {
			switch c.Segment.Kind {
			case Group:
				if s := static(c); s != nil {
					return s
				}
			case Static:
				if c.Segment.pattern() == seg {
					return c
				}
			case Param:
				param = c
			case CatchAll:
				catchAll = c
			}
		}
		return nil
	}
	if s := static(f); s != nil {
		return s
	}
	if param != nil {
		return param
	}
	return catchAll
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
