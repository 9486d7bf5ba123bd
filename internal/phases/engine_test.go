package phases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

var testPhases = []string{"load", "access", "execute"}

// load builds an engine from an in-memory endpoints tree.
func load(t *testing.T, files map[string]string, opts Options) *Engine {
	t.Helper()
	e, err := tryLoad(files, opts)
	if err != nil {
		t.Fatalf("Load()=%v", err)
	}
	t.Cleanup(e.Close)
	return e
}

func tryLoad(files map[string]string, opts Options) (*Engine, error) {
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	if opts.Phases == nil {
		opts.Phases = testPhases
	}
	table, err := router.Walk(fsys, opts.Phases)
	if err != nil {
		return nil, err
	}
	opts.Endpoints = fsys
	return Load(table, opts)
}

// run sends one request to the folder serving url.
func run(t *testing.T, e *Engine, method, url string, body string) (*Response, error) {
	t.Helper()
	f := e.Table().Lookup(url)
	if f == nil {
		t.Fatalf("Lookup(%q)=nil", url)
	}
	c := &Call{Folder: f, Method: method, Path: url, Header: http.Header{}, ID: "t1"}
	if body != "" {
		c.Body = []byte(body)
		c.Header.Set("Content-Type", "application/json")
	}
	return e.Run(t.Context(), c)
}

func decode(t *testing.T, resp *Response) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return out
}

const traceLoad = `return { routes = function() return { ["/*"] = function(req) req.state.t = (req.state.t or "") .. "%s " end } end }`

func trace(tag string) string { return strings.Replace(traceLoad, "%s", tag, 1) }

func TestPipelineOrder(t *testing.T) {
	e := load(t, map[string]string{
		"endpoint.load.lua":       trace("load/"),
		"endpoint.access.lua":     trace("access/"),
		"a/a.load.lua":            trace("load/a"),
		"a/a.execute.lua":         trace("exec/a"),
		"a/b/b.access.lua":        trace("access/a/b"),
		"a/b/b.load.lua":          `return { GET = function(req) req.state.t = req.state.t .. "load/a/b " end }`,
		"a/b/b.execute.lua":       `return { GET = function(req, res) res:json({ t = req.state.t }) end }`,
		"(g)/c/c.execute.lua":     `return { GET = function(req, res) res:json({ t = req.state.t }) end }`,
		"(g)/(g).load.lua":        trace("load/(g)"),
		"x/[id]/[id].execute.lua": `return { GET = function(req, res) res:json({ id = req.params.id }) end }`,
	}, Options{})
	tests := []struct {
		url  string
		want string
	}{
		{"/a/b", "load/ load/a load/a/b access/ access/a/b exec/a "},
		{"/c", "load/ load/(g) access/ "},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			resp, err := run(t, e, "GET", tc.url, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := decode(t, resp)["t"]; got != tc.want {
				t.Errorf("trace=%q, want %q", got, tc.want)
			}
		})
	}
}

func TestBestMatch(t *testing.T) {
	proc := `return {
		GET = function(req, res) res:send("GET /") end,
		ANY = function(req, res) res:send("ANY /") end,
		routes = function() return {
			["GET /*"] = function(req, res) res:send("GET /*") end,
			["/*"] = function(req, res) res:send("ANY /*") end,
		} end,
	}`
	e := load(t, map[string]string{
		"p/p.execute.lua":   proc,
		"p/q/q.execute.lua": `return { ANY = function(req, res) res:send("q") end }`,
	}, Options{})
	tests := []struct{ method, url, want string }{
		{"GET", "/p", "GET /"},
		{"POST", "/p", "ANY /"},
		{"GET", "/p/q", "GET /*"},
		{"DELETE", "/p/q", "ANY /*"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			resp, err := run(t, e, tc.method, tc.url, "")
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tc.want {
				t.Errorf("ran %q, want %q", resp.Body, tc.want)
			}
		})
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	e := load(t, map[string]string{
		"endpoint.load.lua":  trace("x"),
		"a/a.execute.lua":    `return { GET = function(req, res) res:send("a") end, routes = function() return { ["POST /*"] = function() end } end }`,
		"a/b/b.load.lua":     `return { GET = function() end }`,
		"mw/mw.execute.lua":  `return { routes = function() return { ["/*"] = function() end } end }`,
		"mw/c/c.execute.lua": `return { PUT = function(req, res) res:status(202) end }`,
	}, Options{})
	for _, url := range []string{"/", "/a/b", "/mw"} {
		if e.Exists(e.Table().Lookup(url)) {
			t.Errorf("Exists(%s)=true, want false (no last-phase handler for /)", url)
		}
	}
	if _, err := run(t, e, "GET", "/a/b", ""); !isStatus(err, 404) {
		t.Errorf("GET /a/b err=%v, want 404", err)
	}
	_, err := run(t, e, "POST", "/a", "")
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 405 {
		t.Fatalf("POST /a err=%v, want 405", err)
	}
	if got := strings.Join(pe.Allow, ","); got != "GET,HEAD,OPTIONS" {
		t.Errorf("Allow=%s, want GET,HEAD,OPTIONS", got)
	}
	resp, err := run(t, e, "PUT", "/mw/c", "")
	if err != nil || resp.Status != 202 {
		t.Errorf("PUT /mw/c=%v %v, want 202", resp, err)
	}
	resp, err = run(t, e, "HEAD", "/a", "")
	if err != nil || string(resp.Body) != "a" {
		t.Errorf("HEAD /a ran %v %v, want the GET handler", resp, err)
	}
}

