package service

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/minimi-go/minimi/internal/router"
)

func TestName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", DefaultName},
		{"notes", "notes"},
		{"MiniMi", "MiniMi"},
		{"my notes.v2", "my_notes_v2"},
		{"a*b>c", "a_b_c"},
		{"ünï", "_n_"},
		{"ok-_9", "ok-_9"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Name(tc.in); got != tc.want {
				t.Errorf("Name(%q)=%q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name, service, path, want string
		err                       error
	}{
		{"root", "b", "/", "minimi.rpc.b", nil},
		{"static", "b", "/items", "minimi.rpc.b.items", nil},
		{"trailing slash", "b", "/items/42/", "minimi.rpc.b.items.42", nil},
		{"dot", "b", "/files/a.txt", "minimi.rpc.b.files.a%2Etxt", nil},
		{"wildcards", "b", "/x/*/%3E", "minimi.rpc.b.x.%2A.%3E", nil},
		{"space", "b", "/x/a%20b", "minimi.rpc.b.x.a%20b", nil},
		{"escaped slash", "b", "/x/a%2Fb", "minimi.rpc.b.x.a%2Fb", nil},
		{"unsafe service", "my svc", "/", "minimi.rpc.my_svc", nil},
		{"no slash", "b", "items", "", ErrBadPath},
		{"empty segment", "b", "/a//b", "minimi.rpc.b.a.b", nil},
		{"dot segments", "b", "/files/./../items/1", "minimi.rpc.b.items.1", nil},
		{"above the root", "b", "/../..", "minimi.rpc.b", nil},
		{"escaped dots", "b", "/files/%2e%2e/x", "minimi.rpc.b.files.%2E%2E.x", nil},
		{"bad escape", "b", "/a/%zz", "", ErrBadPath},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Subject(tc.service, tc.path)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("Subject(%q, %q)=%q, %v, want %q, %v", tc.service, tc.path, got, err, tc.want, tc.err)
			}
		})
	}
}

// TestPathOfRoundTrip checks that the callee sees the path as HTTP would:
// the same Path and RawPath after url.Parse.
func TestPathOfRoundTrip(t *testing.T) {
	paths := []string{"/", "/items", "/items/42", "/files/a.txt", "/x/a%20b", "/x/a%2Fb", "/x/%C3%BC", "/x/caf%C3%A9/-_~",
		"/x/%2E%2E/y", "/x/%2E"}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			subj, err := Subject("b", p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pathOf(Prefix("b"), subj)
			if err != nil {
				t.Fatalf("pathOf(%q)=%v", subj, err)
			}
			want, _ := url.Parse(p)
			gotURL, _ := url.Parse(got)
			if gotURL.Path != want.Path || gotURL.RawPath != want.RawPath {
				t.Errorf("pathOf(Subject(%q))=%q (path %q raw %q), want path %q raw %q", p, got, gotURL.Path, gotURL.RawPath, want.Path, want.RawPath)
			}
		})
	}
}

func TestPathOfRefuses(t *testing.T) {
	for _, subj := range []string{"minimi.rpc.a.x", "minimi.rpc.bb", "minimi.rpc.b.", "minimi.rpc.b.x.%zz", "minimi.rpc.b..x"} {
		t.Run(subj, func(t *testing.T) {
			if got, err := pathOf(Prefix("b"), subj); !errors.Is(err, ErrBadSubject) {
				t.Errorf("pathOf(%q)=%q, %v, want ErrBadSubject", subj, got, err)
			}
		})
	}
}

// walk builds a route table from folder names.
func walk(t *testing.T, files ...string) *router.Table {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f] = &fstest.MapFile{Data: []byte("return {}")}
	}
	table, err := router.Walk(fsys, []string{"execute"})
	if err != nil {
		t.Fatalf("Walk()=%v", err)
	}
	return table
}

