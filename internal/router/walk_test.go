package router

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the routes.golden files of testdata")

var testPhases = []string{"load", "access", "execute"}

// walkCase walks testdata/<name>/endpoints with the default phases.
func walkCase(t testing.TB, name string) *Table {
	t.Helper()
	tbl, err := Walk(os.DirFS(filepath.Join("testdata", name, "endpoints")), testPhases)
	if err != nil {
		t.Fatalf("Walk(%s)=%v, want no error", name, err)
	}
	return tbl
}

func TestWalkGolden(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join("testdata", e.Name(), "endpoints")); err != nil {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			var got bytes.Buffer
			walkCase(t, e.Name()).Format(&got)
			golden := filepath.Join("testdata", e.Name(), "routes.golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run the tests with -update to write it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("Format()=\n%s\nwant\n%s", got.Bytes(), want)
			}
		})
	}
	if n < 5 {
		t.Errorf("found %d golden cases in testdata, want at least 5", n)
	}
}

func TestWalkSeed(t *testing.T) {
	tbl := walkCase(t, "seed")
	tests := []struct {
		url        string
		dir        string
		pattern    string
		kind       Kind
		params     []string
		processors map[string]string
		chain      []string
	}{
		{"/", "", "/", Root, nil, map[string]string{"load": "endpoint.load.lua"}, []string{"/"}},
		{"/foo", "foo", "/foo", Static, nil,
			map[string]string{"load": "foo/foo.load.lua", "execute": "foo/foo.execute.lua"}, []string{"/", "/foo"}},
		{"/foo/bar", "foo/bar", "/foo/bar", Static, nil, map[string]string{
			"load": "foo/bar/bar.load.lua", "access": "foo/bar/bar.access.lua", "execute": "foo/bar/bar.execute.lua",
		}, []string{"/", "/foo", "/foo/bar"}},
		{"/foobar", "foobar", "/foobar", Static, nil,
			map[string]string{"execute": "foobar/foobar.execute.lua"}, []string{"/", "/foobar"}},
		{"/hello", "hello", "/hello", Static, nil, map[string]string{}, []string{"/", "/hello"}},
		{"/hello/[name]", "hello/[name]", "/hello/{name}", Param, []string{"name"},
			map[string]string{"execute": "hello/[name]/[name].execute.lua"}, []string{"/", "/hello", "/hello/[name]"}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			f := tbl.Lookup(tc.url)
			if f == nil {
				t.Fatalf("Lookup(%q)=nil, want a folder", tc.url)
			}
			if f.Dir != tc.dir || f.Pattern != tc.pattern || f.Segment.Kind != tc.kind {
				t.Errorf("Lookup(%q)=(dir %q, pattern %q, kind %v), want (%q, %q, %v)",
					tc.url, f.Dir, f.Pattern, f.Segment.Kind, tc.dir, tc.pattern, tc.kind)
			}
			if !slices.Equal(f.Params, tc.params) {
				t.Errorf("Params=%q, want %q", f.Params, tc.params)
			}
			if fmt.Sprint(f.Processors) != fmt.Sprint(tc.processors) {
				t.Errorf("Processors=%v, want %v", f.Processors, tc.processors)
			}
			var chain []string
			for _, c := range f.Chain() {
				chain = append(chain, c.URL)
			}
			if !slices.Equal(chain, tc.chain) {
				t.Errorf("Chain()=%q, want %q", chain, tc.chain)
			}
		})
	}
	if len(tbl.Folders) != len(tests) {
		t.Errorf("len(Folders)=%d, want %d", len(tbl.Folders), len(tests))
	}
	if tbl.Root != tbl.Folders[0] || tbl.Root.Base != "endpoint" {
		t.Errorf("Root=%+v, want Folders[0] with base endpoint", tbl.Root)
	}
}