func isStatus(err error, status int) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Status == status
}

func TestResponses(t *testing.T) {
	e := load(t, map[string]string{
		"endpoint.load.lua": `return { routes = function() return { ["/*"] = function(req, res)
			if req.query and req.path == "/stop" then res:json({ stopped = "load" }) end
		end } end }`,
		"stop/stop.execute.lua":     `return { GET = function(req, res) res:send("execute ran") end }`,
		"none/none.execute.lua":     `return { GET = function(req, res) end }`,
		"status/status.execute.lua": `return { GET = function(req, res) res:status(202):header("X-A", "b") end }`,
		"redir/redir.execute.lua":   `return { GET = function(req, res) res:redirect("/x", 301) end }`,
		"err/err.execute.lua":       `return { GET = function(req, res) res:error(418, "teapot") end }`,
		"twice/twice.execute.lua":   `return { GET = function(req, res) res:send("a"); res:send("b") end }`,
		"arr/arr.execute.lua":       `return { GET = function(req, res) res:json({ empty = json.array(), list = {1, 2.5, "x", true}, obj = {} }) end }`,
	}, Options{})
	tests := []struct {
		url    string
		status int
		body   string
		header string
	}{
		{"/stop", 200, `{"stopped":"load"}`, ""},
		{"/none", 204, "", ""},
		{"/status", 202, "", "b"},
		{"/redir", 301, "", ""},
		{"/arr", 200, `{"empty":[],"list":[1,2.5,"x",true],"obj":{}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			resp, err := run(t, e, "GET", tc.url, "")
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.status || string(resp.Body) != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.Status, resp.Body, tc.status, tc.body)
			}
			if tc.header != "" && resp.Header.Get("X-A") != tc.header {
				t.Errorf("X-A=%q, want %q", resp.Header.Get("X-A"), tc.header)
			}
		})
	}
	if _, err := run(t, e, "GET", "/err", ""); !isStatus(err, 418) {
		t.Errorf("res:error err=%v, want 418", err)
	}
	if _, err := run(t, e, "GET", "/twice", ""); !isStatus(err, 500) || !strings.Contains(err.Error(), ErrFinished.Error()) {
		t.Errorf("second send err=%v, want 500 %q", err, ErrFinished)
	}
}

func TestErrors(t *testing.T) {
	e := load(t, map[string]string{
		"plain/plain.execute.lua":   "return {\n GET = function(req, res)\n  error(\"boom\")\n end }",
		"tbl/tbl.execute.lua":       "return { GET = function()\n error({ status = 409, title = \"Conflict\", detail = \"taken\" })\n end }",
		"nilidx/nilidx.execute.lua": "return { GET = function(req)\n local x = nil\n return x.y\n end }",
		"reserr/reserr.execute.lua": "return { GET = function(req, res)\n res:error(503, \"down\")\n end }",
		"restail/restail.execute.lua": "local function down(res)\n return res:error(500, \"down\")\nend\n" +
			"return { GET = function(req, res)\n return down(res)\n end }",
	}, Options{})
	tests := []struct {
		url      string
		status   int
		internal bool
		source   string
		detail   string
	}{
		{"/plain", 500, true, "endpoints/plain/plain.execute.lua:3", "boom"},
		{"/tbl", 409, false, "endpoints/tbl/tbl.execute.lua:2", "taken"},
		{"/nilidx", 500, true, "endpoints/nilidx/nilidx.execute.lua:3", ""},
		{"/reserr", 503, false, "endpoints/reserr/reserr.execute.lua:2", "down"},
		{"/restail", 500, false, "endpoints/restail/restail.execute.lua:2", "down"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := run(t, e, "GET", tc.url, "")
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err=%v, want *Error", err)
			}
			if pe.Status != tc.status || pe.Internal != tc.internal || pe.Source != tc.source {
				t.Errorf("got status=%d internal=%v source=%q, want %d %v %q", pe.Status, pe.Internal, pe.Source, tc.status, tc.internal, tc.source)
			}
			if tc.detail != "" && pe.Detail != tc.detail {
				t.Errorf("detail=%q, want %q", pe.Detail, tc.detail)
			}
		})
	}
}

func TestSandbox(t *testing.T) {
	globals := []string{"os", "io", "debug", "load", "loadstring", "dofile", "loadfile", "module",
		"getfenv", "setfenv", "collectgarbage", "newproxy", "print", "string.dump", "package", "coroutine", "channel"}
	src := `return { GET = function(req, res)
		local present = {}
		for _, name in ipairs(req.state.names) do
			local v = _G
			for part in string.gmatch(name, "[^.]+") do v = v and v[part] end
			if v ~= nil then table.insert(present, name) end
		end
		res:json({ present = json.array(present) })
	end }`
	names := `return { routes = function() return { ["/*"] = function(req) req.state.names = {` +
		`"` + strings.Join(globals, `","`) + `"} end } end }`
	e := load(t, map[string]string{"endpoint.load.lua": names, "s/s.execute.lua": src}, Options{})
	resp, err := run(t, e, "GET", "/s", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(resp.Body); got != `{"present":[]}` {
		t.Errorf("forbidden globals present: %s", got)
	}
}

func TestRequire(t *testing.T) {
	lib := fstest.MapFS{
		"greet.lua":   &fstest.MapFile{Data: []byte(`return { hi = function(n) return "hi " .. n end }`)},
		"util/up.lua": &fstest.MapFile{Data: []byte(`return string.upper`)},
	}
	e := load(t, map[string]string{
		"r/r.execute.lua":     `local g = require("greet"); local up = require("util.up"); return { GET = function(req, res) res:send(up(g.hi("x"))) end }`,
		"bad/bad.execute.lua": `return { GET = function(req, res) require("os") end }`,
	}, Options{Lib: lib})
	resp, err := run(t, e, "GET", "/r", "")
	if err != nil || string(resp.Body) != "HI X" {
		t.Fatalf("require ran %v %v, want HI X", resp, err)
	}
	if _, err := run(t, e, "GET", "/bad", ""); !isStatus(err, 500) || !strings.Contains(err.Error(), `module "os" not found`) {
		t.Errorf("require(os) err=%v, want module not found", err)
	}
}

// TestRequireLibFilesItCannotRead: lib/'s dotfiles and dotfolders are
// skipped, as endpoints/'s are (an editor's lock file .#m.lua is a dangling
// symbolic link), and a module that cannot be read is named, at its path
// from the service's folder, while the modules after it still load.
func TestRequireLibFilesItCannotRead(t *testing.T) {
	greet := &fstest.MapFile{Data: []byte(`return { hi = "hi" }`)}
	dangling := &fstest.MapFile{Mode: fs.ModeSymlink, Data: []byte("user@host.1234:1700000000")}
	uses := map[string]string{"r/r.execute.lua": `local g = require("greet"); return { GET = function(req, res) res:send(g.hi) end }`}
	e := load(t, uses, Options{Lib: fstest.MapFS{"greet.lua": greet, ".#greet.lua": dangling,
		".git/x.lua": &fstest.MapFile{Data: []byte("not lua (((")}}})
	if resp, err := run(t, e, "GET", "/r", ""); err != nil || string(resp.Body) != "hi" {
		t.Errorf("GET /r=%v %v, want hi", resp, err)
	}
	_, err := tryLoad(uses, Options{Lib: fstest.MapFS{"greet.lua": greet, "after.lua": dangling}})
	if err == nil || !strings.Contains(err.Error(), "read lib/after.lua: file does not exist") ||
		strings.Contains(err.Error(), "not found") {
		t.Errorf("Load with lib/after.lua a dangling link: %v, want it named alone", err)
	}
}

func TestScriptTimeout(t *testing.T) {
	e := load(t, map[string]string{
		"spin/spin.execute.lua": `return { GET = function() while true do end end }`,
		"trap/trap.execute.lua": `return { GET = function() while true do pcall(function() while true do end end) end end }`,
		"ok/ok.execute.lua":     `return { GET = function(req, res) res:send("ok") end }`,
	}, Options{ScriptTimeout: 50 * time.Millisecond})
	for _, url := range []string{"/spin", "/trap"} {
		_, err := run(t, e, "GET", url, "")
		if !isStatus(err, 503) || !errors.Is(err, ErrScriptTimeout) {
			t.Errorf("%s err=%v, want 503 ErrScriptTimeout", url, err)
		}
		resp, err := run(t, e, "GET", "/ok", "")
		if err != nil || string(resp.Body) != "ok" {
			t.Errorf("after %s: %v %v, want ok", url, resp, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	e := load(t, map[string]string{"spin/spin.execute.lua": `return { GET = function() while true do end end }`}, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	f := e.Table().Lookup("/spin")
	_, err := e.Run(ctx, &Call{Folder: f, Method: "GET", Path: "/spin", Header: http.Header{}})
	if !isStatus(err, 503) {
		t.Errorf("err=%v, want 503", err)
	}
}

func TestStatesAreReused(t *testing.T) {
	e := load(t, map[string]string{
		"endpoint.load.lua": trace("l"),
		"a/a.execute.lua":   `return { GET = function(req, res) res:json({ n = 1 }) end }`,
	}, Options{})
	for range 10 {
		if _, err := run(t, e, "GET", "/a", ""); err != nil {
			t.Fatal(err)
		}
	}
	before := e.StatesCreated()
	for range 1000 {
		if _, err := run(t, e, "GET", "/a", ""); err != nil {
			t.Fatal(err)
		}
	}
	if after := e.StatesCreated(); after != before {
		t.Errorf("StatesCreated()=%d after 1000 requests, want %d (no new states in steady state)", after, before)
	}
}

func TestRequestFields(t *testing.T) {
	e := load(t, map[string]string{
		"[id]/[id].execute.lua": `return { POST = function(req, res)
			res:json({ method = req.method, path = req.path, id = req.params.id, q = req.query.q,
				h = req.headers["x-test"], body = req.body, raw = req.raw, rid = req.id, cfg = req.config.size })
		end }`,
	}, Options{EndpointConfig: func(url string) map[string]any { return map[string]any{"size": 5.0} }})
	f := e.Table().Lookup("/[id]")
	c := &Call{Folder: f, Method: "POST", Path: "/42", Params: map[string]string{"id": "42"},
		RawQuery: "q=first&q=second", Header: http.Header{"X-Test": {"yes"}, "Content-Type": {"application/json"}},
		Body: []byte(`{"a":[1,{"b":null}]}`), ID: "rid-1"}
	resp, err := e.Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"body":{"a":[1,{}]},"cfg":5,"h":"yes","id":"42","method":"POST","path":"/42","q":"first","raw":"{\"a\":[1,{\"b\":null}]}","rid":"rid-1"}`
	if string(resp.Body) != want {
		t.Errorf("body=%s\nwant %s", resp.Body, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"syntax", map[string]string{"a/a.execute.lua": "return {\n GET = function(req, res)\n res:json( \n end }"},
			[]string{"endpoints/a/a.execute.lua:4"}},
		{"runtime at load", map[string]string{"a/a.execute.lua": "local x = nil\nx.y = 1\nreturn {}"},
			[]string{"endpoints/a/a.execute.lua:2"}},
		{"not a table", map[string]string{"a/a.execute.lua": "local n = 42\nreturn n"},
			[]string{"endpoints/a/a.execute.lua:2: must return a table of handlers, returned number"}},
		{"typo key", map[string]string{"a/a.execute.lua": "return {\n  GET = function() end,\n  GTE = function() end,\n}"},
			[]string{`endpoints/a/a.execute.lua:3: unknown key "GTE"`}},
		{"module table", map[string]string{"a/a.execute.lua": "local M = {}\nfunction M.GET() end\nM.POST = 5\nfunction M:GTE() end\nreturn M"},
			[]string{`endpoints/a/a.execute.lua:3: handler "POST" is a number, want a function`, `endpoints/a/a.execute.lua:4: unknown key "GTE"`}},
		{"bad route", map[string]string{"a/a.execute.lua": "return {\n GET = function() end,\n routes = function() return { [\"GET /x\"] = function() end } end }"},
			[]string{`endpoints/a/a.execute.lua:3: routes() key "GET /x": pattern must be / or /*`}},
		{"routes raises", map[string]string{"a/a.execute.lua": "return { routes = function()\n error('no routes today')\nend }"},
			[]string{`endpoints/a/a.execute.lua:2: routes(): no routes today`}},
		{"duplicate", map[string]string{"a/a.execute.lua": `return { GET = function() end, routes = function() return { ["GET /"] = function() end } end }`},
			[]string{`declared twice`}},
		{"all reported", map[string]string{"a/a.execute.lua": "return (", "b/b.execute.lua": "return 1"},
			[]string{"endpoints/a/a.execute.lua:1", "endpoints/b/b.execute.lua"}},
		// A group folder is never a URL's target: its handlers of "/" would never run.
		{"group method key", map[string]string{"(g)/(g).execute.lua": `return { GET = function() end }`, "(g)/a/a.execute.lua": `return { GET = function() end }`},
			[]string{"endpoints/(g)/(g).execute.lua:1: handler \"GET\" would never run: a group folder is never the target of a URL"}},
		{"group route of /", map[string]string{"(g)/(g).load.lua": `return { routes = function() return { ["/"] = function() end, ["/*"] = function() end } end }`},
			[]string{`handler "/" would never run`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryLoad(tc.files, Options{})
			if err == nil {
				t.Fatal("Load()=nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load()=%q, want it to contain %q", err, w)
				}
			}
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Errorf("Load()=%T, want a *ScriptError inside", err)
			}
		})
	}
}

