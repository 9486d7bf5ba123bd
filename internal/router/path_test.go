package router

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		escaped string
		want    Path
		err     error
	}{
		{"/users/42", Path{"/users/42", "/users/42", "/users/42"}, nil},
		{"", Path{"/", "/", "/"}, nil},
		{"/users/a%20b", Path{"/users/a%20b", "/users/a b", "/users/a b"}, nil},
		{"/users/a%40b", Path{"/users/a%40b", "/users/a@b", "/users/a@b"}, nil},
		{"/users/caf%c3%a9", Path{"/users/caf%c3%a9", "/users/café", "/users/café"}, nil},
		{"/users/a%2Fb", Path{"/users/a%2Fb", "/users/a/b", "/users/a%2Fb"}, nil},
		{"/users/a%2fb%20c", Path{"/users/a%2fb%20c", "/users/a/b c", "/users/a%2Fb c"}, nil},
		{"/users/100%25", Path{"/users/100%25", "/users/100%", "/users/100%25"}, nil},
		{"/users/%252F", Path{"/users/%252F", "/users/%2F", "/users/%252F"}, nil},
		{"/users/42/", Path{"/users/42", "/users/42", "/users/42"}, nil},
		{"//users//42", Path{"/users/42", "/users/42", "/users/42"}, nil},
		{"/files/../users/42", Path{"/users/42", "/users/42", "/users/42"}, nil},
		{"/./a/./b/..", Path{"/a", "/a", "/a"}, nil},
		{"/../..", Path{"/", "/", "/"}, nil},
		{"users", Path{"/users", "/users", "/users"}, nil},
		{"/files/%2e%2e/x", Path{"/files/%2e%2e/x", "/files/../x", "/files/../x"}, nil},
		{"/files/..%2Fx", Path{"/files/..%2Fx", "/files/../x", "/files/..%2Fx"}, nil},
		{"/a%20b//c/", Path{"/a%20b/c", "/a b/c", "/a b/c"}, nil},
		{"/a%zz", Path{}, ErrBadPath},
		{"/a%", Path{}, ErrBadPath},
	}
	for _, tc := range tests {
		t.Run(tc.escaped, func(t *testing.T) {
			got, err := ParsePath(tc.escaped)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("ParsePath(%q)=%+v, %v, want %+v, %v", tc.escaped, got, err, tc.want, tc.err)
			}
		})
	}
}

// routeOnPath routes each request on its Path, as the server does.
func routeOnPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := ParsePath(r.URL.EscapedPath())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		chi.RouteContext(r.Context()).RoutePath = p.Route
		next.ServeHTTP(w, r)
	})
}

// mountParams mounts t with handlers that answer "<folder URL> <params>".
func mountParams(t *Table) http.Handler {
	mux := chi.NewRouter()
	mux.Use(routeOnPath)
	Mount(mux, t, func(f *Folder) bool { return len(f.Processors) > 0 }, func(f *Folder) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			params, err := Params(r, f)
			if errors.Is(err, ErrEmptyCatchAll) {
				http.NotFound(w, r)
				return
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(params)) {
				kv = append(kv, k+"="+params[k])
			}
			fmt.Fprintf(w, "%s %s", f.URL, strings.Join(kv, " "))
		})
	})
	return mux
}

// TestParams: every parameter is decoded exactly once, whatever the client
// escaped, and static folders match their decoded names.
func TestParams(t *testing.T) {
	h := mountParams(walkCase(t, "params"))
	tests := []struct{ target, want string }{
		{"/users/42", "/users/[id] id=42"},
		{"/users/a%20b", "/users/[id] id=a b"},
		{"/users/a%40b", "/users/[id] id=a@b"},
		{"/users/a%3Ab", "/users/[id] id=a:b"},
		{"/users/caf%c3%a9", "/users/[id] id=café"},
		{"/users/caf%C3%A9", "/users/[id] id=café"},
		{"/users/a%2Fb", "/users/[id] id=a/b"},
		{"/users/a%2Fb%20c", "/users/[id] id=a/b c"},
		{"/users/100%25", "/users/[id] id=100%"},
		{"/users/%252F", "/users/[id] id=%2F"},
		{"/users/%6de", "/users/me "},
		{"/users/m%65", "/users/me "},
		{"/users/a%2Fb/posts/c%2Fd", "/users/[id]/posts/[postID] id=a/b postID=c/d"},
		{"/files/a%20b/c%2Fd", "/files/[...path] path=a b/c/d"},
		{"/files/a%2Fb", "/files/[name] name=a/b"},
		{"/x%2Fy", "/[...rest] rest=x/y"},
		{"/users/...", "/users/[id] id=..."},
		{"/files/.hidden/a..b", "/files/[...path] path=.hidden/a..b"},
	}
	wantBodies(t, h, tests)
}

