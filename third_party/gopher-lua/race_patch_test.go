//go:build race

package lua

// The race detector makes every allocation larger and keeps freed memory
// longer, and SetMx watches the whole process's heap: the script tests'
// 40 MiB is too tight for vm.lua under it.
func init() { maxMemory = 400 }