func TestRouteSubjects(t *testing.T) {
	table := walk(t,
		"endpoint.execute.lua",
		"items/items.execute.lua",
		"items/[id]/[id].execute.lua",
		"items/new/new.execute.lua",
		"(admin)/panel/panel.execute.lua",
		"files/[...rest]/[...rest].execute.lua",
		"v1.0/v1.0.execute.lua",
	)
	want := map[string][2]string{ // URL → subject, endpoint name
		"/":                {"minimi.rpc.b", "root"},
		"/items":           {"minimi.rpc.b.items", "items"},
		"/items/[id]":      {"minimi.rpc.b.items.*", "items_id"},
		"/items/new":       {"minimi.rpc.b.items.new", "items_new"},
		"/panel":           {"minimi.rpc.b.panel", "panel"},
		"/files/[...rest]": {"minimi.rpc.b.files.>", "files_rest"},
		"/v1.0":            {"minimi.rpc.b.v1%2E0", "v1_0"},
	}
	for url, w := range want {
		t.Run(url, func(t *testing.T) {
			f := table.Lookup(url)
			if f == nil {
				t.Fatalf("Lookup(%q)=nil", url)
			}
			if got := routeSubject("minimi.rpc.b", f); got != w[0] {
				t.Errorf("routeSubject(%s)=%q, want %q", url, got, w[0])
			}
			if got := endpointName(f); got != w[1] {
				t.Errorf("endpointName(%s)=%q, want %q", url, got, w[1])
			}
		})
	}
}

// allowAll is a Routes that serves every non-group folder with GET.
type allowAll struct{ t *router.Table }

func (a allowAll) Table() *router.Table { return a.t }
func (a allowAll) Allow(f *router.Folder) []string {
	if f.Segment.Kind == router.Group {
		return nil
	}
	return []string{"GET"}
}

func TestRouteSetOwner(t *testing.T) {
	rs := newRouteSet("minimi.rpc.b", allowAll{walk(t,
		"items/[id]/[id].execute.lua",
		"items/new/new.execute.lua",
		"files/[...rest]/[...rest].execute.lua",
	)})
	tests := []struct{ path, want string }{
		{"/items/42", "/items/[id]"},
		{"/items/new", "/items/new"},
		{"/items/a%2Fb", "/items/[id]"},
		{"/files/a/b/c", "/files/[...rest]"},
		{"/items", "/items"},
		{"/nope", ""},
		{"/items/1/2", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := rs.owner(tc.path); got != tc.want {
				t.Errorf("owner(%q)=%q, want %q", tc.path, got, tc.want)
			}
		})
	}
	names := make([]string, 0, len(rs.endpoints))
	for _, ep := range rs.endpoints {
		names = append(names, ep.name)
	}
	if got, want := strings.Join(names, " "), "root files files_rest items items_id items_new"; got != want {
		t.Errorf("endpoints=%q, want %q", got, want)
	}
}

// allowProcessors is allowAll for the folders with a processor only.
type allowProcessors struct{ allowAll }

func (a allowProcessors) Allow(f *router.Folder) []string {
	if len(f.Processors) == 0 {
		return nil
	}
	return a.allowAll.Allow(f)
}

// TestRouteSetOwnerCatchAll: a catch-all owns a path only when it binds a
// segment, as over HTTP: "/" is unrouted beside a root catch-all.
func TestRouteSetOwnerCatchAll(t *testing.T) {
	rs := newRouteSet("minimi.rpc.b", allowProcessors{allowAll{walk(t,
		"[...all]/[...all].execute.lua",
		"files/[...rest]/[...rest].execute.lua",
	)}})
	tests := []struct{ path, want string }{
		{"/", ""},
		{"/x", "/[...all]"},
		{"/files", "/[...all]"},
		{"/files/a/b", "/files/[...rest]"},
		{"/files/a/../..", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := rs.owner(tc.path); got != tc.want {
				t.Errorf("owner(%q)=%q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestEndpointNamesAreUnique(t *testing.T) {
	rs := newRouteSet("minimi.rpc.b", allowAll{walk(t, "a_b/a_b.execute.lua", "a/b/b.execute.lua", "a/[b]/[b].execute.lua")})
	seen := map[string]bool{}
	for _, ep := range rs.endpoints {
		if seen[ep.name] {
			t.Errorf("endpoint name %q used twice in %v", ep.name, rs.endpoints)
		}
		seen[ep.name] = true
	}
}

func FuzzSubject(f *testing.F) {
	for _, s := range []string{"/", "/items/42", "/a.b/c%20d", "/x/%2F/%2E%2E", "/ü/*/>", "/a//b", "nope"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		subj, err := Subject("svc", path)
		if err != nil {
			return
		}
		for _, tok := range strings.Split(subj, ".") {
			if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
				t.Fatalf("Subject(%q)=%q has token %q", path, subj, tok)
			}
		}
		back, err := pathOf(Prefix("svc"), subj)
		if err != nil {
			t.Fatalf("pathOf(Subject(%q)=%q)=%v", path, subj, err)
		}
		again, err := Subject("svc", back)
		if err != nil || again != subj {
			t.Fatalf("Subject(pathOf(%q)=%q)=%q, %v, want %q", subj, back, again, err, subj)
		}
	})
}
