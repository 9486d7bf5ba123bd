package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/syncbuf"
)

// eventually polls check until it returns "" or the deadline passes; the
// deadline is generous because it only bounds a broken reload, it is not a
// measurement.
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = check(); last == "" {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: %s", what, last)
}

func TestServeWatchReloads(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	p := startServeArgs(t, dir, []string{"--watch"})
	get := func(path string) reply { return do(t, "GET", p.base+path, "", "") }

	// A new folder answers.
	newDir := filepath.Join(dir, "endpoints", "fresh")
	if err := os.MkdirAll(newDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(newDir, "fresh.execute.lua"), `return { GET = function(req, res) res:send("v1") end }`)
	eventually(t, "new folder", func() string {
		if r := get("/fresh"); r.status != 200 || string(r.body) != "v1" {
			return string(r.body)
		}
		return ""
	})

	// An edited script answers with the new version.
	write(t, filepath.Join(newDir, "fresh.execute.lua"), `return { GET = function(req, res) res:send("v2") end }`)
	eventually(t, "edited script", func() string {
		if r := get("/fresh"); string(r.body) != "v2" {
			return string(r.body)
		}
		return ""
	})

	// A broken script leaves the previous version serving, and the log says where.
	write(t, filepath.Join(newDir, "fresh.execute.lua"), "return {\n GET = function(req, res) res:send( end }")
	eventually(t, "reload failure logged", func() string {
		if !strings.Contains(p.logs.String(), "endpoints/fresh/fresh.execute.lua:2") {
			return "no log line naming endpoints/fresh/fresh.execute.lua:2"
		}
		return ""
	})
	if r := get("/fresh"); string(r.body) != "v2" {
		t.Errorf("after a broken edit /fresh=%q, want the previous version v2", r.body)
	}

	// Fixing it serves the fix.
	write(t, filepath.Join(newDir, "fresh.execute.lua"), `return { GET = function(req, res) res:send("v3") end }`)
	eventually(t, "fixed script", func() string {
		if r := get("/fresh"); string(r.body) != "v3" {
			return string(r.body)
		}
		return ""
	})

	// A removed folder is gone.
	if err := os.RemoveAll(newDir); err != nil {
		t.Fatal(err)
	}
	eventually(t, "removed folder", func() string {
		if r := get("/fresh"); r.status != 404 {
			return string(r.body)
		}
		return ""
	})
}

// TestServeWatchConfigFlag: the file named with --config is watched, also
// outside the service's folder, and <dir>/config.json is not read then.
func TestServeWatchConfigFlag(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	cfgFile := filepath.Join(t.TempDir(), "alt.json")
	config := func(greeting string) string {
		return `{"name": "e2e", "limits": {"script_ms": 200, "body_bytes": 1024}, "endpoints": {"/echo": {"greeting": "` + greeting + `"}}}`
	}
	write(t, cfgFile, config("from alt"))
	p := startServeArgs(t, dir, []string{"--watch", "--config", cfgFile})
	greeting := func() string {
		r := do(t, "POST", p.base+"/echo", "application/json", `{}`)
		var out struct{ Greeting string }
		if err := json.Unmarshal(r.body, &out); err != nil {
			return fmt.Sprintf("%d %s", r.status, r.body)
		}
		return out.Greeting
	}
	if g := greeting(); g != "from alt" {
		t.Fatalf("greeting=%q, want the --config file's %q", g, "from alt")
	}
	write(t, cfgFile, config("edited"))
	eventually(t, "edited --config file", func() string {
		if g := greeting(); g != "edited" {
			return "greeting " + g
		}
		return ""
	})
}

// TestServeWatchBrokenLib: a lib module that stops compiling is named as the
// reason the reload failed, also by the endpoint that requires it.
func TestServeWatchBrokenLib(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	if err := os.MkdirAll(filepath.Join(dir, "endpoints", "usel"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "lib", "m.lua"), "return { v = 1 }\n")
	write(t, filepath.Join(dir, "endpoints", "usel", "usel.execute.lua"),
		"local m = require(\"m\")\nreturn { GET = function(req, res) res:json({ v = m.v }) end }")
	p := startServeArgs(t, dir, []string{"--watch"})
	write(t, filepath.Join(dir, "lib", "m.lua"), "return { v = \n")
	want := `endpoints/usel/usel.execute.lua:1: require(\"m\"): lib/m.lua:2: syntax error`
	p.waitLog(t, want)
	if strings.Contains(p.logs.String(), "not found") {
		t.Errorf("the log says the module is not found:\n%s", p.logs)
	}
	if r := do(t, "GET", p.base+"/usel", "", ""); r.status != 200 || string(r.body) != `{"v":1}` {
		t.Errorf("GET /usel=%d %s, want the previous version's 200 {\"v\":1}", r.status, r.body)
	}
}

