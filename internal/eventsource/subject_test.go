package eventsource

import (
	"strings"
	"testing"
	"unicode"
)

func TestSubject(t *testing.T) {
	tests := []struct {
		service, path, want string
	}{
		{"notes", "/", "minimi.events.notes._"},
		{"notes", "", "minimi.events.notes._"},
		{"notes", "/notes", "minimi.events.notes.notes"},
		{"notes", "/notes/42/", "minimi.events.notes.notes.42"},
		{"notes", "/a//b", "minimi.events.notes.a._.b"},
		{"My Service", "/v1.2/x*y/>", "minimi.events.My_Service.v1_2.x_y._"},
		{"svc", "/tab\there/new\nline", "minimi.events.svc.tab_here.new_line"},
		{"", "/x", "minimi.events._.x"},
		{"svc", "/caf\xe9", "minimi.events.svc.caf_"},
		{"svc", "/ünï/çødé", "minimi.events.svc.ünï.çødé"},
	}
	for _, tc := range tests {
		t.Run(tc.service+tc.path, func(t *testing.T) {
			if got := Subject(tc.service, tc.path); got != tc.want {
				t.Fatalf("Subject(%q, %q)=%q, want %q", tc.service, tc.path, got, tc.want)
			}
		})
	}
}

func TestSubjectLong(t *testing.T) {
	path := strings.Repeat("/segment", 200)
	got := Subject("svc", path)
	if len(got) > maxSubject || !strings.HasPrefix(got, "minimi.events.svc.segment.") || strings.HasSuffix(got, ".") {
		t.Fatalf("Subject(long)=%q (%d bytes), want at most %d bytes of whole tokens", got, len(got), maxSubject)
	}
}

// FuzzSubject checks that every subject is valid for publishing: the prefix,
// then non-empty tokens without wildcards or whitespace.
func FuzzSubject(f *testing.F) {
	for _, seed := range [][2]string{{"svc", "/"}, {"svc", "/a/b"}, {"a.b", "/x*/>/ /"}, {"", ""}, {"s", "//\t\x00/\xff"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, service, path string) {
		s := Subject(service, path)
		if !strings.HasPrefix(s, SubjectPrefix+".") {
			t.Fatalf("Subject(%q, %q)=%q, want the prefix %s", service, path, s, SubjectPrefix)
		}
		for _, tok := range strings.Split(s, ".") {
			if tok == "" {
				t.Fatalf("Subject(%q, %q)=%q has an empty token", service, path, s)
			}
			if strings.ContainsAny(tok, "*>") || strings.IndexFunc(tok, func(r rune) bool {
				return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar
			}) >= 0 {
				t.Fatalf("Subject(%q, %q)=%q has the bad token %q", service, path, s, tok)
			}
		}
	})
}
