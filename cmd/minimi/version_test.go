package main

import (
	"runtime/debug"
	"testing"
)

// TestStampedVersion: a version given with -ldflags wins; without one, the
// module version the go command recorded (go install …@v1.2.3, or a build
// from a clone) is used, and "dev" only when it recorded none.
func TestStampedVersion(t *testing.T) {
	built := func(v string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/minimi-go/minimi", Version: v}}
	}
	for _, c := range []struct {
		given string
		bi    *debug.BuildInfo
		want  string
	}{
		{"dev", built("v1.2.3"), "v1.2.3"},
		{"dev", built("v0.0.0-20261121202134-29d9ebc33342+dirty"), "v0.0.0-20261121202134-29d9ebc33342+dirty"},
		{"dev", built("(devel)"), "dev"},
		{"dev", built(""), "dev"},
		{"dev", nil, "dev"},
		{"v2.0.0", built("v1.2.3"), "v2.0.0"},
	} {
		if got := stampedVersion(c.given, c.bi); got != c.want {
			t.Errorf("stampedVersion(%q, %v) = %q, want %q", c.given, c.bi, got, c.want)
		}
	}
}
