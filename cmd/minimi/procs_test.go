package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDefaultProcs(t *testing.T) {
	for _, c := range []struct {
		env         string
		procs, cpus int
		limited     bool
		want        int
	}{
		{"", 2, 2, false, 3},    // every CPU: one spare P
		{"", 1, 1, false, 2},    // one CPU too
		{"", 16, 16, false, 17}, // and many
		{"2", 2, 2, false, 2},   // the environment decides
		{"8", 8, 2, false, 8},   // even above the CPUs
		{"", 2, 2, true, 2},     // a quota the runtime rounded up to the CPUs
		{"", 2, 16, false, 2},   // fewer than the CPUs: a quota or an affinity the runtime saw
		{"abc", 2, 2, false, 3}, // the runtime ignores what it cannot read
		{"0", 2, 2, false, 3},
		{"-1", 2, 2, false, 3},
		{"99999999999", 2, 2, false, 3}, // more than 32 bits
	} {
		if got := defaultProcs(c.env, c.procs, c.cpus, c.limited); got != c.want {
			t.Errorf("defaultProcs(%q, %d, %d, %v)=%d, want %d", c.env, c.procs, c.cpus, c.limited, got, c.want)
		}
	}
}

func TestCPULimited(t *testing.T) {
	const (
		v2Mount     = "25 20 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
		hybridMount = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
			"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n" +
			"33 31 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
			"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
		hostCgroup   = "0::/system.slice/minimi.service\n"
		hybridCgroup = "4:memory:/svc\n2:cpu,cpuacct:/svc\n0::/svc\n"
	)
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, c := range []struct {
		name string
		fs   fstest.MapFS
		want bool
	}{
		{"no /proc", fstest.MapFS{}, false},
		{"v2, no quota anywhere", fstest.MapFS{
			"proc/self/cgroup":    file(hostCgroup),
			"proc/self/mountinfo": file(v2Mount),
			"sys/fs/cgroup/system.slice/minimi.service/cpu.max": file("max 100000\n"),
			"sys/fs/cgroup/system.slice/cpu.max":                file("max 100000\n"),
		}, false},
		{"v2, a quota on the process's cgroup", fstest.MapFS{
			"proc/self/cgroup":    file(hostCgroup),
			"proc/self/mountinfo": file(v2Mount),
			"sys/fs/cgroup/system.slice/minimi.service/cpu.max": file("150000 100000\n"),
		}, true},
		{"v2, a quota on a cgroup above it", fstest.MapFS{
			"proc/self/cgroup":    file(hostCgroup),
			"proc/self/mountinfo": file(v2Mount),
			"sys/fs/cgroup/system.slice/minimi.service/cpu.max": file("max 100000\n"),
			"sys/fs/cgroup/system.slice/cpu.max":                file("100000 100000\n"),
		}, true},
		{"v2 in a cgroup namespace", fstest.MapFS{
			"proc/self/cgroup":      file("0::/\n"),
			"proc/self/mountinfo":   file("600 590 0:26 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n"),
			"sys/fs/cgroup/cpu.max": file("50000 100000\n"),
		}, true},
		{"v2 under a long mount line and escaped names", fstest.MapFS{
			"proc/self/cgroup": file("0::/machine.slice/vm\\x2d1 a.scope\n"),
			"proc/self/mountinfo": file("1 0 0:1 / / rw - overlay overlay rw,lowerdir=" + strings.Repeat("/l:", 30000) + "\n" +
				"25 20 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n"),
			"sys/fs/cgroup/machine.slice/vm\\x2d1 a.scope/cpu.max": file("50000 100000\n"),
		}, true},
		{"v2 with the mount's root and point escaped", fstest.MapFS{
			"proc/self/cgroup":    file("0::/x y/a\n"),
			"proc/self/mountinfo": file("25 20 0:26 /x\\040y /cg\\134roup rw - cgroup2 cgroup2 rw\n"),
			"cg\\roup/cpu.max":    file("max 100000\n"),
			"cg\\roup/a/cpu.max":  file("50000 100000\n"),
		}, true},
		{"v2, a bind mount of a cgroup: one below its root", fstest.MapFS{
			"proc/self/cgroup":            file("0::/docker/abc/inner\n"),
			"proc/self/mountinfo":         file("600 590 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"),
			"sys/fs/cgroup/inner/cpu.max": file("50000 100000\n"),
			"sys/fs/cgroup/cpu.max":       file("max 100000\n"),
		}, true},
		{"v1, no quota", fstest.MapFS{
			"proc/self/cgroup":                               file(hybridCgroup),
			"proc/self/mountinfo":                            file(hybridMount),
			"sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us": file("-1\n"),
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":     file("-1\n"),
		}, false},
		{"v1, a quota", fstest.MapFS{
			"proc/self/cgroup":                               file(hybridCgroup),
			"proc/self/mountinfo":                            file(hybridMount),
			"sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us": file("150000\n"),
		}, true},
		{"v1, a quota of another controller's hierarchy does not count", fstest.MapFS{
			"proc/self/cgroup":                          file(hybridCgroup),
			"proc/self/mountinfo":                       file(hybridMount),
			"sys/fs/cgroup/memory/svc/cpu.cfs_quota_us": file("150000\n"),
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := cpuLimited(c.fs); got != c.want {
				t.Errorf("cpuLimited=%v, want %v", got, c.want)
			}
		})
	}
}

// TestServeRuntimeDefaults checks the GOMAXPROCS and GOGC that `minimi
// serve` runs with, through its own metrics: the environment's values when
// it sets them, and minimi's defaults when it does not.
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
	cpus := runtime.NumCPU()
	t.Run("environment", func(t *testing.T) {
		// As many as the CPUs: the spare P would make one more.
		p := startServe(t, svc, "GOMAXPROCS="+strconv.Itoa(cpus), "GOGC=100", "MINIMI_DATA_DIR="+t.TempDir())
		check(t, p.base, float64(cpus), 100)
	})
	t.Run("defaults", func(t *testing.T) {
		// The runtime's own choice for a process without GOMAXPROCS.
		was := runtime.GOMAXPROCS(0)
		runtime.SetDefaultGOMAXPROCS()
		own := runtime.GOMAXPROCS(0)
		if own != was { // a -cpu flag or the variable set it: set it back
			runtime.GOMAXPROCS(was)
		}
		want := own
		if own == cpus && !cpuLimited(os.DirFS("/")) {
			want = cpus + 1
		}
		p := startServe(t, svc, "GOMAXPROCS=", "GOGC=", "MINIMI_DATA_DIR="+t.TempDir())
		check(t, p.base, float64(want), gcPercent)
	})
}
