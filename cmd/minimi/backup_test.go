package main

import (
	"log/slog"
	"math"
	"os"
	"os/exec"
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

// TestCheckRoom: a backup whose files do not fit in the disk's free space
// is refused, with both figures in MiB; one that fits is not.
func TestCheckRoom(t *testing.T) {
	set := openStash(t, t.TempDir())
	need, err := set.BackupSize()
	if err != nil || need <= 0 {
		t.Fatalf("BackupSize()=%d, %v", need, err)
	}
	if err := checkRoom(set, uint64(need)); err != nil {
		t.Errorf("checkRoom(%d bytes free)=%v, want nil: the files fit", need, err)
	}
	err = checkRoom(set, uint64(need)-1)
	if want := "backup needs 1 MiB, the disk has 0 MiB free"; err == nil || err.Error() != want {
		t.Errorf("checkRoom(%d bytes free)=%v, want %s", need-1, err, want)
	}
	if err := checkRoom(set, 0); err == nil {
		t.Errorf("checkRoom(0 bytes free)=nil, want a refusal")
	}
}

// TestDiskFree: diskFree reads the free space of t.TempDir()'s file
// system, as df does.
func TestDiskFree(t *testing.T) {
	dir := t.TempDir()
	free, err := diskFree(dir)
	if err != nil {
		t.Fatalf("diskFree()=%v", err)
	}
	if free == math.MaxUint64 {
		t.Skip("diskFree is not read on this system")
	}
	if free == 0 {
		t.Fatalf("diskFree()=0, want the free space of the file system of %s", dir)
	}
	out, err := exec.Command("df", "-Pk", dir).Output()
	if err != nil {
		t.Skipf("df: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(fields) < 4 {
		t.Fatalf("df -Pk: %q", out)
	}
	kib, err := strconv.ParseUint(fields[3], 10, 64)
	if err != nil {
		t.Fatalf("df -Pk: %q: %v", out, err)
	}
	// Other processes write to the disk meanwhile.
	if diff := max(free, kib<<10) - min(free, kib<<10); diff > 64<<20+free/100 {
		t.Errorf("diskFree()=%d, df says %d KiB available", free, kib)
	}
}