// TestServeWatchReloadsSchema: a schema file's new validation rules apply
// without a restart; a new index does not, and the log says it needs one.
func TestServeWatchReloadsSchema(t *testing.T) {
	schema := func(rule, keys string) string {
		return `{"schema": {"type": "object", "properties": {"title": {"type": "string"` + rule + `}}}` + keys + "\n}"
	}
	dir, memo := memoService(t, schema("", ""))
	p := startServeArgs(t, dir, []string{"--watch"})
	post := func(title string) int {
		return do(t, "POST", p.base+"/memo", "application/json", `{"title":"`+title+`"}`).status
	}
	if got := post("a long title"); got != 201 {
		t.Fatalf("POST /memo before the edit=%d, want 201", got)
	}

	// A tighter rule applies at once.
	write(t, filepath.Join(memo, "memo.schema.json"), schema(`, "maxLength": 5`, ""))
	eventually(t, "new rule", func() string {
		if got := post("a long title"); got != 422 {
			return fmt.Sprintf("POST /memo with a long title=%d, want 422", got)
		}
		return ""
	})

	// An index needs a restart: the log says so, and the rule in force stays
	// also when the same edit relaxes it.
	write(t, filepath.Join(memo, "memo.schema.json"), schema("", `, "indexes": ["title"]`))
	eventually(t, "refused reload logged", func() string {
		if !strings.Contains(p.logs.String(), "schema of /memo: the schema's indexes, unique, x-hash or x-lowercase fields changed: this change needs a restart") {
			return "no log line saying the /memo schema change needs a restart: " + p.logs.String()
		}
		return ""
	})
	if got := post("a long title"); got != 422 {
		t.Errorf("after a refused schema change a long title=%d, want 422 (the rule in force)", got)
	}
	if got := post("short"); got != 201 {
		t.Errorf("after a refused schema change a short title=%d, want 201", got)
	}

	// An index added alone is refused too (the rule file is otherwise the one in force).
	refusals := strings.Count(p.logs.String(), "needs a restart")
	write(t, filepath.Join(memo, "memo.schema.json"), schema(`, "maxLength": 5`, `, "indexes": ["title"]`))
	eventually(t, "index-only change refused", func() string {
		if strings.Count(p.logs.String(), "schema of /memo: the schema's indexes") <= refusals {
			return "no new log line refusing the index-only change: " + p.logs.String()
		}
		return ""
	})

	// A schema keyword MiniMi would not apply stops the reload, and the log
	// names the file and the keyword's place.
	write(t, filepath.Join(memo, "memo.schema.json"), `{"schema": {"type": "object", "properties": {"title": {"type": "string"},
  "creds": {"type": "object", "properties": {"pw": {"type": "string", "x-hash": true}}}}}}`)
	p.waitLog(t, "endpoints/memo/memo.schema.json: invalid schema: /schema/properties/creds/properties/pw: x-hash applies to top-level properties only")
	if got := post("a long title"); got != 422 {
		t.Errorf("after a refused schema a long title=%d, want 422 (the rule in force)", got)
	}

	// A new collection needs a restart, and the log names it.
	write(t, filepath.Join(memo, "memo.schema.json"), schema(`, "maxLength": 5`, ""))
	mkdir(t, filepath.Join(dir, "endpoints", "seed"))
	write(t, filepath.Join(dir, "endpoints", "seed", "seed.schema.json"), schema("", ""))
	p.waitLog(t, "a collection at /seed gained: this change needs a restart")
}

