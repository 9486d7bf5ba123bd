//go:build !nofsync

package main

// noFsync is true only in a binary built with -tags nofsync (nofsync.go).
const noFsync = false
