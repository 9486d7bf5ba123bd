package phases

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestResHeader: a string replaces, an array sets several values, nil and
// an empty array remove the header.
func TestResHeader(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(`
		res:header("X-One", "a"):header("X-One", "b")
		res:header("Set-Cookie", { "a=1; Path=/", "b=2; Path=/" })
		res:header("X-Gone", "x"):header("X-Gone", nil)
		res:header("X-Empty", "x"):header("X-Empty", {})
		res:header("X-Num", 42):header("X-Nums", { 1, "two" })
		res:send("ok")`)}, Options{})
	resp, err := run(t, e, "GET", "/t", "")
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header
	if got := h.Values("X-One"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("X-One=%q, want [b]", got)
	}
	if got := h.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1; Path=/", "b=2; Path=/"}) {
		t.Errorf("Set-Cookie=%q, want both cookies", got)
	}
	for _, k := range []string{"X-Gone", "X-Empty"} {
		if _, ok := h[k]; ok {
			t.Errorf("%s=%q, want it removed", k, h.Values(k))
		}
	}
	if h.Get("X-Num") != "42" || !slices.Equal(h.Values("X-Nums"), []string{"1", "two"}) {
		t.Errorf("X-Num=%q X-Nums=%q, want 42 and [1 two]", h.Get("X-Num"), h.Values("X-Nums"))
	}
}

func TestResHeaderStatusErrors(t *testing.T) {
	tests := []struct{ call, want string }{
		{`res:header("X A:", "v")`, "invalid header name"},
		{`res:header("", "v")`, "invalid header name"},
		{`res:header("X-T", { "a", true })`, "value 2 is a boolean"},
		{`res:status(103)`, "status must be 200..599"},
		{`res:status(600)`, "status must be 200..599"},
		{`res:status(200.5)`, "status must be 200..599"},
		{`res:status(0/0)`, "status must be 200..599"},
		{`res:status(2^40 + 200)`, "status must be 200..599"},
		{`res:error(404.5)`, "error status must be 400..599"},
		{`res:redirect("/x", 301.5)`, "redirect status must be 301, 302, 303, 307 or 308"},
		{`res:header("X-A", "a\0b")`, "invalid value for header X-A: control character 0x00 at byte 1"},
		{`res:header("X-A", "a\r\nX-Injected: 1")`, "invalid value for header X-A: control character 0x0d at byte 1"},
		{`res:header("X-A", "a\nb")`, "invalid value for header X-A: control character 0x0a"},
		{`res:header("X-A", "\127")`, "invalid value for header X-A: control character 0x7f"},
		{`res:header("Set-Cookie", { "a=1", "b=2\r\n" })`, "value 2: invalid value for header Set-Cookie"},
		{`res:header("X-A", { k = "v" })`, "the values of header X-A must be a string or an array of strings"},
		{`res:header("X-A", { "a", k = "v" })`, "the values of header X-A must be a string or an array of strings"},
		{`res:send("x", "text/html\r\nX-Evil: 1")`, "invalid value for header Content-Type: control character 0x0d at byte 9"},
		{`res:redirect("")`, "the redirect target is empty"},
		{`res:redirect("/x", 304)`, "redirect status must be 301, 302, 303, 307 or 308"},
		{`res:redirect("/x", 399)`, "redirect status must be 301, 302, 303, 307 or 308"},
		{`res:redirect("/x", 200)`, "redirect status must be 301, 302, 303, 307 or 308"},
		{`res:redirect("\0")`, "invalid value for header Location: control character 0x00 at byte 0"},
		{`res:redirect("/a\r\nSet-Cookie: x=1")`, "invalid value for header Location: control character 0x0d at byte 2"},
	}
	for _, tc := range tests {
		e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
		_, err := run(t, e, "GET", "/t", "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err=%v, want one containing %q", tc.call, err, tc.want)
		}
	}
}

// TestResHeaderValid: a tab and bytes outside ASCII are valid in a header
// value and sent as they are.
func TestResHeaderValid(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(`
		res:header("X-Tab", "a\tb"):header("X-Utf8", "café")
		res:send("ok", "text/plain; charset=\"utf-8\"")`)}, Options{})
	resp, err := run(t, e, "GET", "/t", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-Tab"); got != "a\tb" {
		t.Errorf("X-Tab=%q, want a tab kept", got)
	}
	if got := resp.Header.Get("X-Utf8"); got != "café" {
		t.Errorf("X-Utf8=%q, want café", got)
	}
	if resp.ContentType != `text/plain; charset="utf-8"` {
		t.Errorf("ContentType=%q", resp.ContentType)
	}
}

// TestResRedirect: the statuses a redirect may use, and a target whose bytes
// outside ASCII are percent-encoded.
func TestResRedirect(t *testing.T) {
	tests := []struct {
		call     string
		status   int
		location string
	}{
		{`res:redirect("/x")`, 302, "/x"},
		{`res:redirect("/x", 301)`, 301, "/x"},
		{`res:redirect("/x", 303)`, 303, "/x"},
		{`res:redirect("/x", 307)`, 307, "/x"},
		{`res:redirect("/x", 308)`, 308, "/x"},
		{`res:redirect("/hello/" .. req.query.name)`, 302, "/hello/caf%C3%A9%FF"},
		{`res:redirect("https://example.com/a b?q=1#f")`, 302, "https://example.com/a b?q=1#f"},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
			f := e.Table().Lookup("/t")
			c := &Call{Folder: f, Method: "GET", Path: "/t", RawQuery: "name=caf%C3%A9%FF", Header: http.Header{}, ID: "t1"}
			resp, err := e.Run(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.status || resp.Header.Get("Location") != tc.location {
				t.Errorf("got %d Location %q, want %d %q", resp.Status, resp.Header.Get("Location"), tc.status, tc.location)
			}
		})
	}
}

// TestOptionalStringNumber: an optional string argument takes a number as
// its text, as Lua's luaL_optstring does: res:error's detail, res:send's
// content type and auth.verify's stored hash.
func TestOptionalStringNumber(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(`res:error(400, 42)`)}, Options{})
	_, err := run(t, e, "GET", "/t", "")
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 400 || pe.Detail != "42" {
		t.Errorf("res:error(400, 42): err=%#v, want a 400 with detail 42", err)
	}
	e = load(t, map[string]string{"t/t.execute.lua": handlerOf(`res:send("ok", 42)`)}, Options{})
	resp, err := run(t, e, "GET", "/t", "")
	if err != nil || resp.ContentType != "42" || string(resp.Body) != "ok" {
		t.Errorf("res:send(\"ok\", 42): resp=%+v err=%v, want ok with content type 42", resp, err)
	}
	got := eval(t, Options{}, `res:json({ ok = auth.verify(42, "42") })`)
	if got["ok"] != false {
		t.Errorf("auth.verify(42, \"42\")=%v, want false", got["ok"])
	}
}
