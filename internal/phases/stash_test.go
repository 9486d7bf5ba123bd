package phases

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

const recsSchema = `{ "schema": { "type": "object", "properties": {
	"title": { "type": "string" }, "owner": { "type": "string" }, "n": { "type": "number" },
	"secret": { "type": "string", "x-hidden": true },
	"password": { "type": "string", "x-hash": true, "x-hidden": true } } },
	"indexes": ["owner"] }`

// loadRecs builds an engine whose folder /recs serves the handler src, with
// a collection /recs in a bbolt file under t.TempDir(). A request's writes
// commit when it ends.
func loadRecs(t *testing.T, src string) *Engine {
	t.Helper()
	return loadStash(t, map[string]string{"recs/recs.execute.lua": src})
}

// loadStash builds an engine of files in which every folder uses the
// collection /recs, in a bbolt file under t.TempDir().
func loadStash(t *testing.T, files map[string]string) *Engine {
	t.Helper()
	return load(t, files, Options{Stash: openRecs(t), CollectionOf: recsOf})
}

// openRecs opens a stash with the collection /recs (recsSchema) in a bbolt
// file under t.TempDir(), closed when the test ends.
func openRecs(t *testing.T) *stash.Set {
	t.Helper()
	sc, err := stash.ParseSchema("recs.schema.json", []byte(recsSchema))
	if err != nil {
		t.Fatalf("ParseSchema()=%v", err)
	}
	set, err := stash.Open(stash.Options{DataDir: t.TempDir(), Timeout: time.Second, NoSync: true,
		Collections: []stash.CollectionSpec{{Path: "/recs", Schema: sc}}})
	if err != nil {
		t.Fatalf("stash.Open()=%v", err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

// recsOf is the CollectionOf of every folder of a test: /recs.
func recsOf(*router.Folder) string { return "/recs" }

// runLua runs body as the handler of method on /recs (body may read req.body)
// and returns the reply's JSON object, or the error.
func runLua(t *testing.T, e *Engine, method, reqBody string) (map[string]any, error) {
	t.Helper()
	resp, err := run(t, e, method, "/recs", reqBody)
	if err != nil {
		return nil, err
	}
	if len(resp.Body) == 0 {
		return nil, nil
	}
	return decode(t, resp), nil
}

func mustRun(t *testing.T, e *Engine, method, reqBody string) map[string]any {
	t.Helper()
	got, err := runLua(t, e, method, reqBody)
	if err != nil {
		t.Fatalf("%s /recs=%v", method, err)
	}
	return got
}

// TestStashVersionArgument: patch and delete check a version given as any
// number; nil checks nothing, and a value that is not a number is an error.
func TestStashVersionArgument(t *testing.T) {
	e := loadRecs(t, `return {
		POST = function(req, res) res:json(req.stash:create({ id = "r1", title = "t" })) end,
		PATCH = function(req, res)
			local v = req.body.v
			if v == "nan" then v = 0/0 elseif v == "neg0" then v = -0.0 elseif v == "inf" then v = 1/0
			elseif v == "table" then v = {} elseif v == "big" then v = 9223372036854775807 end
			res:json(req.stash:patch("r1", { n = 1 }, v))
		end,
		DELETE = function(req, res) res:json({ ok = req.stash:delete("r1", req.body.v) }) end,
	}`)
	mustRun(t, e, "POST", "")
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"zero", `{"v": 0}`, 409, "record is at version 1, the patch is based on 0"},
		{"minus zero", `{"v": "neg0"}`, 409, "based on -0"},
		{"fraction", `{"v": 1.9}`, 409, "based on 1.9"},
		{"negative", `{"v": -1}`, 409, "based on -1"},
		{"stale", `{"v": 2}`, 409, "based on 2"},
		{"max int64", `{"v": "big"}`, 409, "based on 9223372036854776000"},
		{"NaN", `{"v": "nan"}`, 409, "based on NaN"},
		{"inf", `{"v": "inf"}`, 409, "based on +Inf"},
		{"string", `{"v": "1"}`, 500, "bad argument #3 to 'patch' (version must be a number or nil, not a string)"},
		{"table", `{"v": "table"}`, 500, "version must be a number or nil, not a table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runLua(t, e, "PATCH", tc.body)
			if !isStatus(err, tc.status) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("patch(%s)=%v, want %d %q", tc.body, err, tc.status, tc.want)
			}
		})
	}
	if _, err := runLua(t, e, "DELETE", `{"v": 0}`); !isStatus(err, 409) || !strings.Contains(err.Error(), "the delete is based on 0") {
		t.Errorf("delete(id, 0)=%v, want a 409", err)
	}
	if got := mustRun(t, e, "PATCH", `{"v": 1}`); got["_version"] != 2.0 {
		t.Errorf("patch(id, 1)=%v, want version 2", got)
	}
	if got := mustRun(t, e, "PATCH", `{}`); got["_version"] != 3.0 {
		t.Errorf("patch(id, nil)=%v, want version 3", got)
	}
	if got := mustRun(t, e, "DELETE", `{"v": 3}`); got["ok"] != true {
		t.Errorf("delete(id, 3)=%v, want true", got)
	}
}

