//go:build !race

package lua

// raceSlowdown: see race_patch_test.go.
const raceSlowdown = 1
