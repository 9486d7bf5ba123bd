package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestChiHandler(t *testing.T) {
	for _, work := range []time.Duration{0, 3 * time.Millisecond} {
		rec := httptest.NewRecorder()
		start := time.Now()
		chiHandler(work).ServeHTTP(rec, httptest.NewRequest("GET", "/bench", nil))
		took := time.Since(start)
		if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != `{"n":2,"ok":true}` {
			t.Errorf("work %v: GET /bench=%d %s, want 200 {\"n\":2,\"ok\":true}", work, rec.Code, got)
		}
		if took < work { // a lower bound only: the busy loop runs at least work
			t.Errorf("work %v: the request took %v, want at least the work", work, took)
		}
	}
}

func TestBoltHandler(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "ref.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := boltHandler(db)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	tests := []struct {
		body   string
		status int
	}{
		{noteBody, 201},
		{noteBody, 201},
		{`not json`, 400},
		{`null`, 400},
	}
	for _, tc := range tests {
		resp, err := http.Post(ts.URL+"/notes", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("POST %s=%d %s, want %d", tc.body, resp.StatusCode, b, tc.status)
		}
	}
	var stored []map[string]any
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(notesBucket).ForEach(func(k, v []byte) error {
			var rec map[string]any
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			stored = append(stored, rec)
			return nil
		})
	})
	if err != nil || len(stored) != 2 || stored[0]["title"] != "bench note" || stored[0]["id"] == stored[1]["id"] {
		t.Errorf("stored=%v, %v; want two notes with their own ids", stored, err)
	}
}

func TestReferenceMainUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"chi"}, {"bolt", "127.0.0.1:0"}, {"nginx", "127.0.0.1:0"}, {"chi", "127.0.0.1:0", "fast"}} {
		if err := referenceMain(args); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("referenceMain(%q)=%v, want a usage error", args, err)
		}
	}
}