func TestWalkOrderAndLinks(t *testing.T) {
	for _, name := range []string{"seed", "params", "groups", "stash", "ignored"} {
		t.Run(name, func(t *testing.T) {
			tbl := walkCase(t, name)
			var walked []*Folder
			var visit func(f *Folder)
			visit = func(f *Folder) {
				walked = append(walked, f)
				for i, c := range f.Children {
					if c.Parent != f {
						t.Errorf("%s: Parent=%v, want %s", c.Dir, c.Parent.Dir, f.Dir)
					}
					if i > 0 && f.Children[i-1].Base >= c.Base {
						t.Errorf("%s: children %q before %q, want sorted", f.Dir, f.Children[i-1].Base, c.Base)
					}
				}
				for _, c := range f.Children {
					visit(c)
				}
			}
			visit(tbl.Root)
			if !slices.Equal(walked, tbl.Folders) {
				t.Errorf("Folders is not the depth-first order of the tree")
			}
		})
	}
}

func TestWalkGroups(t *testing.T) {
	tbl := walkCase(t, "groups")
	tests := []struct {
		url   string
		dir   string
		chain []string // the Dir of each folder from the root
	}{
		{"/dashboard", "(admin)/dashboard", []string{"", "(admin)", "(admin)/dashboard"}},
		{"/about", "(marketing)/about", []string{"", "(marketing)", "(marketing)/about"}},
		{"/shop/[sku]", "shop/(catalog)/[sku]", []string{"", "shop", "shop/(catalog)", "shop/(catalog)/[sku]"}},
		{"/deep", "(outer)/(inner)/deep", []string{"", "(outer)", "(outer)/(inner)", "(outer)/(inner)/deep"}},
		{"/", "", []string{""}},
		{"/shop", "shop", []string{"", "shop"}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			f := tbl.Lookup(tc.url)
			if f == nil || f.Dir != tc.dir {
				t.Fatalf("Lookup(%q)=%v, want the folder %q", tc.url, f, tc.dir)
			}
			var chain []string
			for _, c := range f.Chain() {
				chain = append(chain, c.Dir)
			}
			if !slices.Equal(chain, tc.chain) {
				t.Errorf("Chain()=%q, want %q", chain, tc.chain)
			}
		})
	}
	for _, f := range tbl.Folders {
		if f.Segment.Kind == Group && f.URL != f.Parent.URL {
			t.Errorf("group %s: URL=%q, want its parent's %q", f.Dir, f.URL, f.Parent.URL)
		}
	}
}

func TestLookup(t *testing.T) {
	walked := walkCase(t, "params")
	built := &Table{Phases: walked.Phases, Root: walked.Root, Folders: walked.Folders}
	tests := []struct {
		url  string
		want string // Dir of the folder; "-" for nil
	}{
		{"/", ""},
		{"/users/[id]", "users/[id]"},
		{"/users/[id]/posts/[postID]", "users/[id]/posts/[postID]"},
		{"/files/[...path]", "files/[...path]"},
		{"/[...rest]", "[...rest]"},
		{"/users/{id}", "-"},
		{"/users/42", "-"},
		{"/users/", "-"},
		{"", "-"},
	}
	for _, tbl := range []*Table{walked, built} {
		for _, tc := range tests {
			t.Run(tc.url, func(t *testing.T) {
				got := "-"
				if f := tbl.Lookup(tc.url); f != nil {
					got = f.Dir
				}
				if got != tc.want {
					t.Errorf("Lookup(%q)=%q, want %q", tc.url, got, tc.want)
				}
			})
		}
	}
}

// files builds a MapFS of empty files.
func files(names ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for _, n := range names {
		m[n] = &fstest.MapFile{}
	}
	return m
}

