package main

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestBackupSignalWhileStarting: a SIGUSR1 that comes while the service
// opens its stores is kept: its backup runs once the service serves.
func TestBackupSignalWhileStarting(t *testing.T) {
	dir := copyTree(t, "testdata/stash")
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	// While the test holds minimi.db, the service waits for it (up to a
	// second) before it opens its stores; its embedded bus starts first.
	db, err := bbolt.Open(filepath.Join(data, "minimi.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := spawnServe(t, dir, nil, "MINIMI_NATS_ENABLED=true", "MINIMI_NATS_PORT=-1")
	p.waitLog(t, `"msg":"embedded nats server started"`)
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // taken while the stores wait
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	p.waitServing(t)
	p.waitLog(t, `"msg":"backup written"`)
	p.wantLog(t, `"msg":"backup signal received while starting: the backup runs once serving"`)
	p.stop(t)
	if copies, _ := filepath.Glob(filepath.Join(data, "backups", "*")); len(copies) != 1 {
		t.Errorf("backups: %q, want one", copies)
	}
}

// TestBackupSignalWhileStopping: a SIGUSR1 that comes while the service
// stops (here, waiting for a request in flight) starts no backup, the log
// says so, and the process exits 0.
func TestBackupSignalWhileStopping(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	write(t, filepath.Join(dir, "config.json"), `{"name": "slow", "limits": {"script_ms": 3000, "request_ms": 10000}}`)
	write(t, filepath.Join(dir, "endpoints/spin/spin.execute.lua"),
		`return { GET = function(req, res) log.info("spinning") while true do end end }`)
	p := startServe(t, dir)
	go func() { _, _ = http.Get(p.base + "/spin") }() // stopped after script_ms
	p.waitLog(t, `"msg":"spinning"`)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, `"msg":"stopping"`)
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit=%v, want 0\n%s", err, p.logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit within 15s of SIGTERM\n%s", p.logs)
	}
	p.wantLog(t, `"msg":"backup skipped: the service is stopping"`, `"msg":"stopped"`)
	if _, err := os.Stat(filepath.Join(dir, "data", "backups")); !os.IsNotExist(err) {
		t.Errorf("backups folder: %v, want none", err)
	}
}
