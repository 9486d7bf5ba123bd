package main

import (
	"io"
	"net/http"
	"testing"
)

// responseCases are the handlers of /r/<case>: what reaches the client
// when scripts answer statuses, headers, redirects and errors.
const responseCases = `local cases = {
  e499 = function(req, res) error({ status = 499 }) end,
  e599 = function(req, res) error({ status = 599 }) end,
  e200 = function(req, res) error({ status = 200 }) end,
  eabc = function(req, res) error({ status = "abc" }) end,
  e1000 = function(req, res) error({ status = 1000 }) end,
  enan = function(req, res) error({ status = 0/0 }) end,
  hnul = function(req, res) res:header("X-A", "a\0b"):send("x") end,
  hcrlf = function(req, res) res:header("X-A", "a\r\nX-Injected: 1"):send("x") end,
  htable = function(req, res) res:header("X-A", { k = "v" }):send("x") end,
  sendct = function(req, res) res:send("x", "text/html\r\nX-Evil: 1") end,
  redir = function(req, res) res:redirect(req.query.u) end,
  r304 = function(req, res) res:redirect("/x", 304) end,
  r399 = function(req, res) res:redirect("/x", 399) end,
  r308 = function(req, res) res:redirect("/x", 308) end,
  rempty = function(req, res) res:redirect("") end,
  iso = function(req, res) res:send(time.iso(({ zero = 0, big = 1e300, neg = -1e18 })[req.query.s])) end,
}
return { GET = function(req, res) return cases[req.params.case](req, res) end }
`

// noRedirects is a client that hands back redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func getNoFollow(t *testing.T, url string) reply {
	t.Helper()
	resp, err := noRedirects.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

// goExample is the redirect example of docs/lua.md.
const goExample = `return {
  GET = function(req, res)
    local to = req.query.to or "/"
    if string.sub(to, 1, 1) ~= "/" or string.sub(to, 2, 2) == "/" then
      return res:error(400, "to must be a path on this site")  -- not //evil.example
    end
    res:redirect(to, 303)
  end,
}
`

func TestResponseEndToEnd(t *testing.T) {
	p := startServe(t, writeService(t, map[string]string{
		"endpoints/r/[case]/[case].execute.lua": responseCases,
		"endpoints/go/go.execute.lua":           goExample,
	}))
	tests := []struct {
		path   string
		status int
		check  func(t *testing.T, r reply)
		log    string // a line the log must have
	}{
		{"/r/e499", 499, problemTitle("Client Error", "Client Error"), ""},
		{"/r/e599", 599, problemTitle("Server Error", "Server Error"), `error({status=599}) without a detail`},
		{"/r/e200", 500, isProblem(500), `error({status=200}): status must be an integer from 400 to 599`},
		{"/r/eabc", 500, isProblem(500), `error({status=\"abc\"}): status must be`},
		{"/r/e1000", 500, isProblem(500), `error({status=1000}): status must be`},
		{"/r/enan", 500, isProblem(500), `nan}): status must be`},
		{"/r/hnul", 500, isProblem(500), `invalid value for header X-A: control character 0x00 at byte 1`},
		{"/r/hcrlf", 500, noHeader("X-Injected", "X-A"), `invalid value for header X-A: control character 0x0d at byte 1`},
		{"/r/htable", 500, isProblem(500), `the values of header X-A must be a string or an array of strings`},
		{"/r/sendct", 500, noHeader("X-Evil"), `invalid value for header Content-Type: control character 0x0d at byte 9`},
		{"/r/redir?u=%00", 500, noHeader("Location"), `invalid value for header Location: control character 0x00 at byte 0`},
		{"/r/redir?u=%0d%0aSet-Cookie:%20a=1", 500, noHeader("Location", "Set-Cookie"), `invalid value for header Location`},
		{"/r/redir?u=%ff", 302, location("%FF"), ""},
		{"/r/redir?u=/caf%C3%A9", 302, location("/caf%C3%A9"), ""},
		{"/r/redir?u=", 500, isProblem(500), `the redirect target is empty`},
		{"/r/r304", 500, isProblem(500), `redirect status must be 301, 302, 303, 307 or 308`},
		{"/r/r399", 500, isProblem(500), `redirect status must be 301, 302, 303, 307 or 308`},
		{"/r/r308", 308, location("/x"), ""},
		{"/r/rempty", 500, isProblem(500), `the redirect target is empty`},
		{"/r/iso?s=zero", 200, body("1970-01-01T00:00:00Z"), ""},
		{"/r/iso?s=big", 500, isProblem(500), `seconds must be from -62167219200 to 253402300799 (years 0000 to 9999), not 1e+300`},
		{"/r/iso?s=neg", 500, isProblem(500), `seconds must be from -62167219200 to 253402300799 (years 0000 to 9999), not -1000000000000000000`},
		{"/go?to=/caf%C3%A9", 303, location("/caf%C3%A9"), ""},
		{"/go?to=//evil.example", 400, isProblem(400), ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := getNoFollow(t, p.base+tc.path)
			if r.status != tc.status {
				t.Fatalf("GET %s status=%d, want %d; header %v body %s", tc.path, r.status, tc.status, r.header, r.body)
			}
			tc.check(t, r)
			if tc.log != "" {
				p.waitLog(t, tc.log)
			}
		})
	}
}