// TestServeIndexAddedBetweenStarts: an index added to a schema file while the
// service is stopped covers the records written before, from the next start.
func TestServeIndexAddedBetweenStarts(t *testing.T) {
	schema := `{"schema": {"type": "object", "properties": {"owner": {"type": "string"}}}`
	dir, memo := memoService(t, schema+"}")
	p := startServeArgs(t, dir, nil)
	for _, owner := range []string{"ann", "bob", "ann"} {
		if r := do(t, "POST", p.base+"/memo", "application/json", `{"owner":"`+owner+`"}`); r.status != 201 {
			t.Fatalf("POST /memo=%d %s", r.status, r.body)
		}
	}
	p.stop(t)

	write(t, filepath.Join(memo, "memo.schema.json"), schema+`, "indexes": ["owner"]}`)
	p = startServeArgs(t, dir, nil)
	p.waitLog(t, `"msg":"indexes rebuilt"`)
	var got []map[string]any
	r := do(t, "GET", p.base+"/memo?owner=ann", "", "")
	if err := json.Unmarshal(r.body, &got); err != nil || len(got) != 2 {
		t.Fatalf("GET /memo?owner=ann after the index was added=%d %s, want the 2 records of ann", r.status, r.body)
	}
}

// memoService is the test service with a /memo collection under schema: POST
// creates a record, GET lists those of ?owner. It returns the service's
// folder and the collection's.
func memoService(t *testing.T, schema string) (dir, memo string) {
	t.Helper()
	dir = copyTree(t, "testdata/service")
	memo = filepath.Join(dir, "endpoints", "memo")
	if err := os.MkdirAll(memo, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(memo, "memo.schema.json"), schema)
	write(t, filepath.Join(memo, "memo.execute.lua"), `return {
  POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end,
  GET = function(req, res) res:json(req.stash:list({ where = { owner = req.query.owner } })) end,
}`)
	return dir, memo
}

