package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
)

// TestDocSignedTokens runs the signed-token example of docs/security.md:
// its processors, then its curl commands (without the client key, which the
// example's service has no clients for).
func TestDocSignedTokens(t *testing.T) {
	files := docLuaFiles(t, "security.md", "-- endpoints/login/login.execute.lua")
	cfg := config.DefaultConfig()
	cfg.Auth.Secret = "a-test-secret-of-at-least-32-bytes"
	ts := httptest.NewServer(newServer(t, files, cfg))
	defer ts.Close()

	status, body := request(t, "POST", ts.URL+"/login", "", `{"user":"ada","password":"demo-password"}`)
	_, token, _ := strings.Cut(body, `"token":"`)
	token, _, _ = strings.Cut(token, `"`)
	if status != 200 || token == "" {
		t.Fatalf("POST /login=%d %s, want 200 with a token", status, body)
	}
	if status, body := request(t, "GET", ts.URL+"/me", "Bearer "+token, ""); status != 200 || body != `{"user":"ada"}` {
		t.Errorf("GET /me with the token=%d %s, want 200 {\"user\":\"ada\"}", status, body)
	}
	if status, body := request(t, "GET", ts.URL+"/me", "", ""); status != 401 || !strings.Contains(body, `"detail":"no token"`) {
		t.Errorf("GET /me without a token=%d %s, want a 401 problem saying no token", status, body)
	}
}

// request sends a request with a JSON body (when not empty) and an
// Authorization header (when not empty), and returns the reply.
func request(t *testing.T, method, url, authorization, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// docLuaFiles returns the files of the lua block of docs/<doc> that starts
// with the line first: each paragraph of the block is a file, named by its
// first line ("-- endpoints/login/login.execute.lua: …").
func docLuaFiles(t *testing.T, doc, first string) map[string]string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(text), "```lua\n"+first)
	block, _, closed := strings.Cut(first+block, "\n```")
	if !ok || !closed {
		t.Fatalf("docs/%s has no lua block starting %q", doc, first)
	}
	files := map[string]string{}
	for _, part := range strings.Split(block, "\n\n") {
		head, _, _ := strings.Cut(part, "\n")
		name, _, _ := strings.Cut(strings.TrimPrefix(head, "-- "), ":")
		files[name] = part
	}
	return files
}
