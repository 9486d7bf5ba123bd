package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const jsonType = "application/json"

// TestStashEndToEnd drives CRUD, schema, unique, versions, hidden and hashed
// fields, stores and the phase/method rules through a served binary.
func TestStashEndToEnd(t *testing.T) {
	dir := copyTree(t, "testdata/stash")
	p := startServe(t, dir)
	u := p.base

	// The install script seeded one note.
	if r := do(t, "GET", u+"/notes/seed", "", ""); r.status != 200 || r.json(t)["title"] != "seeded" {
		t.Fatalf("seed note: %d %s", r.status, r.body)
	}

	// Create, read, list by index, patch with versions, put, delete.
	r := do(t, "POST", u+"/notes", jsonType, `{"title":"first","owner":"ann","stars":1}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	note := r.json(t)
	id := note["id"].(string)
	if note["_version"] != 1.0 || note["_created"] == nil || note["_updated"] == nil || id == "" {
		t.Errorf("created record lacks id/_version/_created/_updated: %v", note)
	}
	do(t, "POST", u+"/notes", jsonType, `{"title":"second","owner":"bob"}`)
	list := do(t, "GET", u+"/notes?owner=ann", "", "").json(t)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Errorf("list where owner=ann: %v", list)
	}
	if list["count"] != 3.0 {
		t.Errorf("count=%v, want 3", list["count"])
	}
	if r := do(t, "GET", u+"/notes?limit=1&after="+id, "", ""); len(r.json(t)["items"].([]any)) != 1 {
		t.Errorf("paging after %s: %s", id, r.body)
	}

	patch := func(version, body string) reply {
		req := fmt.Sprintf("%s/notes/%s", u, id)
		return doHeader(t, "PATCH", req, body, "If-Match", version)
	}
	if r := patch("1", `{"stars":2}`); r.status != 200 || r.json(t)["_version"] != 2.0 || r.json(t)["title"] != "first" {
		t.Errorf("patch v1: %d %s", r.status, r.body)
	}
	if r := patch("1", `{"stars":3}`); r.status != 409 {
		t.Errorf("stale patch: %d %s, want 409", r.status, r.body)
	}
	if r := do(t, "PUT", u+"/notes/"+id, jsonType, `{"title":"replaced"}`); r.status != 200 || r.json(t)["owner"] != nil || r.json(t)["_version"] != 3.0 {
		t.Errorf("put: %d %s", r.status, r.body)
	}
	if r := do(t, "DELETE", u+"/notes/"+id, "", ""); r.json(t)["deleted"] != true {
		t.Errorf("delete: %s", r.body)
	}
	if r := do(t, "GET", u+"/notes/"+id, "", ""); r.status != 404 {
		t.Errorf("get deleted: %d", r.status)
	}
	if r := do(t, "DELETE", u+"/notes/"+id, "", ""); r.json(t)["deleted"] != false {
		t.Errorf("delete twice: %s", r.body)
	}

	// 422 lists every failing field.
	r = do(t, "POST", u+"/notes", jsonType, `{"title":"`+strings.Repeat("x", 30)+`","stars":-1}`)
	if r.status != 422 {
		t.Fatalf("invalid note: %d %s", r.status, r.body)
	}
	isProblem(422)(t, r)
	fields := map[string]bool{}
	for _, e := range r.json(t)["errors"].([]any) {
		fields[e.(map[string]any)["pointer"].(string)] = true
	}
	if !fields["/title"] || !fields["/stars"] {
		t.Errorf("422 errors name %v, want /title and /stars", fields)
	}

	// req.stash:create(req.body) answers 422 to a body that is not a JSON object.
	for _, body := range []string{`[1,2]`, `[]`, `"str"`, `null`, `42`, `true`, ``} {
		r := do(t, "POST", u+"/users", jsonType, body)
		isProblem(422)(t, r)
		if m := r.json(t); m["detail"] != "the record must be a JSON object" || len(m["errors"].([]any)) != 1 ||
			m["errors"].([]any)[0].(map[string]any)["pointer"] != "" {
			t.Errorf("POST /users %q=%d %s, want a 422 naming the record", body, r.status, r.body)
		}
	}

	// A command that fails after writing leaves nothing behind.
	before := do(t, "GET", u+"/notes", "", "").json(t)["count"]
	do(t, "POST", u+"/notes?fail=1", jsonType, `{"title":"ghost"}`)
	do(t, "POST", u+"/notes?crash=1", jsonType, `{"title":"ghost"}`)
	if after := do(t, "GET", u+"/notes", "", "").json(t)["count"]; after != before {
		t.Errorf("count after failed commands=%v, want %v", after, before)
	}

	// Users: lowercase, unique, hashed and hidden password, login with auth.verify.
	r = do(t, "POST", u+"/users", jsonType, `{"email":"Ada@Example.com","password":"correct horse"}`)
	if r.status != 201 {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	user := r.json(t)
	if user["email"] != "ada@example.com" || user["password"] != nil {
		t.Errorf("user=%v: want a lowercased email and no password", user)
	}
	if r := do(t, "POST", u+"/users", jsonType, `{"email":"ADA@example.com","password":"another one"}`); r.status != 409 {
		t.Errorf("duplicate email: %d %s, want 409", r.status, r.body)
	}
	if r := do(t, "POST", u+"/users", jsonType, `{"email":"b@example.com","password":"short"}`); r.status != 422 {
		t.Errorf("short password: %d, want 422", r.status)
	}
	if r := do(t, "GET", u+"/users", "", ""); bytes.Contains(r.body, []byte("password")) {
		t.Errorf("list leaks the password field: %s", r.body)
	}
	if r := do(t, "GET", u+"/users?hidden=1", "", ""); !bytes.Contains(r.body, []byte("$argon2id$")) {
		t.Errorf("hidden=true read lacks the hash: %s", r.body)
	}
	if r := do(t, "POST", u+"/users/login", jsonType, `{"email":"ADA@example.com","password":"correct horse"}`); r.status != 200 {
		t.Errorf("login: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", u+"/users/login", jsonType, `{"email":"ada@example.com","password":"wrong horse"}`); r.status != 401 {
		t.Errorf("bad login: %d, want 401", r.status)
	}

	// Other stores: memory and an own bbolt file; stash.at reaches another collection.
	do(t, "POST", u+"/cache", jsonType, `{"k":"v"}`)
	if m := do(t, "GET", u+"/cache", "", "").json(t); m["count"] != 1.0 || m["notes"] == nil {
		t.Errorf("cache: %v", m)
	}
	if r := do(t, "POST", u+"/archive", jsonType, `{"what":"old"}`); r.status != 201 {
		t.Errorf("archive: %d %s", r.status, r.body)
	}

	// OPTIONS shows the collection's schema.
	if r := do(t, "OPTIONS", u+"/notes/x", "", ""); r.status != 200 || !bytes.Contains(r.body, []byte(`"maxLength":20`)) {
		t.Errorf("OPTIONS /notes/x: %d %s", r.status, r.body)
	}

	// Phase and method rules.
	if r := do(t, "GET", u+"/misuse", "", ""); r.status != 500 || !bytes.Contains(r.body, []byte("GET request")) {
		t.Errorf("write in GET: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", u+"/misuse/inload", "", ""); r.status != 500 || !bytes.Contains(r.body, []byte("load phase")) {
		t.Errorf("write in load: %d %s", r.status, r.body)
	}

	// A second process on the same data dir fails clearly instead of hanging.
	out, err := exec.Command(binary, "serve", "--dir", dir, "--port", fmt.Sprint(freePort(t))).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !bytes.Contains(out, []byte("in use")) {
		t.Errorf("second serve: %v\n%s", err, out)
	}

	// After a restart the records are there and the install did not run again.
	p.stop(t)
	raw, err := os.ReadFile(filepath.Join(dir, "data", "minimi.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"correct horse", "another one"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Errorf("the data file contains the plain password %q", plain)
		}
	}
	p = startServe(t, dir)
	if r := do(t, "GET", p.base+"/notes/seed", "", ""); r.status != 200 || r.json(t)["_version"] != 1.0 {
		t.Errorf("seed after restart: %d %s", r.status, r.body)
	}
	if r := do(t, "GET", p.base+"/users", "", ""); !bytes.Contains(r.body, []byte("ada@example.com")) {
		t.Errorf("users after restart: %s", r.body)
	}
	if r := do(t, "GET", p.base+"/archive", "", ""); !bytes.Contains(r.body, []byte("old")) {
		t.Errorf("archive after restart: %s", r.body)
	}
}

func doHeader(t *testing.T, method, url, body, key, value string) reply {
	t.Helper()
	req, err := newRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(key, value)
	return send(t, req)
}

// TestMovedCollectionNeedsReplay: a collection moved from memory back into
// minimi.db, which has applied events since, would serve what it held there
// before; serve refuses to start, and check --stores says so, until a
// replay rebuilds the stores, after which the record written in memory is
// there.
func TestMovedCollectionNeedsReplay(t *testing.T) {
	lua := "return {\n  POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end,\n}\n"
	get := "return {\n  GET = function(req, res) res:json(req.stash:get(req.params.id)) end,\n}\n"
	dir := writeService(t, map[string]string{
		"endpoints/todos/todos.schema.json":     `{"schema": {"type": "object"}}`,
		"endpoints/todos/todos.execute.lua":     lua,
		"endpoints/notes/notes.schema.json":     `{"schema": {"type": "object"}}`,
		"endpoints/notes/notes.stash.json":      `{"driver": "memory"}`,
		"endpoints/notes/notes.execute.lua":     lua,
		"endpoints/notes/[id]/[id].execute.lua": get,
	})
	p := startServe(t, dir)
	for _, path := range []string{"/todos", "/notes"} {
		if r := do(t, "POST", p.base+path, jsonType, `{"id": "x1"}`); r.status != 201 {
			t.Fatalf("POST %s: %d %s", path, r.status, r.body)
		}
	}
	p.stop(t)
	if err := os.Remove(filepath.Join(dir, "endpoints/notes/notes.stash.json")); err != nil {
		t.Fatal(err)
	}

	want := `collection /notes moved from (memory) to minimi.db, which has applied events up to seq 1: ` +
		`it would serve the records it held there before, without the writes made since; ` +
		`run "minimi replay" with the service stopped`
	if logs, err := serveRefused(t, dir); err == nil || !strings.Contains(logs, want) {
		t.Fatalf("serve after the move: %v\n%s\nwant it to refuse to start with %q", err, logs, want)
	}
	if got := runCheck(t, dir, 1, "--stores"); len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("check --stores after the move printed %q, want %q", got, want)
	}

	if out, err := exec.Command(binary, "replay", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	runCheck(t, dir, 0, "--stores")
	p = startServe(t, dir)
	if r := do(t, "GET", p.base+"/notes/x1", "", ""); r.status != 200 {
		t.Fatalf("GET /notes/x1 after replay: %d %s", r.status, r.body)
	}
}

// serveRefused runs minimi serve on dir and returns its log and its exit
// once it exits; a serve that answers instead is stopped, with a nil error.
func serveRefused(t *testing.T, dir string) (string, error) {
	t.Helper()
	p := spawnServe(t, dir, nil)
	for {
		select {
		case err := <-p.done:
			return p.logs.String(), err
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get(p.base + "/_minimi/health"); err == nil {
			resp.Body.Close()
			p.stop(t)
			return p.logs.String(), nil
		}
	}
}