// TestServeWatchRenamedFolders: a folder renamed under endpoints/, or moved
// in from outside it, is watched under its new name.
func TestServeWatchRenamedFolders(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	ep := filepath.Join(dir, "endpoints")
	script := func(v string) string { return `return { GET = function(req, res) res:send("` + v + `") end }` }
	if err := os.MkdirAll(filepath.Join(ep, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(ep, "b", "b.execute.lua"), script("b1"))
	p := startServeArgs(t, dir, []string{"--watch"})
	serves := func(path, want string) func() string {
		return func() string {
			r := do(t, "GET", p.base+path, "", "")
			if want == "" && r.status != 404 {
				return fmt.Sprintf("GET %s=%d %q, want 404", path, r.status, r.body)
			}
			if want != "" && (r.status != 200 || string(r.body) != want) {
				return fmt.Sprintf("GET %s=%d %q, want 200 %q", path, r.status, r.body, want)
			}
			return ""
		}
	}
	mv := func(from, to string) {
		t.Helper()
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}

	// The folder is renamed: its processor's name no longer matches, so
	// the reload fails and /b keeps serving.
	mv(filepath.Join(ep, "b"), filepath.Join(ep, "c"))
	p.waitLog(t, "reload failed")
	// Renaming the processor too is seen, in the renamed folder.
	mv(filepath.Join(ep, "c", "b.execute.lua"), filepath.Join(ep, "c", "c.execute.lua"))
	eventually(t, "/c after the rename", serves("/c", "b1"))
	eventually(t, "/b after the rename", serves("/b", ""))
	// And so is a later edit in it.
	write(t, filepath.Join(ep, "c", "c.execute.lua"), script("c2"))
	eventually(t, "an edit in the renamed folder", serves("/c", "c2"))

	// A folder made outside endpoints/ and moved in is served, and watched.
	outside := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(outside, "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(outside, "d.execute.lua"), script("d1"))
	write(t, filepath.Join(outside, "e", "e.execute.lua"), script("e1"))
	mv(outside, filepath.Join(ep, "d"))
	eventually(t, "/d moved in", serves("/d", "d1"))
	write(t, filepath.Join(ep, "d", "e", "e.execute.lua"), script("e2"))
	eventually(t, "an edit in a subfolder of the moved folder", serves("/d/e", "e2"))

	// Moved out again, it is gone.
	mv(filepath.Join(ep, "d"), outside)
	eventually(t, "/d moved out", serves("/d", ""))
	write(t, filepath.Join(outside, "d.execute.lua"), script("d3"))
	write(t, filepath.Join(ep, "c", "c.execute.lua"), script("c3"))
	eventually(t, "an edit after the move out", serves("/c", "c3"))
	if r := do(t, "GET", p.base+"/d", "", ""); r.status != 404 {
		t.Errorf("GET /d after it moved out=%d %q, want 404", r.status, r.body)
	}
}

// TestServeWatchManyReloads: reloads that follow each other, each version
// serving requests, leave the heap goal where a few versions put it, not
// one replaced version higher for each (it was 300 MiB after 50 reloads of
// this service).
func TestServeWatchManyReloads(t *testing.T) {
	dir := t.TempDir()
	for i := range 30 {
		if err := os.MkdirAll(filepath.Join(dir, "endpoints", fmt.Sprintf("f%d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "endpoints", "ver"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		write(t, filepath.Join(dir, "endpoints", fmt.Sprintf("f%d", i), fmt.Sprintf("f%d.execute.lua", i)),
			`return { GET = function(req, res) local t = {} for i = 1, 10 do t[i] = i end res:json(t) end,
			POST = function(req, res) res:json({ a = 1, b = 2, c = 3 }) end }`)
	}
	ver := filepath.Join(dir, "endpoints", "ver", "ver.execute.lua")
	write(t, ver, `return { GET = function(req, res) res:send("0") end }`)
	p := startServeArgs(t, dir, []string{"--watch"})
	for i := 1; i <= 50; i++ {
		write(t, ver, fmt.Sprintf(`return { GET = function(req, res) res:send("%d") end }`, i))
		eventually(t, fmt.Sprintf("version %d", i), func() string {
			if r := do(t, "GET", p.base+"/ver", "", ""); string(r.body) != fmt.Sprint(i) {
				return string(r.body)
			}
			return ""
		})
	}
	r := do(t, "GET", p.base+"/_minimi/metrics", "", "")
	var goal float64
	for _, l := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(l, "go_memstats_next_gc_bytes "); ok {
			goal, _ = strconv.ParseFloat(v, 64)
		}
	}
	if goal == 0 || goal > 100<<20 {
		t.Errorf("heap goal after 50 reloads %.0f MiB, want some, under 100 MiB", goal/(1<<20))
	}
}

// TestServeWatchLimitsNeedRestart: limits.header_bytes and limits.request_ms
// set the HTTP server's header limit and read timeout when it starts, so a
// reload that changes them is refused, with the rest of its edit, and says
// so, where it logged "reloaded" and applied the rest.
func TestServeWatchLimitsNeedRestart(t *testing.T) {
	dir := copyTree(t, "testdata/service")
	p := startServeArgs(t, dir, []string{"--watch"})
	write(t, filepath.Join(dir, "config.json"), `{"name": "e2e", "limits": {"script_ms": 200, "body_bytes": 1024, "header_bytes": 8192, "request_ms": 5000},
  "endpoints": {"/echo": {"greeting": "edited"}}}`)
	p.waitLog(t, "config.json: limits.request_ms, limits.header_bytes changed: this change needs a restart")
	if strings.Contains(p.logs.String(), `"msg":"reloaded"`) {
		t.Errorf("the log says reloaded:\n%s", p.logs)
	}
	if r := do(t, "POST", p.base+"/echo", "application/json", `{}`); !strings.Contains(string(r.body), `"greeting":"hi"`) {
		t.Errorf("POST /echo after the refused edit=%d %s, want the greeting in force, hi", r.status, r.body)
	}
}

// TestServeWatchDevOff: without --watch, dev is what makes the service
// watch, so a reload that turns it off is refused and says so, where it
// applied the rest of dev's change (500 replies hid the Lua message) while
// the service went on watching. With --watch the reload applies it whole.
func TestServeWatchDevOff(t *testing.T) {
	config := func(dev bool, greeting string) string {
		return fmt.Sprintf(`{"name": "e2e", "dev": %v, "limits": {"script_ms": 200, "body_bytes": 1024},
  "endpoints": {"/echo": {"greeting": %q}}}`, dev, greeting)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		refused bool
	}{
		{"dev alone", nil, true},
		{"with --watch", []string{"--watch"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, "testdata/service")
			write(t, filepath.Join(dir, "config.json"), config(true, "hi"))
			p := startServeArgs(t, dir, tc.args)
			state := func() string {
				boom := do(t, "GET", p.base+"/boom", "", "")
				r := do(t, "POST", p.base+"/echo", "application/json", `{}`)
				var out struct{ Greeting string }
				_ = json.Unmarshal(r.body, &out)
				return fmt.Sprintf("shows the Lua message %v, greeting %q",
					strings.Contains(string(boom.body), "secret internal detail"), out.Greeting)
			}
			want := func(detail bool, greeting string) func() string {
				return func() string {
					if got, want := state(), fmt.Sprintf("shows the Lua message %v, greeting %q", detail, greeting); got != want {
						return got + ", want " + want
					}
					return ""
				}
			}
			if msg := want(true, "hi")(); msg != "" {
				t.Fatalf("at the start in dev mode: %s", msg)
			}

			write(t, filepath.Join(dir, "config.json"), config(false, "off"))
			if !tc.refused {
				eventually(t, "dev turned off", want(false, "off"))
				write(t, filepath.Join(dir, "config.json"), config(true, "on"))
				eventually(t, "dev turned on again", want(true, "on"))
				return
			}
			p.waitLog(t, "config.json: dev changed: this change needs a restart")
			if strings.Contains(p.logs.String(), `"msg":"reloaded"`) {
				t.Errorf("the log says reloaded:\n%s", p.logs)
			}
			if msg := want(true, "hi")(); msg != "" {
				t.Errorf("after the refused edit: %s", msg)
			}
			// The service still watches, as dev on says: an edit that
			// keeps dev on is applied.
			write(t, filepath.Join(dir, "config.json"), config(true, "edited"))
			eventually(t, "an edit that keeps dev on", want(true, "edited"))
		})
	}
}

// TestServeWatchEndsRevokedEventStreams: a reload that removes a client
// ends the event streams open, so the removed client's stream carries no
// record written after it; its reconnection is refused. A reload that
// leaves the clients as they were keeps the streams open.
func TestServeWatchEndsRevokedEventStreams(t *testing.T) {
	config := func(web bool) string {
		clients := `"admin": {"key_sha256": "37ad48f6764c66f3e06c07ac0cfa55d5e282c98c39804baa94644de7324ef84e"}`
		if web {
			clients += `, "web": {"key_sha256": "650b35e962d49b6d582e2e5d5fe3291db868bd3b62730dc12e8d66647562444d"}`
		}
		return `{"name": "stash-e2e", "clients": {` + clients + `}}`
	}
	dir := copyTree(t, "testdata/stash")
	write(t, filepath.Join(dir, "config.json"), config(true))
	p := startServeArgs(t, dir, []string{"--watch"})
	type stream struct {
		got  *syncbuf.Buffer
		done chan struct{}
	}
	open := func(key string) stream {
		req, err := http.NewRequest("GET", p.base+"/_minimi/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Client-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 {
			t.Fatalf("GET /_minimi/events=%d", resp.StatusCode)
		}
		s := stream{got: &syncbuf.Buffer{}, done: make(chan struct{})}
		go func() {
			defer close(s.done)
			_, _ = io.Copy(s.got, resp.Body)
		}()
		return s
	}
	post := func(title string) {
		t.Helper()
		if r := call(t, "POST", p.base+"/notes", adminKey, `{"title": "`+title+`"}`); r.status != 201 {
			t.Fatalf("POST /notes=%d %s", r.status, r.body)
		}
	}
	web, admin := open(webKey), open(adminKey)

	write(t, filepath.Join(dir, "endpoints", "notes", "[id]", "[id].execute.lua"),
		`return { GET = function(req, res) res:json(req.stash:get(req.params.id)) end }`)
	p.waitLog(t, `"msg":"reloaded"`)
	post("after the edit")
	for name, s := range map[string]stream{"web": web, "admin": admin} {
		eventually(t, name+"'s stream carries the note", func() string {
			if !strings.Contains(s.got.String(), "after the edit") {
				return "not in the stream:\n" + s.got.String()
			}
			return ""
		})
	}

	write(t, filepath.Join(dir, "config.json"), config(false))
	eventually(t, "web removed", func() string {
		if r := call(t, "GET", p.base+"/notes", webKey, ""); r.status != 401 {
			return fmt.Sprintf("GET /notes with web's key=%d", r.status)
		}
		return ""
	})
	post("after the removal")
	select {
	case <-web.done:
	case <-time.After(5 * time.Second):
		t.Error("the removed client's stream is still open")
	}
	if strings.Contains(web.got.String(), "after the removal") {
		t.Errorf("the removed client's stream carried a note written after the removal:\n%s", web.got)
	}
	if r := call(t, "GET", p.base+"/_minimi/events", webKey, ""); r.status != 401 {
		t.Errorf("GET /_minimi/events with web's key=%d %s, want 401", r.status, r.body)
	}
}
