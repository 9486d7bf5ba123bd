package router

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
}