func TestWalkErrors(t *testing.T) {
	tests := []struct {
		name  string
		fsys  fstest.MapFS
		want  error
		named []string // every bad file or folder, as shown in errors
	}{
		{"typo in a phase", files("foo/bar/bar.lod.lua", "foo/bar/bar.load.lua"),
			ErrUnknownPhase, []string{"endpoints/foo/bar/bar.lod.lua", `did you mean "bar.load.lua"`}},
		{"phase not configured", files("foo/foo.render.lua"),
			ErrUnknownPhase, []string{"endpoints/foo/foo.render.lua", "load, access, execute"}},
		{"root phase not configured", files("endpoint.render.lua"),
			ErrUnknownPhase, []string{"endpoints/endpoint.render.lua"}},
		{"processor named after another folder", files("foo/foo.load.lua", "bar/foo.load.lua"),
			ErrUnknownFile, []string{"endpoints/bar/foo.load.lua", `want "bar.load.lua"`}},
		{"root processor named after a folder", files("foo.execute.lua"),
			ErrUnknownFile, []string{"endpoints/foo.execute.lua", `want "endpoint.execute.lua"`}},
		{"processor named endpoint below the root", files("foo/endpoint.load.lua"),
			ErrUnknownFile, []string{"endpoints/foo/endpoint.load.lua"}},
		{"schema typo", files("notes/notes.shema.json"),
			ErrUnknownFile, []string{"endpoints/notes/notes.shema.json", `did you mean "notes.schema.json"`}},
		{"schema of another folder", files("notes/users.schema.json"),
			ErrUnknownFile, []string{"endpoints/notes/users.schema.json"}},
		{"stray file", files("foo/data.txt"),
			ErrUnknownFile, []string{"endpoints/foo/data.txt"}},
		{"lua without phase", files("foo/foo.lua"),
			ErrUnknownFile, []string{"endpoints/foo/foo.lua"}},
		{"bad folder name", files("a b/a b.load.lua"),
			ErrBadFolderName, []string{"endpoints/a b"}},
		{"unclosed param", files("users/[id/x.lua"),
			ErrBadFolderName, []string{"endpoints/users/[id"}},
		{"bad param name", files("users/[1d]/[1d].execute.lua"),
			ErrBadFolderName, []string{"endpoints/users/[1d]"}},
		{"reserved", files("_minimi/_minimi.execute.lua"),
			ErrReserved, []string{"endpoints/_minimi"}},
		{"reserved through a group", files("(g)/_minimi/health/health.execute.lua"),
			ErrReserved, []string{"endpoints/(g)/_minimi"}},
		{"catch-all with subfolders", files("files/[...p]/x/x.execute.lua", "files/[...p]/y/y.md"),
			ErrCatchAllNotLast, []string{"endpoints/files/[...p]", "x, y"}},
		{"two params", files("users/[id]/[id].execute.lua", "users/[slug]/[slug].execute.lua"),
			ErrParamConflict, []string{"endpoints/users/[id]", "endpoints/users/[slug]"}},
		{"two params across groups", files("users/(a)/[id]/[id].execute.lua", "users/(b)/[slug]/[slug].execute.lua"),
			ErrParamConflict, []string{"endpoints/users/(a)/[id]", "endpoints/users/(b)/[slug]"}},
		{"two catch-alls", files("files/[...a]/[...a].execute.lua", "files/[...b]/[...b].execute.lua"),
			ErrParamConflict, []string{"endpoints/files/[...a]", "endpoints/files/[...b]"}},
		{"same URL through a group", files("(a)/x/x.execute.lua", "x/x.execute.lua"),
			ErrDuplicateRoute, []string{"endpoints/(a)/x", "endpoints/x"}},
		{"same URL through two groups", files("(a)/[id]/[id].execute.lua", "(b)/[id]/[id].load.lua"),
			ErrDuplicateRoute, []string{"endpoints/(a)/[id]", "endpoints/(b)/[id]"}},
		{"param bound twice", files("a/[id]/b/[id]/[id].execute.lua"),
			ErrDuplicateParam, []string{"endpoints/a/[id]/b/[id]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl, err := Walk(tc.fsys, testPhases)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Walk()=%v, want %v", err, tc.want)
			}
			if tbl != nil {
				t.Errorf("Walk()=%v, want a nil table on error", tbl)
			}
			if _, ok := errors.AsType[*PathError](err); !ok {
				t.Errorf("Walk()=%T, want a *PathError inside", err)
			}
			for _, n := range tc.named {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("Walk()=%q, want it to name %q", err, n)
				}
			}
		})
	}
}

