//go:build !race

package main

// buildFlags are those of the binary the end-to-end tests run.
var buildFlags []string
