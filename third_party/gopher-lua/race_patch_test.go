//go:build race

package lua

// The race detector makes every allocation larger and keeps freed memory
// longer, and SetMx watches the whole process's heap: the script tests'
// 40 MiB is too tight for vm.lua under it.
func init() { maxMemory = 400 }

// raceSlowdown scales the time the tests that guard against runaway work
// (a stop, a traceback, an error under hundreds of thousands of frames)
// allow: the race detector makes that work several times slower.
const raceSlowdown = 10
