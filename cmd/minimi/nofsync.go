//go:build nofsync

package main

// A binary built with -tags nofsync skips the fsync of every commit to its
// stash files (bbolt still syncs when a file grows): a command is
// acknowledged before it is on disk, and a crash can lose it. It exists
// to measure what durability costs (docs/performance.md); it says so at
// start-up. Release builds do not include it.
const noFsync = true