// TestGroupWildcard: a group folder's "/*" handlers run for its
// descendants, in every phase.
func TestGroupWildcard(t *testing.T) {
	e := load(t, map[string]string{
		"(g)/(g).load.lua":    `return { routes = function() return { ["/*"] = function(req) req.state.g = "load" end } end }`,
		"(g)/(g).execute.lua": `return { routes = function() return { ["GET /*"] = function(req) req.state.e = "execute" end } end }`,
		"(g)/a/a.execute.lua": `return { GET = function(req, res) res:json({ g = req.state.g, e = req.state.e }) end }`,
	}, Options{})
	resp, err := run(t, e, "GET", "/a", "")
	if err != nil || string(resp.Body) != `{"e":"execute","g":"load"}` {
		t.Errorf("GET /a=%s, %v, want both of the group's handlers run", respBody(resp), err)
	}
}

func TestBindingCount(t *testing.T) {
	e := load(t, map[string]string{"a/a.execute.lua": `return { GET = function() end }`}, Options{})
	v := e.get()
	defer e.put(v)
	n := len(v.functions())
	for _, funcs := range v.modules() {
		n += len(funcs)
	}
	if want := 26; n != want {
		t.Errorf("bindings=%d, want %d: update this test and docs/lua.md together", n, want)
	}
}

