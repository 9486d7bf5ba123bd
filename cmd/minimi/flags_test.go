package main

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A bad --port is refused before anything starts, naming the flag: the
// port in config.json and MINIMI_PORT may be fine.
func TestServeBadPortFlag(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "endpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	lg := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, port := range []string{"70000", "-1"} {
		err := execute(t, t.Context(), serveCmd(lg, io.Discard), io.Discard, "--dir", dir, "--port", port)
		if err == nil || !strings.Contains(err.Error(), "config: port: must be 0..65535, got "+port+" (from --port)") {
			t.Errorf("serve --port %s=%v, want an error naming --port and its range", port, err)
		}
	}
}

// --config "" (from --config "$UNSET", say) is an error, not the default
// config.json: a file named with --config must exist.
func TestEmptyConfigFlag(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "endpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := execute(t, t.Context(), routesCmd(), io.Discard, "--dir", dir, "--config", "")
	if err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf(`routes --config ""=%v, want an error naming --config`, err)
	}
}

// --port overrides MINIMI_PORT, so serve does not read the variable at all:
// a bad one stops neither start-up nor a reload. Without --port it is
// refused, naming the variable, by serve and check alike.
// TestServePortFlagOverridesFile: --port masks the file's port as
// MINIMI_PORT does, so a bad one there does not stop serve --port N, with or
// without the variable; without the flag or the variable it does.
func TestServePortFlagOverridesFile(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	write(t, filepath.Join(dir, "config.json"), `{"name": "e2e", "port": 70000}`)
	for _, env := range [][]string{{"MINIMI_PORT=" + strconv.Itoa(freePort(t))}, nil} {
		p := startServe(t, dir, append(env, "MINIMI_DATA_DIR="+t.TempDir())...)
		if r := do(t, "GET", p.base+"/_minimi/health", "", ""); r.status != 200 {
			t.Errorf("GET /_minimi/health with %v=%d, want 200", env, r.status)
		}
		p.stop(t)
	}
	cmd := exec.Command(binary, "check", "--dir", dir)
	cmd.Env = append(os.Environ(), "MINIMI_NATS_ENABLED=false", "MINIMI_PORT=")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "port: must be 0..65535, got 70000") {
		t.Errorf("check with the file's port 70000=%v, want it refused; output:\n%s", err, out)
	}
}

func TestServePortFlagOverridesEnv(t *testing.T) {
	for _, tc := range []struct{ port, refused string }{
		{"abc", `config: port: want integer, got "abc" (from MINIMI_PORT)`},
		{"70000", "config: port: must be 0..65535, got 70000 (from MINIMI_PORT)"},
	} {
		t.Run(tc.port, func(t *testing.T) {
			dir := copyTree(t, "testdata/service")
			p := startServeArgs(t, dir, []string{"--watch"}, "MINIMI_PORT="+tc.port)
			mkdir(t, filepath.Join(dir, "endpoints/added"))
			write(t, filepath.Join(dir, "endpoints/added/added.execute.lua"), "return {GET = function(req, res) res:send('ok') end}")
			p.waitLog(t, `"msg":"reloaded"`)
			if r := do(t, "GET", p.base+"/added", "", ""); r.status != 200 {
				t.Errorf("GET /added after the reload=%d %s, want 200", r.status, r.body)
			}
			for _, args := range [][]string{{"serve", "--dir", dir}, {"check", "--dir", dir}} {
				cmd := exec.Command(binary, args...)
				cmd.Env = append(os.Environ(), "MINIMI_NATS_ENABLED=false", "MINIMI_PORT="+tc.port)
				out, err := cmd.CombinedOutput()
				if err == nil || !strings.Contains(string(out), tc.refused) {
					t.Errorf("%s with MINIMI_PORT=%s=%v, want it refused with %q; output:\n%s", args[0], tc.port, err, tc.refused, out)
				}
			}
		})
	}
}
