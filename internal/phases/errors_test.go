package phases

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorTitles: a status without a standard text gets the title of its
// class, from error{} and res:error alike.
func TestErrorTitles(t *testing.T) {
	tests := []struct {
		call   string
		status int
		title  string
	}{
		{`error({ status = 499 })`, 499, "Client Error"},
		{`error({ status = 599, detail = "gone" })`, 599, "Server Error"},
		{`res:error(499, "closed")`, 499, "Client Error"},
		{`error({ status = 409 })`, 409, "Conflict"},
		{`error({ status = 499, title = "Client Closed Request" })`, 499, "Client Closed Request"},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
			_, err := run(t, e, "GET", "/t", "")
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != tc.status || pe.Title != tc.title {
				t.Fatalf("err=%#v, want status %d title %q", err, tc.status, tc.title)
			}
		})
	}
}

// TestErrorTableBadStatus: an error table whose status is not an integer
// from 400 to 599 is a 500 whose message (the log's "error") says why; so
// is one with nothing in it.
func TestErrorTableBadStatus(t *testing.T) {
	tests := []struct{ call, want string }{
		{`error({ status = 200 })`, `error({status=200}): status must be an integer from 400 to 599`},
		{`error({ status = "abc" })`, `error({status="abc"}): status must be`},
		{`error({ status = "404" })`, `error({status="404"}): status must be`},
		{`error({ status = 1000 })`, `error({status=1000}): status must be`},
		{`error({ status = 404.5 })`, `error({status=404.5}): status must be`},
		{`error({ status = 0/0 })`, `nan}): status must be an integer from 400 to 599`},
		{`error({ status = true })`, `error({status=<boolean>}): status must be`},
		{`error({})`, `error({}) with neither a status nor a detail`},
		{`error({ title = "Oops" })`, `error({}) with neither a status nor a detail`},
		{`error({ status = 409, type = "out of credit" })`, `error({type="out of credit"}): type must be a URI reference`},
		{`error({ status = 409, type = "http://[::1" })`, `type must be a URI reference`},
		{`error({ status = 409, type = "/probs/<b>" })`, `type must be a URI reference`},
		{`error({ status = 409, type = 'a"b' })`, `type must be a URI reference`},
		{`error({ status = 409, type = "/probs/caf\195\169" })`, `type must be a URI reference`},
		{`error({ status = 409, type = "/probs/%zz" })`, `type must be a URI reference`},
		{`error({ status = 409, type = {} })`, `error({type=<table>}): type must be a string`},
		{`error({ status = 409, detail = true })`, `error({detail=<boolean>}): detail must be a string`},
		{`error({ status = 409, title = function() end })`, `error({title=<function>}): title must be a string`},
		{`error({ status = 409, instance = "/other" })`, `error({instance=…}): instance is the server's to set`},
		{`error({ status = 409, request_id = "r" })`, `error({request_id=…}): request_id is the server's to set`},
		{`error({ status = 409, "taken" })`, `error({[1]=…}): a key must be a string`},
		{`error({ status = 409, balance = math.huge })`, `error({balance=…}): cannot encode +Inf as json`},
		{`error({ status = 403, Status = 200 })`, `error({Status=…}): a member's name must differ from status in more than case`},
		{`error({ status = 403, Request_ID = "r" })`, `must differ from request_id in more than case`},
		{`error({ status = 403, ["\255"] = 1 })`, `a member's name must be UTF-8`},
		{`error({ status = 409, type = "/probs?x=%zz" })`, `type must be a URI reference`},
		{`error({ status = 409, type = "/probs/%4" })`, `type must be a URI reference`},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
			_, err := run(t, e, "GET", "/t", "")
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 500 {
				t.Fatalf("err=%#v, want a 500", err)
			}
			if !strings.Contains(pe.Message(), tc.want) {
				t.Errorf("Message()=%q, want it to contain %q", pe.Message(), tc.want)
			}
			if pe.Source != "endpoints/t/t.execute.lua:2" {
				t.Errorf("Source=%q, want the line of the error call", pe.Source)
			}
		})
	}
}

// TestErrorTableNoDetail: a 5xx error table without a detail is logged
// (Message) as such, and its problem still shows the title as the detail.
func TestErrorTableNoDetail(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(`error({ status = 503 })`)}, Options{})
	_, err := run(t, e, "GET", "/t", "")
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 503 || pe.Internal || pe.Detail != "" {
		t.Fatalf("err=%#v, want a 503 without a detail", err)
	}
	if got, want := pe.Message(), "error({status=503}) without a detail"; got != want {
		t.Errorf("Message()=%q, want %q", got, want)
	}
}

// TestErrorTableFields: an error table's type is the problem's type, and a
// number given as title or detail is its text, as tostring writes it.
func TestErrorTableFields(t *testing.T) {
	tests := []struct {
		call               string
		typ, title, detail string
	}{
		{`error({ status = 403, type = "https://example.com/probs/out-of-credit", title = "You do not have enough credit", detail = "Your balance is 30" })`,
			"https://example.com/probs/out-of-credit", "You do not have enough credit", "Your balance is 30"},
		{`error({ status = 409, type = "/probs/taken" })`, "/probs/taken", "Conflict", ""},
		{`error({ status = 409, type = "tag:example.com,2026:probs/taken-%C3%A9#x" })`, "tag:example.com,2026:probs/taken-%C3%A9#x", "Conflict", ""},
		{`error({ status = 422, detail = 42 })`, "", "Unprocessable Entity", "42"},
		{`error({ status = 422, title = 1.5, detail = 2^53 })`, "", "1.5", "9.007199254741e+15"},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
			_, err := run(t, e, "GET", "/t", "")
			var pe *Error
			if !errors.As(err, &pe) || pe.Type != tc.typ || pe.Title != tc.title || pe.Detail != tc.detail {
				t.Fatalf("err=%#v, want type %q title %q detail %q", err, tc.typ, tc.title, tc.detail)
			}
		})
	}
}

// TestErrorTableExtensions: the other keys of an error table are members of
// the problem, their values as JSON.
func TestErrorTableExtensions(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(
		`error({ status = 403, balance = 30, accounts = { "/account/1", "/account/2" }, code = "E42", limits = { daily = 50 },
			errors = { { pointer = "/email", message = "taken" } } })`)}, Options{})
	_, err := run(t, e, "GET", "/t", "")
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 403 {
		t.Fatalf("err=%#v, want a 403", err)
	}
	want := map[string]string{"balance": `30`, "accounts": `["/account/1","/account/2"]`, "code": `"E42"`, "limits": `{"daily":50}`,
		"errors": `[{"message":"taken","pointer":"/email"}]`}
	if len(pe.Extensions) != len(want) {
		t.Errorf("Extensions=%s, want %v", pe.Extensions, want)
	}
	for k, v := range want {
		if string(pe.Extensions[k]) != v {
			t.Errorf("Extensions[%q]=%s, want %s", k, pe.Extensions[k], v)
		}
	}
}
