package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/stash/stashtest"
)

// notesInOwnFile is a service with a /notes collection in notes.db.
var notesInOwnFile = map[string]string{
	"endpoints/notes/notes.schema.json":     `{"schema": {"type": "object"}}`,
	"endpoints/notes/notes.stash.json":      `{"driver": "bbolt", "file": "notes.db"}`,
	"endpoints/notes/notes.execute.lua":     "return {\n  POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end,\n}\n",
	"endpoints/notes/[id]/[id].execute.lua": "return {\n  GET = function(req, res) res:json(req.stash:get(req.params.id)) end,\n}\n",
}

// seededNotes writes notesInOwnFile and creates its 300 notes, n000 to n299,
// one command each, so that the log in minimi.db and the records in
// notes.db both fill about a hundred pages. It returns the service's
// directory; the service is stopped.
func seededNotes(t *testing.T) string {
	t.Helper()
	dir := writeService(t, notesInOwnFile)
	p := startServe(t, dir)
	for i := range 300 {
		r := do(t, "POST", p.base+"/notes", jsonType, fmt.Sprintf(`{"id": "n%03d", "body": %q}`, i, strings.Repeat("b", 1000)))
		if r.status != 201 {
			t.Fatalf("POST /notes: %d %s", r.status, r.body)
		}
	}
	p.stop(t)
	return dir
}

// TestDamagedStoreFile: a page of notes.db overwritten at the file's full
// size is named by check --stores; serve answers 500 to the requests that
// read it, with a log line that names the file, and goes on serving.
func TestDamagedStoreFile(t *testing.T) {
	dir := seededNotes(t)
	if got := runCheck(t, dir, 0, "--stores"); len(got) != 1 || !strings.HasSuffix(got[0], ", 2 store files") {
		t.Fatalf("check --stores printed %q, want ok and 2 store files", got)
	}
	path := filepath.Join(dir, "data", "notes.db")
	stashtest.DamageMiddleLeaf(t, path)
	got := runCheck(t, dir, 1, "--stores")
	if len(got) != 1 || !strings.Contains(got[0], path+": store file is damaged: ") || !strings.Contains(got[0], "remove the file") {
		t.Fatalf("check --stores printed %q, want one line naming %s as damaged", got, path)
	}

	p := startServe(t, dir)
	failed := 0
	for i := range 300 {
		r := do(t, "GET", fmt.Sprintf("%s/notes/n%03d", p.base, i), "", "")
		switch r.status {
		case 200:
		case 500:
			isProblem(500)(t, r)
			failed++
		default:
			t.Fatalf("GET /notes/n%03d: %d %s", i, r.status, r.body)
		}
	}
	if failed == 0 || failed > 10 {
		t.Fatalf("%d notes answered 500, want the few on the damaged page", failed)
	}
	p.waitLog(t, `"error":"get /notes`)
	p.waitLog(t, path+": store file is damaged")
	if r := do(t, "GET", p.base+"/_minimi/health", "", ""); r.status != 200 {
		t.Fatalf("health after the damaged reads: %d", r.status)
	}
	got = runCheck(t, dir, 1, "--stores")
	if len(got) != 1 || !strings.Contains(got[0], "is the service running?") {
		t.Fatalf("check --stores on a running service printed %q, want it to ask whether the service runs", got)
	}
}

// TestReplayRebuildsDamagedStore: replay rebuilds a store file with a
// damaged page from the log, without reading its old pages.
func TestReplayRebuildsDamagedStore(t *testing.T) {
	dir := seededNotes(t)
	stashtest.DamageMiddleLeaf(t, filepath.Join(dir, "data", "notes.db"))
	out, err := exec.Command(binary, "replay", "--dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "replayed 300 events") || !regexp.MustCompile(`(?m)^/notes +notes\.db +300$`).Match(out) {
		t.Fatalf("replay of a damaged notes.db: %v\n%s\nwant 300 events and 300 notes in notes.db", err, out)
	}
	runCheck(t, dir, 0, "--stores")
	p := startServe(t, dir)
	for i := range 300 {
		if r := do(t, "GET", fmt.Sprintf("%s/notes/n%03d", p.base, i), "", ""); r.status != 200 {
			t.Fatalf("GET /notes/n%03d after replay: %d %s", i, r.status, r.body)
		}
	}
}

