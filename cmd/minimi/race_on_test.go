//go:build race

package main

// buildFlags are those of the binary the end-to-end tests run: under the
// race detector, the binary runs under it too.
var buildFlags = []string{"-race"}