// docBlock returns the fenced lua block of docs/<doc> that starts with first.
func docBlock(t *testing.T, doc, first string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "```lua\n"+first+"\n")
	block, _, closed := strings.Cut(after, "\n```")
	if !ok || !closed {
		t.Fatalf("docs/%s has no lua block starting %q", doc, first)
	}
	return first + "\n" + block
}

// TestStashDocIfMatch runs the If-Match example of docs/stash.md.
func TestStashDocIfMatch(t *testing.T) {
	e := loadStash(t, map[string]string{
		"recs/recs.execute.lua":       `return { POST = function(req, res) res:json(req.stash:create({ id = "r1", title = "t" })) end }`,
		"notes/[id]/[id].execute.lua": docBlock(t, "stash.md", "-- endpoints/notes/[id]/[id].execute.lua"),
	})
	mustRun(t, e, "POST", "")
	send := func(method, ifMatch string) (*Response, error) {
		c := &Call{Folder: e.Table().Lookup("/notes/[id]"), Method: method, Path: "/notes/r1",
			Params: map[string]string{"id": "r1"}, Header: http.Header{}, ID: "t1"}
		if ifMatch != "" {
			c.Header.Set("If-Match", ifMatch)
		}
		if method == "PATCH" {
			c.Body = []byte(`{"n": 1}`)
			c.Header.Set("Content-Type", "application/json")
		}
		return e.Run(t.Context(), c)
	}
	tests := []struct {
		method, ifMatch string
		status          int
	}{
		{"PATCH", "latest", 412},
		{"PATCH", "0", 409},
		{"PATCH", "2", 409},
		{"PATCH", "1", 200},
		{"PATCH", "", 200},
		{"DELETE", "1", 409},
		{"DELETE", "W/3", 412},
		{"DELETE", "3", 204},
		{"DELETE", "", 404},
	}
	for _, tc := range tests {
		resp, err := send(tc.method, tc.ifMatch)
		status := 0
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				status = pe.Status
			}
		} else {
			status = resp.Status
			if status == 0 {
				status = 204
			}
		}
		if status != tc.status {
			t.Errorf("%s If-Match %q=%d %v, want %d", tc.method, tc.ifMatch, status, err, tc.status)
		}
	}
}