// TestReplayStopsOnDamagedLog: replay with a damaged page in minimi.db,
// which holds the log, stops with one line that names the file and says to
// restore it, and leaves the other store files as they were.
func TestReplayStopsOnDamagedLog(t *testing.T) {
	dir := seededNotes(t)
	log, notes := filepath.Join(dir, "data", "minimi.db"), filepath.Join(dir, "data", "notes.db")
	stashtest.DamageMiddleLeaf(t, log)
	before, err := os.ReadFile(notes)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "replay", "--dir", dir).CombinedOutput()
	ee, ok := errors.AsType[*exec.ExitError](err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !ok || ee.ExitCode() != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "minimi: ") ||
		!strings.Contains(lines[0], log) || !strings.Contains(lines[0], "restore it from a backup") {
		t.Fatalf("replay of a damaged minimi.db: %v\n%s\nwant exit 1 and one line naming %s", err, out, log)
	}
	if after, err := os.ReadFile(notes); err != nil || !bytes.Equal(after, before) {
		t.Fatalf("notes.db after the refused replay: %v, changed=%v; want it as it was", err, !bytes.Equal(after, before))
	}
}

// TestServeRefusesStoreAheadOfLog: a minimi.db older than notes.db (restored
// alone from an earlier copy, or lost) stops serve with a line that names
// the store and both seqs, instead of serving records that the log does not
// hold and taking the seqs given again as applied; replay rebuilds notes.db
// from the log, and serve starts on it.
func TestServeRefusesStoreAheadOfLog(t *testing.T) {
	dir := writeService(t, notesInOwnFile)
	logFile := filepath.Join(dir, "data", "minimi.db")
	p := startServe(t, dir)
	if r := do(t, "POST", p.base+"/notes", jsonType, `{"id": "n1"}`); r.status != 201 {
		t.Fatalf("POST /notes: %d %s", r.status, r.body)
	}
	p.stop(t)
	older, err := os.ReadFile(logFile) // a copy of the stopped service's minimi.db
	if err != nil {
		t.Fatal(err)
	}
	p = startServe(t, dir)
	for _, id := range []string{"n2", "n3"} {
		if r := do(t, "POST", p.base+"/notes", jsonType, fmt.Sprintf(`{"id": %q}`, id)); r.status != 201 {
			t.Fatalf("POST /notes: %d %s", r.status, r.body)
		}
	}
	p.stop(t)

	refused := func(want string) {
		t.Helper()
		if got := runCheck(t, dir, 1, "--stores"); len(got) != 1 || !strings.Contains(got[0], want) {
			t.Errorf("check --stores printed %q, want the line serve refuses with, %q", got, want)
		}
		p := spawnServe(t, dir, nil)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			select {
			case err := <-p.done:
				if err == nil || !strings.Contains(p.logs.String(), want) {
					t.Fatalf("serve: %v\n%s\nwant it to refuse to start with %q", err, p.logs, want)
				}
				return
			default:
			}
			if r, err := http.Get(p.base + "/notes/n2"); err == nil {
				r.Body.Close()
				t.Fatalf("serve started on a minimi.db older than notes.db (GET /notes/n2: %d), want it to refuse with %q", r.StatusCode, want)
			}
		}
		t.Fatalf("serve neither started nor stopped\n%s", p.logs)
	}
	if err := os.WriteFile(logFile, older, 0o600); err != nil {
		t.Fatal(err)
	}
	refused("store notes.db has applied events up to seq 3, but the event log in minimi.db ends at seq 1: ")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil { // cut to zero bytes
		t.Fatal(err)
	}
	refused("store notes.db has applied events up to seq 3, but the event log in minimi.db ends at seq 0: ")
	if err := os.Remove(logFile); err != nil {
		t.Fatal(err)
	}
	refused("store notes.db has applied events up to seq 3, but the event log in minimi.db ends at seq 0: ")

	if err := os.WriteFile(logFile, older, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary, "replay", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("minimi replay: %v\n%s", err, out)
	}
	p = startServe(t, dir)
	if r := do(t, "GET", p.base+"/notes/n1", "", ""); r.status != 200 || !strings.Contains(string(r.body), `"n1"`) {
		t.Errorf("GET /notes/n1 after replay: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", p.base+"/notes", jsonType, `{"id": "n2"}`); r.status != 201 {
		t.Errorf("POST /notes n2 after replay: %d %s, want 201: the log holds no n2", r.status, r.body)
	}
}
