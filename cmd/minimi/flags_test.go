package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
