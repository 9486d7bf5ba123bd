package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"x-hidden", "x-hidden", 0},
		{"x-hiden", "x-hidden", 1}, {"x-hdiden", "x-hidden", 2}, {"kitten", "sitting", 3},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q)=%d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"x-hash", "x-hidden", "x-lowercase"}
	for _, tc := range []struct {
		name string
		max  int
		want string
	}{
		{"x-hiden", 2, "x-hidden"},
		{"x-hsh", 2, "x-hash"},
		{"x-hidden", 2, ""}, // itself is no typo
		{"x-order", 2, ""},
		{"x-lowercas", 1, "x-lowercase"},
		{"x-lowerc", 2, ""},
	} {
		if got := Closest(tc.name, keys, tc.max); got != tc.want {
			t.Errorf("Closest(%q, %d)=%q, want %q", tc.name, tc.max, got, tc.want)
		}
	}
}
