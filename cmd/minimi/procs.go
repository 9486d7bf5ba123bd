package main

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// setProcs gives `minimi serve` one P more than the CPUs it may use, when
// neither the GOMAXPROCS variable nor a CPU quota decides (defaultProcs).
// It leaves GOMAXPROCS alone otherwise: setting it, even to the same value,
// stops the runtime from following a quota that changes.
func setProcs() {
	procs := runtime.GOMAXPROCS(0)
	n := defaultProcs(os.Getenv("GOMAXPROCS"), procs, runtime.NumCPU(), cpuLimited(os.DirFS("/")))
	if n != procs {
		runtime.GOMAXPROCS(n)
	}
}

// defaultProcs is the GOMAXPROCS that minimi serves with: procs, the
// runtime's own choice, when env (the GOMAXPROCS variable) holds a value
// the runtime takes, when a cgroup CPU quota applies (limited), or when
// procs is not cpus; else one more than cpus. With one P per CPU, a CPU that
// the kernel gives to another process (a proxy, a load generator, the
// kernel's own network work), or a P held in a blocking system call such as
// a commit's fdatasync, leaves requests queued behind a P that cannot run:
// on two shared cores the spare P served 5–23% more requests a second with
// a p99 2–4 ms lower (docs/operations.md, "Cores").
func defaultProcs(env string, procs, cpus int, limited bool) int {
	if n, err := strconv.ParseInt(env, 10, 32); err == nil && n > 0 {
		return procs // the runtime took it, as it takes only these
	}
	if limited || procs != cpus {
		return procs
	}
	return cpus + 1
}

// cpuLimited reports whether a cgroup CPU quota applies to the process,
// reading root (the file system's root): a cpu.max other than "max" (cgroup
// v2) or a positive cpu.cfs_quota_us (v1) in its cgroup, found through
// /proc/self/cgroup and /proc/self/mountinfo as the Go runtime finds it, or
// in any cgroup above it that the mount shows. The runtime reads the
// process's own cgroup only; a quota above it holds minimi to the runtime's
// choice too. A quota above a container's own cgroup is not visible in it.
func cpuLimited(root fs.FS) bool {
	self, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		return false
	}
	var v2, v1 string // the process's cgroup in each hierarchy ("/…"), "" for none
	for line := range strings.Lines(string(self)) {
		// hierarchy-ID:controller-list:cgroup-path
		id, rest, _ := strings.Cut(strings.TrimSpace(line), ":")
		ctrls, cg, ok := strings.Cut(rest, ":")
		switch {
		case !ok:
		case id == "0" && ctrls == "":
			v2 = cg
		case slices.Contains(strings.Split(ctrls, ","), "cpu"):
			v1 = cg
		}
	}
	info, err := fs.ReadFile(root, "proc/self/mountinfo")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(info)) {
		// id parent major:minor root mount-point options [optional fields] - fstype source super-options
		pre, post, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		mroot, point := unescapeMount(f[3]), unescapeMount(f[4])
		switch {
		case g[0] == "cgroup2" && v2 != "":
			if quotaAbove(root, point, within(v2, mroot), "cpu.max") {
				return true
			}
		case g[0] == "cgroup" && v1 != "" && slices.Contains(strings.Split(g[2], ","), "cpu"):
			if quotaAbove(root, point, within(v1, mroot), "cpu.cfs_quota_us") {
				return true
			}
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, \011,
// \012, \134 for a backslash).
func unescapeMount(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// within is cgroup's path under a mount of the hierarchy at mroot; "/"
// when cgroup lies outside it (a namespace shows the mount's root only).
func within(cgroup, mroot string) string {
	cgroup, mroot = path.Clean("/"+cgroup), path.Clean("/"+mroot)
	if mroot == "/" {
		return cgroup
	}
	if rel, ok := strings.CutPrefix(cgroup, mroot+"/"); ok {
		return "/" + rel
	}
	return "/"
}

// quotaAbove reports whether file in the cgroup at rel under the mount
// point, or in any cgroup between it and the mount, holds a CPU quota.
func quotaAbove(root fs.FS, point, rel, file string) bool {
	for dir := rel; ; dir = path.Dir(dir) {
		b, err := fs.ReadFile(root, strings.TrimPrefix(path.Join(point, dir, file), "/"))
		if err == nil && isQuota(file, string(bytes.TrimSpace(b))) {
			return true
		}
		if dir == "/" {
			return false
		}
	}
}

// isQuota reads a cpu.max ("max 100000" or "150000 100000") or a
// cpu.cfs_quota_us ("-1" or "150000").
func isQuota(file, s string) bool {
	if file == "cpu.max" {
		q, _, _ := strings.Cut(s, " ")
		return q != "" && q != "max"
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}