// TestStashWriteNotARecord: create, put and patch given a JSON value that
// is not an object (as req.body holds for such a request body) answer 422,
// and write nothing.
func TestStashWriteNotARecord(t *testing.T) {
	e := loadRecs(t, `return {
		POST = function(req, res)
			local rec = req.body
			if req.query.lua == "numkey" then rec = { title = "t", [5] = "x" }
			elseif req.query.lua == "seq" then rec = { "a", "b" } end
			res:json(req.stash:create(rec))
		end,
		PUT = function(req, res) res:json(req.stash:put("r1", req.body)) end,
		PATCH = function(req, res) res:json(req.stash:patch("r1", req.body)) end,
		GET = function(req, res) res:json({ n = req.stash:count() }) end,
	}`)
	mustRun(t, e, "PUT", `{"title": "t"}`)
	tests := []struct{ body, what string }{
		{`[1,2]`, "an array"},
		{`[]`, "an array"},
		{`"str"`, "a string"},
		{`null`, "null"},
		{`42`, "a number"},
		{`true`, "a boolean"},
		{``, "null"},
	}
	for _, method := range []string{"POST", "PUT", "PATCH"} {
		for _, tc := range tests {
			_, err := runLua(t, e, method, tc.body)
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 422 || pe.Detail != "the record must be a JSON object" ||
				len(pe.Fields) != 1 || pe.Fields[0] != (FieldError{Pointer: "", Message: "is " + tc.what + ", not an object"}) {
				t.Errorf("%s %q=%v (%+v), want a 422 saying the record is %s", method, tc.body, err, pe, tc.what)
			}
		}
	}
	for _, q := range []string{"numkey", "seq"} {
		c := &Call{Folder: e.Table().Lookup("/recs"), Method: "POST", Path: "/recs", Header: http.Header{}, ID: "t1",
			RawQuery: "lua=" + q}
		if _, err := e.Run(t.Context(), c); !isStatus(err, 422) {
			t.Errorf("create(%s)=%v, want 422", q, err)
		}
	}
	if got := mustRun(t, e, "GET", ""); got["n"] != 1.0 {
		t.Errorf("count()=%v, want 1: a refused write stored nothing", got["n"])
	}
	if got := mustRun(t, e, "POST", `{}`); got["id"] == nil {
		t.Errorf("create({})=%v, want an empty record stored", got)
	}
}

// TestInfinityIsNotJSON: math.huge is the infinity, as in Lua, and no
// conversion to JSON takes an infinity (or NaN): records, res:json,
// json.encode and emit refuse it rather than writing the largest float64.
func TestInfinityIsNotJSON(t *testing.T) {
	e := loadRecs(t, `return {
		GET = function(req, res)
			res:json({ inf = math.huge == 1/0, neg = -math.huge == -1/0, max = math.huge > 1.7976931348623157e308 })
		end,
		POST = function(req, res)
			local q = req.query.v
			local v = math.huge
			if q == "neg" then v = -math.huge elseif q == "div" then v = 1/0 elseif q == "nan" then v = 0/0 end
			local how = req.query.how
			if how == "create" then res:json(req.stash:create({ n = v }))
			elseif how == "patch" then res:json(req.stash:patch("r1", { n = { deep = v } }))
			elseif how == "json" then res:json({ n = v })
			elseif how == "encode" then res:send(json.encode({ v }))
			elseif how == "emit" then emit("x", { n = v }); res:status(204)
			end
		end,
	}`)
	if got := mustRun(t, e, "GET", ""); got["inf"] != true || got["neg"] != true || got["max"] != true {
		t.Fatalf("math.huge=%v, want the infinity", got)
	}
	for _, how := range []string{"create", "patch", "json", "encode", "emit"} {
		for v, want := range map[string]string{"huge": "+Inf", "neg": "-Inf", "div": "+Inf", "nan": "NaN"} {
			c := &Call{Folder: e.Table().Lookup("/recs"), Method: "POST", Path: "/recs", Header: http.Header{}, ID: "t1",
				RawQuery: "how=" + how + "&v=" + v}
			resp, err := e.Run(t.Context(), c)
			if !isStatus(err, 500) || !strings.Contains(err.Error(), "cannot encode "+want+" as json") {
				t.Errorf("%s of %s=%v %v, want a 500 saying it cannot encode %s", how, v, resp, err, want)
			}
		}
	}
}

// TestEmitEmptyType: an event type is a name consumers switch on; an empty
// one is a mistake in the script, not an event with "type":"".
func TestEmitEmptyType(t *testing.T) {
	e := loadRecs(t, `return { POST = function(req, res) emit(req.query.t or "", { n = 1 }); res:status(204) end }`)
	for q, want := range map[string]int{"": 500, "t=x": 204} {
		c := &Call{Folder: e.Table().Lookup("/recs"), Method: "POST", Path: "/recs", Header: http.Header{}, ID: "t1", RawQuery: q}
		resp, err := e.Run(t.Context(), c)
		switch {
		case want == 500 && (!isStatus(err, 500) || !strings.Contains(err.Error(), "bad argument #1 to 'emit' (an event type must not be empty)")):
			t.Errorf("emit(\"\")=%v %v, want a 500 naming the empty type", resp, err)
		case want == 204 && (err != nil || resp.Status != 204):
			t.Errorf("emit(\"x\")=%v %v, want 204", resp, err)
		}
	}
}