// TestDotParams: a parameter that holds a dot segment once decoded is
// refused; plain dot segments were resolved before routing.
func TestDotParams(t *testing.T) {
	h := mountParams(walkCase(t, "params"))
	for _, target := range []string{
		"/users/%2e%2e", "/users/%2E", "/users/..%2F", "/users/a%2F..%2Fb", "/users/%2e%2e%2fx",
		"/files/%2e%2e/x", "/files/a/%2e%2e", "/files/..%2Fx", "/files/a/.%2F", "/%2e%2e/etc/passwd",
		"/users/a/posts/%2e%2e",
		"/files/%2Fetc%2Fpasswd", "/files/a%2F%2Fb", "/users/%2F", "/users/a%2F", "/x/%2Fy",
	} {
		t.Run(target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), ErrBadPath.Error()) {
				t.Errorf("GET %s=%d %q, want 400 %v", target, rec.Code, rec.Body, ErrBadPath)
			}
		})
	}
}

// TestCatchAllNeedsASegment: a catch-all binds at least one segment, the
// root's too (as in Next.js): "/" is no URL of the root's [...rest], and a
// folder's own path falls to the nearest catch-all above it.
func TestCatchAllNeedsASegment(t *testing.T) {
	h := mountParams(walkCase(t, "params"))
	tests := []struct {
		target string
		status int
		want   string
	}{
		{"/", http.StatusNotFound, ""},
		{"//", http.StatusNotFound, ""},
		{"/files", http.StatusOK, "/[...rest] rest=files"},
		{"/files/", http.StatusOK, "/[...rest] rest=files"},
		{"/files/a", http.StatusOK, "/files/[name] name=a"},
		{"/users//42", http.StatusOK, "/users/[id] id=42"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if rec.Code != tc.status || tc.want != "" && rec.Body.String() != tc.want {
				t.Errorf("GET %s=%d %q, want %d %q", tc.target, rec.Code, rec.Body, tc.status, tc.want)
			}
		})
	}
}

// TestStaticNames: a static folder name with characters a client escapes
// matches however the client escaped them.
func TestStaticNames(t *testing.T) {
	tbl, err := Walk(files("café/café.execute.lua", "100%/100%.execute.lua", "a@b/a@b.execute.lua"), testPhases)
	if err != nil {
		t.Fatal(err)
	}
	h := mountParams(tbl)
	tests := []struct{ target, want string }{
		{"/caf%C3%A9", "/café "},
		{"/caf%c3%a9", "/café "},
		{"/café", "/café "},
		{"/100%25", "/100% "},
		{"/a@b", "/a@b "},
		{"/a%40b", "/a@b "},
	}
	wantBodies(t, h, tests)
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"/", "", "/users/42", "/a%20b", "/a%2Fb", "/a%2fb/c", "/100%25", "/%252F", "/caf%C3%A9", "/a%zz", "/a%",
		"//", "/a//b", "/./a/../b", "/%2e%2e/x", "/..%2F", "x", "/a/b/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		p, err := ParsePath(escaped)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("ParsePath(%q)=%v, want %v", escaped, err, ErrBadPath)
			}
			return
		}
		if !strings.HasPrefix(p.Route, "/") || !strings.HasPrefix(p.Decoded, "/") {
			t.Fatalf("ParsePath(%q)=%+v, want paths starting with /", escaped, p)
		}
		if path.Clean(p.Escaped) != p.Escaped {
			t.Fatalf("ParsePath(%q).Escaped=%q, not clean", escaped, p.Escaped)
		}
		if dec, err := url.PathUnescape(p.Escaped); err != nil || dec != p.Decoded {
			t.Fatalf("ParsePath(%q): Escaped %q decodes to %q, %v, not Decoded %q", escaped, p.Escaped, dec, err, p.Decoded)
		}
		// Each segment of Route decodes once to one segment of Decoded.
		routeSegs, escSegs := strings.Split(p.Route, "/"), strings.Split(p.Escaped, "/")
		if len(routeSegs) != len(escSegs) {
			t.Fatalf("ParsePath(%q): Route %q has %d segments, Escaped %q %d", escaped, p.Route, len(routeSegs), p.Escaped, len(escSegs))
		}
		for i, seg := range routeSegs {
			want, _ := url.PathUnescape(escSegs[i])
			if got := decodeParam(seg); got != want {
				t.Fatalf("ParsePath(%q): route segment %q decodes to %q, want %q", escaped, seg, got, want)
			}
		}
	})
}

// wantBodies serves GET target with h for each case and wants 200 and the
// body want.
func wantBodies(t *testing.T, h http.Handler, tests []struct{ target, want string }) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if got := rec.Body.String(); rec.Code != http.StatusOK || got != tc.want {
				t.Errorf("GET %s=%d %q, want 200 %q", tc.target, rec.Code, got, tc.want)
			}
		})
	}
}
