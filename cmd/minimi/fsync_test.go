//go:build !nofsync

package main

import "testing"

// TestReleaseBuildFsyncs: only -tags nofsync may turn fsync off.
func TestReleaseBuildFsyncs(t *testing.T) {
	if noFsync {
		t.Fatal("a build without -tags nofsync must fsync its stash files")
	}
}
