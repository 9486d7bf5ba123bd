package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestBackupRemovesPartials: a backup first removes the .partial folders
// that a process killed during a backup left, and logs each; it leaves the
// finished backups alone.
func TestBackupRemovesPartials(t *testing.T) {
	data := t.TempDir()
	set := openStash(t, data)
	left := filepath.Join(data, "backups", "20260101-000000.000.partial")
	done := filepath.Join(data, "backups", "20260101-000001.000")
	for _, d := range []string{left, done} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(d, stash.DefaultFile), "cut short")
	}
	logs := &syncbuf.Buffer{}
	dir, err := backup(set, data, time.Now(), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatalf("backup()=%v", err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the partial folder: Stat()=%v, want it removed", err)
	}
	for _, d := range []string{done, dir} {
		if _, err := os.Stat(filepath.Join(d, stash.DefaultFile)); err != nil {
			t.Errorf("a finished backup: %v", err)
		}
	}
	if want := `"msg":"partial backup removed","dir":` + strconv.Quote(left); !strings.Contains(logs.String(), want) {
		t.Errorf("the log lacks %s\n%s", want, logs)
	}
}