func TestWalkReportsEveryProblem(t *testing.T) {
	fsys := files(
		"endpoint.load.lua",
		"foo/foo.lod.lua",
		"foo/foo.load.lua",
		"bar/foo.load.lua",
		"bar/notes.txt",
		"(a)/x/x.execute.lua",
		"x/x.execute.lua",
		"_minimi/_minimi.execute.lua",
		"bad name/bad name.load.lua",
		"users/[id]/[id].execute.lua",
		"users/[slug]/[slug].execute.lua",
		"(q)/[k]/y/y.load.lua",
		"(r)/[j]/y/y.load.lua",
	)
	_, err := Walk(fsys, testPhases)
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Walk()=%v, want joined errors", err)
	}
	var got []string
	for _, e := range joined.Unwrap() {
		pe, ok := e.(*PathError)
		if !ok {
			t.Fatalf("error %v is %T, want *PathError", e, e)
		}
		got = append(got, pe.Path)
	}
	want := []string{
		"endpoints/(a)/x",
		"endpoints/(q)/[k]", // and not again for the y folders below

		"endpoints/_minimi",
		"endpoints/bad name",
		"endpoints/bar/foo.load.lua",
		"endpoints/bar/notes.txt",
		"endpoints/foo/foo.lod.lua",
		"endpoints/users/[id]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Walk() reported %q, want %q", got, want)
	}
	for _, sentinel := range []error{ErrUnknownFile, ErrUnknownPhase, ErrBadFolderName, ErrReserved, ErrDuplicateRoute, ErrParamConflict} {
		if !errors.Is(err, sentinel) {
			t.Errorf("errors.Is(Walk(), %v)=false, want true", sentinel)
		}
	}
}

func TestWalkPhases(t *testing.T) {
	tests := []struct {
		name   string
		phases []string
		want   error
	}{
		{"none", nil, nil},
		{"custom", []string{"auth", "render"}, nil},
		{"empty", []string{"load", ""}, ErrBadPhase},
		{"dot", []string{"lo.ad"}, ErrBadPhase},
		{"slash", []string{"a/b"}, ErrBadPhase},
		{"space", []string{"a b"}, ErrBadPhase},
		{"reserved schema", []string{"schema"}, ErrBadPhase},
		{"reserved install", []string{"install"}, ErrBadPhase},
		{"twice", []string{"load", "load"}, ErrBadPhase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Walk(files("foo/foo.md"), tc.phases)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Walk(%q)=%v, want %v", tc.phases, err, tc.want)
			}
		})
	}
}

func TestWalkCustomPhases(t *testing.T) {
	fsys := files("foo/foo.auth.lua", "foo/foo.render.lua", "foo/foo.execute.lua")
	_, err := Walk(fsys, []string{"auth", "render"})
	if !errors.Is(err, ErrUnknownPhase) || !strings.Contains(err.Error(), "endpoints/foo/foo.execute.lua") {
		t.Fatalf("Walk()=%v, want %v naming foo.execute.lua", err, ErrUnknownPhase)
	}
	tbl, err := Walk(fsys, []string{"auth", "render", "execute"})
	if err != nil {
		t.Fatalf("Walk()=%v, want no error", err)
	}
	var b strings.Builder
	tbl.Format(&b)
	want := "/  pattern=/  kind=root  dir=.\n" +
		"/foo  pattern=/foo  kind=static  dir=foo  auth=foo/foo.auth.lua  render=foo/foo.render.lua  execute=foo/foo.execute.lua\n"
	if b.String() != want {
		t.Errorf("Format()=%q, want %q", b.String(), want)
	}
}

func TestWalkMissingRoot(t *testing.T) {
	_, err := Walk(os.DirFS(filepath.Join(t.TempDir(), "endpoints")), testPhases)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Walk()=%v, want %v", err, fs.ErrNotExist)
	}
	if pe, ok := errors.AsType[*PathError](err); !ok || pe.Path != "endpoints" {
		t.Errorf("Walk()=%v, want a PathError for endpoints", err)
	}
}

