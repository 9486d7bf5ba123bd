package router

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestParseSegment(t *testing.T) {
	tests := []struct {
		name    string
		want    Segment
		wantErr bool
	}{
		{"foo", Segment{Static, "foo"}, false},
		{"foo-bar.v2", Segment{Static, "foo-bar.v2"}, false},
		{"_minimi", Segment{Static, "_minimi"}, false},
		{"héllo", Segment{Static, "héllo"}, false},
		{"a:b", Segment{Static, "a:b"}, false},
		{"endpoint", Segment{Static, "endpoint"}, false},
		{"[id]", Segment{Param, "id"}, false},
		{"[_x9]", Segment{Param, "_x9"}, false},
		{"[...rest]", Segment{CatchAll, "rest"}, false},
		{"(admin)", Segment{Group, "admin"}, false},
		{"(_)", Segment{Group, "_"}, false},

		{"", Segment{}, true},
		{".hidden", Segment{}, true},
		{"..", Segment{}, true},
		{"a b", Segment{}, true},
		{"a\tb", Segment{}, true},
		{"a\x00b", Segment{}, true},
		{"a\u00a0b", Segment{}, true},
		{"\xff", Segment{}, true},
		{"a/b", Segment{}, true},
		{"{id}", Segment{}, true},
		{"a*", Segment{}, true},
		{"a]", Segment{}, true},
		{"a(b)", Segment{}, true},
		{"[]", Segment{}, true},
		{"[id", Segment{}, true},
		{"[id]x", Segment{}, true},
		{"[1d]", Segment{}, true},
		{"[i-d]", Segment{}, true},
		{"[[id]]", Segment{}, true},
		{"[...]", Segment{}, true},
		{"[..rest]", Segment{}, true},
		{"[...[rest]]", Segment{}, true},
		{"()", Segment{}, true},
		{"(a b)", Segment{}, true},
		{"(admin", Segment{}, true},
		{"(é)", Segment{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSegment(tc.name)
			if tc.wantErr {
				if !errors.Is(err, ErrBadFolderName) {
					t.Fatalf("ParseSegment(%q)=%v, %v, want %v", tc.name, got, err, ErrBadFolderName)
				}
				if pe, ok := errors.AsType[*PathError](err); !ok || pe.Path != tc.name {
					t.Errorf("ParseSegment(%q)=%v, want a PathError naming it", tc.name, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSegment(%q)=%v, %v, want %v", tc.name, got, err, tc.want)
			}
			if s := got.String(); s != tc.name {
				t.Errorf("String()=%q, want %q", s, tc.name)
			}
		})
	}
}

func TestSegmentRender(t *testing.T) {
	tests := []struct {
		seg     Segment
		url     string
		pattern string
	}{
		{Segment{Root, ""}, "", ""},
		{Segment{Static, "foo"}, "foo", "foo"},
		{Segment{Static, "100%"}, "100%", "100%25"},
		{Segment{Param, "id"}, "[id]", "{id}"},
		{Segment{CatchAll, "rest"}, "[...rest]", "*"},
		{Segment{Group, "admin"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.seg.Kind.String(), func(t *testing.T) {
			if got := tc.seg.url(); got != tc.url {
				t.Errorf("url()=%q, want %q", got, tc.url)
			}
			if got := tc.seg.pattern(); got != tc.pattern {
				t.Errorf("pattern()=%q, want %q", got, tc.pattern)
			}
		})
	}
}

func FuzzParseSegment(f *testing.F) {
	for _, s := range []string{
		"foo", "[id]", "[...rest]", "(group)", "", ".", ".git", "a b", "[", "[]", "[...]", "(", "()",
		"[id", "id]", "[[id]]", "[...[id]]", "{id}", "*", "a/b", "\x00", "\xff", "héllo", "(a)(b)", "[a][b]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		seg, err := ParseSegment(name)
		if err != nil {
			if !errors.Is(err, ErrBadFolderName) {
				t.Fatalf("ParseSegment(%q)=%v, want %v", name, err, ErrBadFolderName)
			}
			return
		}
		if got := seg.String(); got != name {
			t.Fatalf("ParseSegment(%q).String()=%q, want %q", name, got, name)
		}
		switch seg.Kind {
		case Static:
			if strings.ContainsAny(name, "/{}*[]()") || strings.HasPrefix(name, ".") ||
				strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
				t.Fatalf("ParseSegment(%q) accepted a forbidden static name", name)
			}
		case Param, CatchAll, Group:
			if !isIdent(seg.Name) {
				t.Fatalf("ParseSegment(%q).Name=%q, want an identifier", name, seg.Name)
			}
		default:
			t.Fatalf("ParseSegment(%q).Kind=%v, want static, param, catchall or group", name, seg.Kind)
		}
	})
}