func TestJSONNumbers(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1795225634.058, "1795225634.058"},
		{2.5, "2.5"},
		{-3, "-3"},
		{1e300, "1e+300"},
		{0.0000001, "1e-7"}, // as JavaScript writes it
	}
	for _, tc := range tests {
		if got, err := appendNumber(nil, tc.in); err != nil || string(got) != tc.want {
			t.Errorf("appendNumber(%v)=%s %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

// TestNumbersFromStrings: tonumber and arithmetic read a string as a Lua 5.1
// numeral, except "inf" and "nan", which JSON cannot hold.
func TestNumbersFromStrings(t *testing.T) {
	runCases(t, []luaCase{
		{name: "integer", expr: `tonumber("  12  ")`, want: `{"v":12}`},
		{name: "exponent", expr: `{tonumber("1e5"), tonumber("1E2"), tonumber("-1.5e-1")}`, want: `{"v":[100000,100,-0.15]}`},
		{name: "fractions", expr: `{tonumber(".5"), tonumber("5.")}`, want: `{"v":[0.5,5]}`},
		{name: "hexadecimal", expr: `{tonumber("  0x10  "), tonumber("-0xff")}`, want: `{"v":[16,-255]}`},
		{name: "past int64", expr: `tonumber("9223372036854775808") == 2^63`, want: `{"v":true}`},
		{name: "past float64", expr: `tonumber("1e400") == 1/0`, want: `{"v":true}`},
		{name: "base 10 given", expr: `tonumber("1e5", 10)`, want: `{"v":100000}`},
		{name: "other bases", expr: `{tonumber("ff", 16), tonumber("  1010  ", 2), tostring(tonumber("12", 2))}`, want: `{"v":[255,10,"nil"]}`},
		{name: "not numerals", expr: `{tostring(tonumber("12a")), tostring(tonumber("")), tostring(tonumber("0x1p4")), tostring(tonumber("1_000"))}`,
			want: `{"v":["nil","nil","nil","nil"]}`},
		{name: "inf and nan", expr: `{tostring(tonumber("inf")), tostring(tonumber("nan")), tostring(tonumber("-Infinity"))}`, want: `{"v":["nil","nil","nil"]}`},
		{name: "arithmetic", expr: `{"10" + 1, "1e2" * 1, "010" + 0, " 0x10 " + 0}`, want: `{"v":[11,100,10,16]}`},
		{name: "arithmetic past int64", expr: `"9223372036854775808" + 0 == 2^63`, want: `{"v":true}`},
		{name: "docs/lua.md", expr: `{ exp = tonumber("1e5"), hex = tonumber(" 0x10 "), sum = "10" + 1, word = tonumber("12a"), inf = tonumber("inf") }`,
			want: `{"v":{"exp":100000,"hex":16,"sum":11}}`},
		{name: "arithmetic on inf", expr: `"inf" + 0`, err: "attempt to perform arithmetic on a string value"},
	})
}

func TestJSONNullKeepsPositions(t *testing.T) {
	e := load(t, map[string]string{
		"a/a.execute.lua": `return { POST = function(req, res) res:json({ third = req.body[3], n = #req.body }) end }`,
	}, Options{})
	resp, err := run(t, e, "POST", "/a", `[1,null,2]`)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, resp); got["third"] != 2.0 {
		t.Errorf("req.body[3]=%v, want 2 (a null keeps its position)", got["third"])
	}
}

func TestJSONEncodingIsBounded(t *testing.T) {
	e := load(t, map[string]string{
		"big/big.execute.lua": `return { GET = function(req, res)
			local s = string.rep("x", 1024 * 1024)
			local t = {}
			for i = 1, 64 do t[i] = s end
			res:json(t)
		end }`,
	}, Options{ScriptTimeout: time.Minute}) // 64 MiB of encoding under the race detector is slow
	_, err := run(t, e, "GET", "/big", "")
	if !isStatus(err, 500) || !strings.Contains(err.Error(), "json encoding longer than") {
		t.Errorf("err=%v, want a 500 naming the json size limit", err)
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "Application/JSON; charset=utf-8": true, " application/json ;x=y": true,
		"application/problem+json": true, "application/vnd.api+JSON": true,
		"": false, "text/plain": false, "application/jsonx": false, "json": false, "+json": false,
		"application/ json": false, "text/json+xml": false, "a/b/c+json": false, "application/": false,
	} {
		if got := IsJSON(http.Header{"Content-Type": {ct}}); got != want {
			t.Errorf("IsJSON(%q)=%v, want %v", ct, got, want)
		}
	}
}

// TestReqKeptPastItsRequest: a req table a script keeps reads nil in later
// requests instead of their fields, and its shared metatable is protected.
func TestReqKeptPastItsRequest(t *testing.T) {
	e := load(t, map[string]string{
		"a/a.execute.lua": `local kept
		return { GET = function(req, res)
			local old = kept
			kept = req
			local changed = pcall(setmetatable, req, {})
			local was = "none"
			if old ~= nil then was = tostring(old.path) end
			res:json({ old = was, now = req.path, mt = getmetatable(req), changed = changed })
		end }`,
	}, Options{})
	stale := 0
	for i := range 5 { // the pool may hand out another state first
		resp, err := run(t, e, "GET", "/a", "")
		if err != nil {
			t.Fatal(err)
		}
		got := decode(t, resp)
		if got["old"] == "nil" {
			stale++
		} else if got["old"] != "none" {
			t.Errorf("request %d: a kept req read path %v, want nil", i+1, got["old"])
		}
		if got["now"] != "/a" || got["mt"] != "req" || got["changed"] != false {
			t.Errorf("request %d: %v, want now=/a, mt=req, changed=false", i+1, got)
		}
	}
	if stale == 0 {
		t.Error("no request saw a kept req table")
	}
}

// TestReqFieldsPerRequest: on one state, each request builds its own req
// fields: nothing a request read or wrote through them reaches the next,
// and a handler's own field hides a built one.
func TestReqFieldsPerRequest(t *testing.T) {
	e := load(t, map[string]string{
		"a/a.execute.lua": `return { POST = function(req, res)
			local before = req.state.seen
			req.state.seen = req.body.n
			local path = req.path
			req.path = "mine"
			res:json({ before = before or "none", seen = req.state.seen, path = path, own = req.path,
				method = req.method })
		end }`,
	}, Options{PoolSize: 1})
	for i := range 3 { // one state serves them all
		resp, err := run(t, e, "POST", "/a", fmt.Sprintf(`{"n":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		got := decode(t, resp)
		if got["before"] != "none" || got["seen"] != float64(i) || got["path"] != "/a" || got["own"] != "mine" ||
			got["method"] != "POST" {
			t.Errorf("request %d: %v, want before=none seen=%d path=/a own=mine method=POST", i+1, got, i)
		}
	}
}

// TestNoSharedStateBetweenEndpoints: on one state, what one endpoint's
// script writes through _G, into the metatable of JSON arrays or into that
// of the bindings' error values does not reach another endpoint's.
func TestNoSharedStateBetweenEndpoints(t *testing.T) {
	e := load(t, map[string]string{
		"set/set.execute.lua": handlerOf(`
			_G.leaked = "from set"
			rawset(_G, "tostring", function() return "HIJACKED" end)
			local gmt = getmetatable(_G)
			local amt = getmetatable(json.array())
			amt.__index = function() return "INJECTED" end
			amt.__newindex = function() error("no appends") end
			setmetatable(amt, { __index = function() return "DEEPER" end })
			local _, err = pcall(nats.publish, "x", "y")
			local emt = getmetatable(err)
			local changed = pcall(setmetatable, err, {})
			res:json({ own = tostring(1), gmt = gmt, emt = emt, changed = changed })`),
		"get/get.execute.lua": handlerOf(`
			local b = json.decode("[1,2]")
			local appended = pcall(function() b[3] = 3 end)
			local _, err = pcall(nats.publish, "x", "y")
			res:json({ leaked = leaked or "none", ts = tostring(1), b99 = b[99] or "none", appended = appended,
				arr = json.encode(json.decode("[]")), err = string.match(tostring(err), "bus is off") or tostring(err) })`),
	}, Options{PoolSize: 1})
	resp, err := run(t, e, "GET", "/set", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, resp); got["own"] != "HIJACKED" || got["gmt"] != "globals" || got["emt"] != "error" || got["changed"] != false {
		t.Errorf("/set=%v, want its own tostring changed, and the globals' and errors' metatables protected", got)
	}
	resp, err = run(t, e, "GET", "/get", "") // the same state: the pool holds one
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"leaked": "none", "ts": "1", "b99": "none", "appended": true, "arr": "[]", "err": "bus is off"}
	if got := decode(t, resp); !reflect.DeepEqual(got, want) {
		t.Errorf("/get after /set=%v, want %v", got, want)
	}
}

// TestArrayMetatableWrittenAtLoad: what a processor's top level writes
// into the metatable of JSON arrays when it runs at load, outside any
// request, does not reach the first request of the state that ran it.
func TestArrayMetatableWrittenAtLoad(t *testing.T) {
	e := load(t, map[string]string{
		"set/set.execute.lua": `getmetatable(json.array()).__index = function() return "INJECTED" end
			return { GET = function(req, res) res:json({}) end }`,
		"get/get.execute.lua": handlerOf(`res:json({ x = json.decode("[1]").x or "none" })`),
	}, Options{PoolSize: 1})
	for i := range 2 { // the state that ran the top levels at load serves both
		resp, err := run(t, e, "GET", "/get", "")
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(t, resp); got["x"] != "none" {
			t.Errorf("request %d: x=%v, want none", i+1, got["x"])
		}
	}
}

// TestStashObjectKeptFromRequestToRequest: the stash object, which a state
// now hands to all its requests, cannot be changed by one request for the
// next (as req's shared metatable cannot).
func TestStashObjectKeptFromRequestToRequest(t *testing.T) {
	e := load(t, map[string]string{
		"a/a.execute.lua": handlerOf(`local ok = pcall(function() return req.stash.count end)
			pcall(setmetatable, req.stash, {})
			res:json({ methods = ok })`),
	}, Options{PoolSize: 1, Stash: &stash.Set{}, CollectionOf: func(*router.Folder) string { return "/a" }})
	for i := range 3 { // one state serves them all
		resp, err := run(t, e, "GET", "/a", "")
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(t, resp); got["methods"] != true {
			t.Errorf("request %d: req.stash has no methods after an earlier request's setmetatable", i+1)
		}
	}
}

// TestGmatchGsubDoc runs the gmatch and gsub example of docs/lua.md on a
// large body.
func TestGmatchGsubDoc(t *testing.T) {
	src := "return { POST = function(req, res)\n" + docBlock(t, "lua.md", "local first") +
		"\nres:json({ first = first, s = s, n = n }) end }"
	e := load(t, map[string]string{"w/w.execute.lua": src}, Options{})
	c := &Call{Folder: e.Table().Lookup("/w"), Method: "POST", Path: "/w", Header: http.Header{"Content-Type": {"text/plain"}},
		Body: []byte("hello " + strings.Repeat("word ", 200000))}
	resp, err := e.Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(resp.Body); got != `{"first":"hello","n":1,"s":"a+b-c"}` {
		t.Errorf("reply %s", got)
	}
}

// TestErrorLevelDoc runs the error(msg, 2) example of docs/lua.md: the
// message names the line that called the helper, not the helper's own.
func TestErrorLevelDoc(t *testing.T) {
	block := docBlock(t, "lua.md", `local function need(v, what) if v == nil then error(what .. " is required", 2) end return v end`)
	src := "return { GET = function(req, res)\n" + block + "\nres:json({ err = err, ok = ok }) end }"
	e := load(t, map[string]string{"w/w.execute.lua": src}, Options{})
	resp, err := run(t, e, "GET", "/w", "")
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, resp)
	if got["ok"] != false || !strings.HasSuffix(fmt.Sprint(got["err"]), "w.execute.lua:3: title is required") {
		t.Errorf("reply %v, want the error at line 3, where need is called", got)
	}
}

// TestStringMetatableStays: a script cannot replace the metatable that all
// strings of its state share, so what ("x"):upper() means does not change
// for the next request the state serves, at another endpoint.
func TestStringMetatableStays(t *testing.T) {
	e := load(t, map[string]string{
		"a/a.execute.lua": `return { GET = function(req, res)
			local ok = pcall(setmetatable, "", { __index = { upper = function() return "hijacked" end } })
			res:json({ ok = ok }) end }`,
		"b/b.execute.lua": `return { GET = function(req, res) res:json({ v = ("x"):upper() }) end }`,
	}, Options{PoolSize: 1})
	for _, tc := range []struct{ url, want string }{{"/a", `{"ok":false}`}, {"/b", `{"v":"X"}`}} {
		resp, err := run(t, e, "GET", tc.url, "")
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != tc.want {
			t.Errorf("GET %s=%s, want %s", tc.url, resp.Body, tc.want)
		}
	}
}

// TestFailedHandlerClosureKeepsItsValues: a closure that a failed handler
// left in its module keeps the values it closed over; it does not read the
// locals of a later request on the same Lua state.
func TestFailedHandlerClosureKeepsItsValues(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": `
		local saved
		return {
			POST = function(req, res)
				local secret = req.query.s
				saved = function() return secret end
				error("failed")
			end,
			GET = function(req, res)
				local a, b, c, d = "other", "other", "other", "other"
				res:json({ v = saved and saved() or "none" })
			end,
		}`}, Options{PoolSize: 1})
	f := e.Table().Lookup("/t")
	post := &Call{Folder: f, Method: "POST", Path: "/t", RawQuery: "s=first", Header: http.Header{}, ID: "t1"}
	if _, err := e.Run(t.Context(), post); !isStatus(err, 500) {
		t.Fatalf("POST=%v, want a 500", err)
	}
	resp, err := run(t, e, "GET", "/t", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, resp)["v"]; got != "first" && got != "none" {
		t.Errorf("the failed handler's closure reads %v, want first (or none, had its state been dropped)", got)
	}
}

// TestProcessorItCannotRead: a processor or install file that the walk
// found and Load cannot read is named once, as endpoints/<file>: it was
// "read a/a.execute.lua: open a/a.execute.lua: …", relative to endpoints/
// and twice.
func TestProcessorItCannotRead(t *testing.T) {
	fsys := fstest.MapFS{
		"a/a.execute.lua": {Data: []byte(handlerOf(`res:send("a")`))},
		"a/a.install.lua": {Data: []byte(`return function() end`)},
	}
	table, err := router.Walk(fsys, testPhases)
	if err != nil {
		t.Fatal(err)
	}
	delete(fsys, "a/a.execute.lua") // gone, or unreadable, after the walk
	delete(fsys, "a/a.install.lua")
	_, err = Load(table, Options{Phases: testPhases, Endpoints: fsys})
	for _, want := range []string{"read endpoints/a/a.execute.lua: file does not exist", "read endpoints/a/a.install.lua: file does not exist"} {
		if err == nil || !strings.Contains(err.Error()+"\n", want+"\n") {
			t.Errorf("Load()=%v, want an error line %q", err, want)
		}
	}
}