// TestDocNumbers runs the example of docs/lua.md on numbers.
func TestDocNumbers(t *testing.T) {
	block := docBlock(t, "lua.md", "return {\n  POST = function(req, res)\n    local ok, err = pcall(json.encode, { n = math.huge })")
	src, reply, _ := strings.Cut(block, "\n-- POST ")
	body, want, _ := strings.Cut(reply, " → ")
	e := load(t, map[string]string{"a/a.execute.lua": src}, Options{})
	resp, err := run(t, e, "POST", "/a", body)
	if err != nil || string(resp.Body) != want {
		t.Errorf("POST %s=%s %v, want %s", body, resp.Body, err, want)
	}
}

// TestStashListOptions: an unknown option or one of the wrong type is an
// error naming it, never an option dropped (which returned every record);
// a limit that is not a whole number is a 400; a where on an x-hidden
// field needs hidden = true. get's options are checked the same way.
func TestStashListOptions(t *testing.T) {
	e := loadRecs(t, `local cases = {
			none = {}, where = { where = { owner = "x" } }, page = { after = "a", limit = 1, prefix = "b" },
			wehre = { wehre = { owner = "x" } }, limt = { limt = 1 }, numkey = { [1] = "x" },
			where_string = { where = "x" }, where_array = { where = { "x" } }, after_number = { after = 5 },
			prefix_number = { prefix = 1 }, limit_string = { limit = "abc" }, hidden_string = { hidden = "yes" },
			limit_huge = { limit = math.huge }, limit_big = { limit = 1e300 }, limit_nan = { limit = 0/0 },
			limit_frac = { limit = 1.5 }, limit_neg = { limit = -1 },
			where_hidden = { where = { secret = "s2" } }, where_hidden_ok = { where = { secret = "s2" }, hidden = true },
			where_hashed = { where = { password = "p" }, hidden = true },
			get_typo = { hiden = true },
		}
		return {
		POST = function(req, res)
			req.stash:create({ id = "a", owner = "x", secret = "s1" })
			req.stash:create({ id = "b", owner = "y", secret = "s2" })
		end,
		GET = function(req, res)
			local opts = cases[req.query.c]
			if req.query.get then return res:json(req.stash:get("a", opts)) end
			local ids = {}
			for i, r in ipairs(req.stash:list(opts)) do ids[i] = r.id end
			res:json({ ids = table.concat(ids, ",") })
		end,
	}`)
	mustRun(t, e, "POST", "")
	tests := []struct {
		c, get string
		status int
		want   string // the ids, or what the error says
	}{
		{"none", "", 200, "a,b"},
		{"where", "", 200, "a"},
		{"page", "", 200, "b"},
		{"where_hidden_ok", "", 200, "b"},
		{"wehre", "", 500, `bad argument #1 to 'list' (unknown option "wehre" (want after, limit, where, prefix or hidden))`},
		{"limt", "", 500, `unknown option "limt"`},
		{"numkey", "", 500, `unknown option 1`},
		{"where_string", "", 500, "option where must be a table of field = value, not a string"},
		{"where_array", "", 500, "option where must be a table of field = value, not an array"},
		{"after_number", "", 500, "option after must be a string, not a number"},
		{"prefix_number", "", 500, "option prefix must be a string, not a number"},
		{"limit_string", "", 500, "option limit must be a number, not a string"},
		{"hidden_string", "", 500, "option hidden must be a boolean, not a string"},
		{"limit_huge", "", 400, "limit must be a whole number from 0 to 2^53, not +Inf"},
		{"limit_big", "", 400, "not 1e+300"},
		{"limit_nan", "", 400, "not NaN"},
		{"limit_frac", "", 400, "not 1.5"},
		{"limit_neg", "", 400, "not -1"},
		{"where_hidden", "", 400, "where secret: the field is hidden (x-hidden); filter on it with hidden = true"},
		{"where_hashed", "", 400, "where password: the field is hashed (x-hash)"},
		{"get_typo", "1", 500, `bad argument #2 to 'get' (unknown option "hiden" (want hidden))`},
	}
	for _, tc := range tests {
		t.Run(tc.c, func(t *testing.T) {
			q := "c=" + tc.c
			if tc.get != "" {
				q += "&get=1"
			}
			c := &Call{Folder: e.Table().Lookup("/recs"), Method: "GET", Path: "/recs", RawQuery: q, Header: http.Header{}, ID: "t1"}
			resp, err := e.Run(t.Context(), c)
			if tc.status == 200 {
				if err != nil || decode(t, resp)["ids"] != tc.want {
					t.Errorf("list(%s)=%v, want ids %s", tc.c, err, tc.want)
				}
				return
			}
			if !isStatus(err, tc.status) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("list(%s)=%v, want %d %q", tc.c, err, tc.status, tc.want)
			}
		})
	}
}

