package main

import (
	"runtime"
	"testing"
)

func TestDefaultProcs(t *testing.T) {
	for _, c := range []struct {
		env         string
		procs, cpus int
		want        int
	}{
		{"", 2, 2, 3},    // every CPU: one spare P
		{"", 1, 1, 2},    // one CPU too
		{"", 16, 16, 17}, // and many
		{"2", 2, 2, 2},   // the environment decides
		{"8", 8, 2, 8},   // even above the CPUs
		{"", 2, 16, 2},   // a CPU limit below the machine's CPUs stays
	} {
		if got := defaultProcs(c.env, c.procs, c.cpus); got != c.want {
			t.Errorf("defaultProcs(%q, %d, %d)=%d, want %d", c.env, c.procs, c.cpus, got, c.want)
		}
	}
}

// TestServeRuntimeDefaults checks the GOMAXPROCS and GOGC that `minimi
// serve` runs with, through its own metrics: its defaults without the
// variables, and the environment's values with them.
func TestServeRuntimeDefaults(t *testing.T) {
	svc := copyTree(t, "testdata/service")
	check := func(t *testing.T, base string, procs, gogc float64) {
		t.Helper()
		families := scrape(t, base)
		if got, ok := metricValue(families, "go_sched_gomaxprocs_threads"); !ok || got != procs {
			t.Errorf("go_sched_gomaxprocs_threads=%v (present %v), want %v", got, ok, procs)
		}
		if got, ok := metricValue(families, "go_gc_gogc_percent"); !ok || got != gogc {
			t.Errorf("go_gc_gogc_percent=%v (present %v), want %v", got, ok, gogc)
		}
	}
	t.Run("environment", func(t *testing.T) {
		p := startServe(t, svc, "GOMAXPROCS=1", "GOGC=100", "MINIMI_DATA_DIR="+t.TempDir())
		check(t, p.base, 1, 100)
	})
	t.Run("defaults", func(t *testing.T) {
		if runtime.GOMAXPROCS(0) != runtime.NumCPU() {
			// A CPU limit or a -cpu flag: the test cannot tell the
			// runtime's own choice for the child.
			t.Skipf("GOMAXPROCS %d is not the %d CPUs", runtime.GOMAXPROCS(0), runtime.NumCPU())
		}
		p := startServe(t, svc, "GOMAXPROCS=", "GOGC=", "MINIMI_DATA_DIR="+t.TempDir())
		check(t, p.base, float64(runtime.NumCPU()+1), gcPercent)
	})
}
