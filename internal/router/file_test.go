package router

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestClassifyFile(t *testing.T) {
	tests := []struct {
		base, name string
		want       fileKind
		wantErr    error
	}{
		{"bar", "bar.load.lua", fileKind{roleProcessor, "load"}, nil},
		{"bar", "bar.execute.lua", fileKind{roleProcessor, "execute"}, nil},
		{"endpoint", "endpoint.access.lua", fileKind{roleProcessor, "access"}, nil},
		{"[id]", "[id].execute.lua", fileKind{roleProcessor, "execute"}, nil},
		{"v1.2", "v1.2.load.lua", fileKind{roleProcessor, "load"}, nil},
		{"bar", "bar.schema.json", fileKind{role: roleSchema}, nil},
		{"bar", "bar.stash.json", fileKind{role: roleStash}, nil},
		{"bar", "bar.install.lua", fileKind{role: roleInstall}, nil},
		{"bar", "README.md", fileKind{role: roleIgnored}, nil},
		{"bar", "notes.MD", fileKind{role: roleIgnored}, nil},
		{"bar", "bar.load.md", fileKind{role: roleIgnored}, nil},

		{"bar", "bar.lod.lua", fileKind{}, ErrUnknownPhase},
		{"bar", "bar.render.lua", fileKind{}, ErrUnknownPhase},
		{"bar", "bar.schema.lua", fileKind{}, ErrUnknownPhase},
		{"bar", "foo.load.lua", fileKind{}, ErrUnknownFile},
		{"bar", "endpoint.load.lua", fileKind{}, ErrUnknownFile},
		{"bar", "bar.lua", fileKind{}, ErrUnknownFile},
		{"bar", "bar..lua", fileKind{}, ErrUnknownFile},
		{"bar", ".load.lua", fileKind{}, ErrUnknownFile},
		{"bar", "bar.a.load.lua.bak", fileKind{}, ErrUnknownFile},
		{"bar", "bar.shema.json", fileKind{}, ErrUnknownFile},
		{"bar", "bar.schema.yaml", fileKind{}, ErrUnknownFile},
		{"bar", "bar.load.lua~", fileKind{}, ErrUnknownFile},
		{"bar", "Bar.load.lua", fileKind{}, ErrUnknownFile},
		{"bar", "data.txt", fileKind{}, ErrUnknownFile},
		{"bar", "bar", fileKind{}, ErrUnknownFile},
	}
	for _, tc := range tests {
		t.Run(tc.base+"/"+tc.name, func(t *testing.T) {
			got, err := classifyFile(tc.base, tc.name, testPhases)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("classifyFile(%q, %q)=%v, want %v", tc.base, tc.name, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("classifyFile(%q, %q)=%+v, want %+v", tc.base, tc.name, got, tc.want)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	suffixes := fileSuffixes(testPhases)
	tests := []struct {
		name string
		want string
	}{
		{"bar.lod.lua", `; did you mean "bar.load.lua"?`},
		{"bar.exectue.lua", `; did you mean "bar.execute.lua"?`},
		{"bar.acess.lua", `; did you mean "bar.access.lua"?`},
		{"bar.stash.jsn", `; did you mean "bar.stash.json"?`},
		{"bar.render.lua", ""},
		{"data.txt", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := didYouMean(tc.name, "bar", suffixes); got != tc.want {
				t.Errorf("didYouMean(%q)=%q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

func FuzzClassifyFile(f *testing.F) {
	for _, s := range [][2]string{
		{"bar", "bar.load.lua"}, {"bar", "bar.lua"}, {"bar", ".lua"}, {"bar", "bar."}, {"", ".load.lua"},
		{"endpoint", "endpoint.schema.json"}, {"a.b", "a.b.install.lua"}, {"bar", "foo.stash.json"}, {"x", "x.md"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, base, name string) {
		k, err := classifyFile(base, name, testPhases)
		if err != nil {
			if !errors.Is(err, ErrUnknownFile) && !errors.Is(err, ErrUnknownPhase) {
				t.Fatalf("classifyFile(%q, %q)=%v, want %v or %v", base, name, err, ErrUnknownFile, ErrUnknownPhase)
			}
			return
		}
		var want string
		switch k.role {
		case roleIgnored:
			if !strings.HasSuffix(strings.ToLower(name), ".md") {
				t.Fatalf("classifyFile(%q, %q) ignored a file that is not markdown", base, name)
			}
			return
		case roleProcessor:
			want = base + "." + k.phase + ".lua"
		case roleSchema:
			want = base + ".schema.json"
		case roleStash:
			want = base + ".stash.json"
		case roleInstall:
			want = base + ".install.lua"
		}
		if name != want {
			t.Fatalf("classifyFile(%q, %q)=%+v, want it only for %q", base, name, k, want)
		}
	})
}

// TestReadFileNamesTheFile: a file of the tree that cannot be read is named
// once, as endpoints/<name> like every other error of the tree: it was
// "read todos/todos.execute.lua: open todos/todos.execute.lua: permission
// denied", relative to endpoints/ and twice.
func TestReadFileNamesTheFile(t *testing.T) {
	fsys := fstest.MapFS{"a/a.execute.lua": {Data: []byte("return {}")}}
	if data, err := ReadFile(fsys, "endpoints", "a/a.execute.lua"); err != nil || string(data) != "return {}" {
		t.Errorf("ReadFile(a/a.execute.lua)=%q, %v", data, err)
	}
	_, err := ReadFile(fsys, "endpoints", "b/b.execute.lua")
	if want := "read endpoints/b/b.execute.lua: file does not exist"; err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(b/b.execute.lua)=%v, want %q", err, want)
	}
}