// TestInstallTimeout: an install script past the time budget is stopped,
// and the error names the budget to raise; the engine goes on working.
func TestInstallTimeout(t *testing.T) {
	set := openRecs(t)
	e := load(t, map[string]string{
		"recs/recs.install.lua": "return function(req)\n  req.stash:create({ title = 'seed' })\n  while true do end\nend",
		"recs/recs.execute.lua": `return { GET = function(req, res) res:json({ n = req.stash:count() }) end }`,
	}, Options{Stash: set, CollectionOf: recsOf, ScriptTimeout: 50 * time.Millisecond})
	installs := e.Installs()
	if len(installs) != 1 {
		t.Fatalf("Installs()=%v, want /recs", installs)
	}
	_, err := e.RunInstall(t.Context(), installs[0], set.Session())
	if !errors.Is(err, ErrScriptTimeout) || !strings.Contains(err.Error(), "limits.script_ms (50ms)") ||
		!strings.Contains(err.Error(), "endpoints/recs/recs.install.lua") {
		t.Fatalf("RunInstall()=%v, want ErrScriptTimeout naming the file and limits.script_ms", err)
	}
	if got := mustRun(t, e, "GET", ""); got["n"] != 0.0 {
		t.Errorf("GET after the stopped install=%v, want n 0: nothing of the install was committed", got)
	}
}

// TestRecordSizeIsBounded: a record whose JSON would pass MaxJSONBytes is
// refused when the script hands it over. It costs the script little (the
// table holds one string many times), and its encoding, in Go code beyond
// the heap watchdog, ran out of memory and ended the process.
func TestRecordSizeIsBounded(t *testing.T) {
	e := loadRecs(t, `return {
		POST = function(req, res)
			local s = string.rep("x", 1024 * 1024)
			local t = {}
			for i = 1, 64 do t[i] = s end
			local how, v = req.query.how, t
			if how == "nested" then v = {} for i = 1, 1024 do v[i] = t end end
			if how == "create" or how == "nested" then res:json(req.stash:create({ title = "big", more = v }))
			elseif how == "put" then res:json(req.stash:put("r1", { title = "big", more = v }))
			elseif how == "where" then res:json(req.stash:list({ where = { title = v } }))
			elseif how == "small" then res:json(req.stash:create({ title = "small", more = { s, s } }))
			end
		end,
	}`)
	for _, how := range []string{"create", "put", "where", "nested"} {
		c := &Call{Folder: e.Table().Lookup("/recs"), Method: "POST", Path: "/recs", Header: http.Header{}, ID: "t1",
			RawQuery: "how=" + how}
		if _, err := e.Run(t.Context(), c); !isStatus(err, 500) || !strings.Contains(err.Error(), "json encoding longer than") {
			t.Fatalf("%s=%v, want a 500 naming the json size limit", how, err)
		}
	}
	c := &Call{Folder: e.Table().Lookup("/recs"), Method: "POST", Path: "/recs", Header: http.Header{}, ID: "t1", RawQuery: "how=small"}
	if _, err := e.Run(t.Context(), c); err != nil {
		t.Errorf("a 2 MiB record: %v", err)
	}
}