func TestWalkSymlinks(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	root := filepath.Join(dir, "endpoints")
	for _, p := range []string{filepath.Join(shared, "docs"), filepath.Join(root, "api")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{filepath.Join(shared, "docs", "docs.execute.lua"), filepath.Join(shared, "api.load.lua")} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := [][2]string{
		{filepath.Join(shared, "docs"), filepath.Join(root, "docs")},
		{filepath.Join(shared, "api.load.lua"), filepath.Join(root, "api", "api.load.lua")},
		{filepath.Join(dir, "nowhere"), filepath.Join(root, "broken")},
	}
	for _, l := range links {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Skipf("symlinks not supported: %v", err)
		}
	}
	_, err := Walk(os.DirFS(root), testPhases)
	if pe, ok := errors.AsType[*PathError](err); !ok || pe.Path != "endpoints/broken" || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Walk()=%v, want only endpoints/broken not found", err)
	}
	if err := os.Remove(filepath.Join(root, "broken")); err != nil {
		t.Fatal(err)
	}
	tbl, err := Walk(os.DirFS(root), testPhases)
	if err != nil {
		t.Fatalf("Walk()=%v, want no error", err)
	}
	if f := tbl.Lookup("/docs"); f == nil || f.Processors["execute"] != "docs/docs.execute.lua" {
		t.Errorf("Lookup(/docs)=%v, want the linked folder with its processor", f)
	}
	if f := tbl.Lookup("/api"); f == nil || f.Processors["load"] != "api/api.load.lua" {
		t.Errorf("Lookup(/api)=%v, want the linked processor", f)
	}
}

// benchTree writes a tree of n static folders, each with a param child,
// all with processors, and returns its endpoints root.
func benchTree(b *testing.B, n int) fs.FS {
	b.Helper()
	root := b.TempDir()
	for i := range n {
		dir := fmt.Sprintf("section%04d", i)
		if err := os.MkdirAll(filepath.Join(root, dir, "[id]"), 0o755); err != nil {
			b.Fatal(err)
		}
		names := []string{filepath.Join(dir, dir+".schema.json")}
		for _, p := range testPhases {
			names = append(names, filepath.Join(dir, dir+"."+p+".lua"), filepath.Join(dir, "[id]", "[id]."+p+".lua"))
		}
		for _, name := range names {
			if err := os.WriteFile(filepath.Join(root, name), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return os.DirFS(root)
}

func BenchmarkWalk(b *testing.B) {
	for _, n := range []int{10, 500} {
		fsys := benchTree(b, n)
		b.Run(fmt.Sprintf("folders=%d", 2*n+1), func(b *testing.B) {
			for b.Loop() {
				if _, err := Walk(fsys, testPhases); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWalkPartial: with the problems, WalkPartial returns the table of the
// folders and files that are named right, for a check to go on with.
func TestWalkPartial(t *testing.T) {
	fsys := files("foo/foo.lod.lua", "foo/foo.execute.lua", "bad name/bad name.load.lua", "bad name/x/x.load.lua")
	tbl, err := WalkPartial(fsys, testPhases)
	if !errors.Is(err, ErrUnknownPhase) || !errors.Is(err, ErrBadFolderName) {
		t.Fatalf("WalkPartial()=%v, want the unknown phase and the bad folder name", err)
	}
	if tbl == nil {
		t.Fatal("WalkPartial()=nil table, want the rest of the tree")
	}
	foo := tbl.Lookup("/foo")
	if foo == nil || !maps.Equal(foo.Processors, map[string]string{"execute": "foo/foo.execute.lua"}) {
		t.Errorf("Lookup(/foo)=%+v, want the folder with its execute processor only", foo)
	}
	if len(tbl.Folders) != 2 {
		t.Errorf("WalkPartial() has %d folders, want the root and foo", len(tbl.Folders))
	}
	if tbl, err := WalkPartial(fsys, []string{"load", "load"}); tbl != nil || !errors.Is(err, ErrBadPhase) {
		t.Errorf("WalkPartial(bad phases)=%v, %v, want nil and ErrBadPhase", tbl, err)
	}
}