// TestJSONBodyUTF8EndToEnd: a JSON body that is not UTF-8 is malformed (a
// 400 before any script runs); an escaped lone surrogate reads as U+FFFD.
func TestJSONBodyUTF8EndToEnd(t *testing.T) {
	p := startServe(t, writeService(t, map[string]string{
		"endpoints/body/body.execute.lua": `return { POST = function(req, res) res:json({ title = req.body.title }) end }`,
	}))
	tests := []struct {
		name, body string
		status     int
		check      func(t *testing.T, r reply)
	}{
		{"utf-8", `{"title":"café"}`, 200, jsonField("title", "café")},
		{"lone surrogate", `{"title":"\ud800"}`, 200, jsonField("title", "\ufffd")},
		{"invalid bytes", "{\"title\":\"\xff\xfe\"}", 400, problemDetail("body is not valid json: invalid UTF-8 at offset 10")},
		{"encoded surrogate", "{\"title\":\"\xed\xa0\x80\"}", 400, problemDetail("body is not valid json: invalid UTF-8 at offset 10")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", p.base+"/body", "application/json", tc.body)
			if r.status != tc.status {
				t.Fatalf("status=%d, want %d; body %s", r.status, tc.status, r.body)
			}
			tc.check(t, r)
		})
	}
}

func problemDetail(want string) func(t *testing.T, r reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		isProblem(400)(t, r)
		if got := r.json(t)["detail"]; got != want {
			t.Errorf("detail=%v, want %q", got, want)
		}
	}
}

// problemTitle checks a problem's title and detail.
func problemTitle(title, detail string) func(t *testing.T, r reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		m := r.json(t)
		if m["title"] != title || m["detail"] != detail {
			t.Errorf("title=%v detail=%v, want %q %q", m["title"], m["detail"], title, detail)
		}
	}
}

// noHeader checks a 500 problem that carries none of names.
func noHeader(names ...string) func(t *testing.T, r reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		isProblem(500)(t, r)
		for _, n := range names {
			if v, ok := r.header[http.CanonicalHeaderKey(n)]; ok {
				t.Errorf("%s=%q, want no such header", n, v)
			}
		}
	}
}

func location(want string) func(t *testing.T, r reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		wantHeader(t, r, "Location", want)
	}
}

func body(want string) func(t *testing.T, r reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		if string(r.body) != want {
			t.Errorf("body %q, want %q", r.body, want)
		}
	}
}