// TestEventSizeIsBounded: the stash writes and emits of one command are
// refused once its event would pass MaxEventBytes, and the command does not
// commit even when the script catches the error. Each emit of a table that
// holds one 16 MiB string cost the script nothing; the commit encoded them
// all at once, and a few hundred ran the process out of memory.
func TestEventSizeIsBounded(t *testing.T) {
	// Building 16 MiB strings takes a while under the race detector on a
	// busy machine: the budget is not what this test is about.
	e := load(t, map[string]string{"recs/recs.execute.lua": `return {
		GET = function(req, res) res:json({ n = req.stash:count() }) end,
		POST = function(req, res)
			local s = string.rep("x", 16 * 1024 * 1024 - 64)
			local how = req.query.how
			local function fill()
				for i = 1, 8 do
					if how == "create" then req.stash:create({ title = s }) else emit("big", { s }) end
				end
			end
			if req.query.catch then pcall(fill) else fill() end
			res:json({ ok = true })
		end,
		PUT = function(req, res)
			req.stash:create({ title = string.rep("x", 1024 * 1024) })
			for i = 1, 8 do emit("small", { string.rep("y", 1024 * 1024) }) end
			res:json({ ok = true })
		end,
	}`}, Options{Stash: openRecs(t), CollectionOf: recsOf, ScriptTimeout: time.Minute})
	for _, q := range []string{"how=emit", "how=create", "how=emit&catch=1", "how=create&catch=1"} {
		c := &Call{Folder: e.Table().Lookup("/recs"), Method: "POST", Path: "/recs", Header: http.Header{}, ID: "t1", RawQuery: q}
		if _, err := e.Run(t.Context(), c); !isStatus(err, 500) || !errors.Is(err, ErrEventSize) {
			t.Errorf("%s=%v, want a 500 ErrEventSize", q, err)
		}
	}
	if got := mustRun(t, e, "GET", ""); got["n"] != 0.0 {
		t.Errorf("count=%v after commands refused, want 0", got["n"])
	}
	mustRun(t, e, "PUT", "")
	if got := mustRun(t, e, "GET", ""); got["n"] != 1.0 {
		t.Errorf("count=%v after a 9 MiB command, want 1", got["n"])
	}
}

// TestCommitDeadline: a command's commit is bounded by the request's whole
// budget, counted from when its scripts started; without one it has none.
func TestCommitDeadline(t *testing.T) {
	var got []time.Time
	e := load(t, map[string]string{"recs/recs.execute.lua": `return { POST = function(req, res) res:status(201) end }`},
		Options{Commit: func(_ context.Context, cmd *Command) error {
			got = append(got, cmd.Deadline)
			return nil
		}})
	f := e.Table().Lookup("/recs")
	for _, budget := range []time.Duration{2 * time.Second, 0} {
		before := time.Now()
		if _, err := e.Run(t.Context(), &Call{Folder: f, Method: "POST", Path: "/recs", Header: http.Header{}, Timeout: budget}); err != nil {
			t.Fatalf("POST with a budget of %v: %v", budget, err)
		}
		after := time.Now()
		d := got[len(got)-1]
		if budget == 0 {
			if !d.IsZero() {
				t.Errorf("deadline without a budget=%v, want none", d)
			}
			continue
		}
		if d.Before(before.Add(budget)) || d.After(after.Add(budget)) {
			t.Errorf("deadline=%v, want %v after the scripts started (between %v and %v)", d, budget, before.Add(budget), after.Add(budget))
		}
	}
}

