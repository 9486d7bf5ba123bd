package requestid

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	a, b := New(), New()
	pa, na, _ := strings.Cut(a, "-")
	pb, nb, _ := strings.Cut(b, "-")
	if len(pa) != 12 || pa != pb || na == nb || na == "" || !Sane(a) {
		t.Errorf("New()=%q then %q, want the process's 12 hex digits, '-', and a new number", a, b)
	}
}

func TestSaneAndFrom(t *testing.T) {
	tests := []struct {
		id   string
		sane bool
	}{
		{"trace-1", true},
		{"", false},
		{"has space", false},
		{"tab\there", false},
		{"\xff", false},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
	}
	for _, tc := range tests {
		if got := Sane(tc.id); got != tc.sane {
			t.Errorf("Sane(%q)=%v, want %v", tc.id, got, tc.sane)
		}
		got := From([]string{tc.id, "second"})
		if tc.sane && got != tc.id || !tc.sane && (got == tc.id || !Sane(got)) {
			t.Errorf("From([%q])=%q, want the id if sane, else a new one", tc.id, got)
		}
	}
	if got := From(nil); !Sane(got) {
		t.Errorf("From(nil)=%q, want a new id", got)
	}
}
