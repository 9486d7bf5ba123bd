package server

import (
	"archive/tar"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// TestBackupEndpoint: GET /_minimi/backup gives a loopback peer a tar of
// the store files that holds the records written before it, and any other
// peer a 403 problem.
func TestBackupEndpoint(t *testing.T) {
	s := newStashServer(t, notesSite, true)
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/notes", "application/json", strings.NewReader(`{"id":"n1","title":"kept"}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("POST /notes=%v %v", resp, err)
	}
	resp.Body.Close()

	resp, err = http.Get(ts.URL + "/_minimi/backup")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-tar" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="minimi-backup-`) {
		t.Fatalf("GET /_minimi/backup=%d %v, want 200 and a tar to download", resp.StatusCode, resp.Header)
	}
	tr := tar.NewReader(resp.Body)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "minimi.db" {
		t.Fatalf("first entry %v %v, want minimi.db", hdr, err)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("after minimi.db: %v, want the end of the archive", err)
	}
	path := filepath.Join(t.TempDir(), "minimi.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the copy does not open: %v", err)
	}
	defer db.Close()
	var checked int
	_ = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("the copy: %v", err)
		}
		checked++
		return nil
	})
	if checked != 1 || !bytes.Contains(data, []byte(`"kept"`)) {
		t.Errorf("the copy lacks the note written before it")
	}

	req := httptest.NewRequest("GET", "/_minimi/backup", nil)
	req.RemoteAddr = "203.0.113.7:5555"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 403 || rec.Header().Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(rec.Body.String(), "this machine only") {
		t.Errorf("GET /_minimi/backup from 203.0.113.7=%d %s, want a 403 problem", rec.Code, rec.Body)
	}
}