// TestDeepRecordInReplies: a record nested as deep as a body may be
// (MaxJSONDepth levels) is stored, and a reply, an event or json.encode can
// hold a list of such records, one level or more deeper; a record one level
// deeper is refused; encoding stops at MaxEncodeDepth, so a table that
// holds itself is an error, not a crash.
func TestDeepRecordInReplies(t *testing.T) {
	e := loadRecs(t, `return {
		POST = function(req, res)
			if req.query.how == "emit" then emit("listed", { items = req.stash:list({}) }) return res:json({ ok = true }) end
			if req.query.how == "deeper" then req.body.a = { req.body.a } end
			res:status(201):json(req.stash:create(req.body))
		end,
		GET = function(req, res)
			local how, list = req.query.how, req.stash:list({})
			if how == "json" then res:json({ items = list })
			elseif how == "encode" then res:send(json.encode({ page = { items = list } }), "application/json")
			elseif how == "self" then local t = {} t.t = t res:json(t)
			else
				local t = {} for i = 1, tonumber(how) - 1 do t = { t } end res:json(t)
			end
		end,
	}`)
	body := `{"id":"deep","a":` + strings.Repeat("[", MaxJSONDepth-1) + strings.Repeat("]", MaxJSONDepth-1) + `}`
	if resp, err := run(t, e, "POST", "/recs", body); err != nil || resp.Status != 201 {
		t.Fatalf("POST a record %d levels deep=%v %v, want 201", MaxJSONDepth, resp, err)
	}
	call := func(method, how, body string) (*Response, error) {
		c := &Call{Folder: e.Table().Lookup("/recs"), Method: method, Path: "/recs", Header: http.Header{}, ID: "t1",
			RawQuery: "how=" + how}
		if body != "" {
			c.Body = []byte(body)
			c.Header.Set("Content-Type", "application/json")
		}
		return e.Run(t.Context(), c)
	}
	get := func(how string) (*Response, error) { return call("GET", how, "") }
	for _, how := range []string{"json", "encode", "emit"} {
		method := "GET"
		if how == "emit" {
			method = "POST"
		}
		resp, err := call(method, how, "")
		if err != nil || resp.Status != 200 {
			t.Errorf("GET how=%s=%v, want 200", how, err)
			continue
		}
		if how != "emit" && !bytes.Contains(resp.Body, []byte(`"id":"deep"`)) {
			t.Errorf("GET how=%s=%s, want the record", how, resp.Body)
		}
	}
	if resp, err := get(strconv.Itoa(MaxEncodeDepth)); err != nil || resp.Status != 200 {
		t.Errorf("res:json of %d levels=%v, want 200", MaxEncodeDepth, err)
	}
	for _, how := range []string{strconv.Itoa(MaxEncodeDepth + 1), "self"} {
		_, err := get(how)
		if !isStatus(err, 500) || !strings.Contains(err.Error(), "json nested deeper than 128 levels") {
			t.Errorf("GET how=%s=%v, want a 500 saying json nested deeper than 128 levels", how, err)
		}
	}
	deeper := strings.Replace(body, `"deep"`, `"deeper"`, 1)
	if _, err := call("POST", "deeper", deeper); !isStatus(err, 500) ||
		!strings.Contains(err.Error(), "json nested deeper than 64 levels") {
		t.Errorf("create of a record %d levels deep=%v, want a 500 saying json nested deeper than 64 levels",
			MaxJSONDepth+1, err)
	}
}

// TestInstallErrorNamesTheFile: an install script that fails names its file
// and line, also when the error carries no position of its own: a record the
// schema refuses, or an error table.
func TestInstallErrorNamesTheFile(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"schema":  {"  req.stash:create({ title = 42 })", "endpoints/recs/recs.install.lua:2: 422 "},
		"table":   {"  error({ status = 409, title = 'Conflict', detail = 'x' })", "endpoints/recs/recs.install.lua:2: 409 "},
		"message": {"  error('boom')", "endpoints/recs/recs.install.lua:2: boom"},
	} {
		t.Run(name, func(t *testing.T) {
			set := openRecs(t)
			e := load(t, map[string]string{
				"recs/recs.install.lua": "return function(req)\n" + tc.body + "\nend",
				"recs/recs.execute.lua": `return { GET = function(req, res) res:json({}) end }`,
			}, Options{Stash: set, CollectionOf: recsOf})
			_, err := e.RunInstall(t.Context(), e.Installs()[0], set.Session())
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Count(err.Error(), "recs.install.lua") != 1 {
				t.Errorf("RunInstall()=%v, want it to name the file and line once: %q", err, tc.want)
			}
		})
	}
}
