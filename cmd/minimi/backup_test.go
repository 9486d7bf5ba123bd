package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/stash"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// openStash opens a Set with the default store only in dataDir.
func openStash(t *testing.T, dataDir string) *stash.Set {
	t.Helper()
	set, err := stash.Open(stash.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	return set
}

// TestBackupsKeepEarlySignal: a signal that comes before serve is kept, and
// its backup runs at serve; one that comes after stop starts none, and the
// log says so.
func TestBackupsKeepEarlySignal(t *testing.T) {
	data := t.TempDir()
	set := openStash(t, data)
	logs := &syncbuf.Buffer{}
	sig := make(chan os.Signal, 1)
	b := newBackups(t.Context(), sig, slog.New(slog.NewJSONHandler(logs, nil)))
	copies := func() []string {
		m, _ := filepath.Glob(filepath.Join(data, "backups", "*"))
		return m
	}
	logged := func(msg string) func() string {
		return func() string {
			if !strings.Contains(logs.String(), `"msg":"`+msg+`"`) {
				return "the log lacks " + msg + "\n" + logs.String()
			}
			return ""
		}
	}

	sig <- os.Interrupt // the value does not matter
	eventually(t, "the early signal", logged("backup signal received while starting: the backup runs once serving"))
	if c := copies(); len(c) != 0 {
		t.Fatalf("backups before serve: %q, want none", c)
	}
	b.serve(set, data)
	eventually(t, "the early signal's backup", logged("backup written"))
	b.stop()
	sig <- os.Interrupt
	eventually(t, "the late signal", logged("backup skipped: the service is stopping"))
	b.close()
	if c := copies(); len(c) != 1 {
		t.Errorf("backups: %q, want one", c)
	}
}
