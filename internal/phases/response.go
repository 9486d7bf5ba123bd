package phases

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
	"golang.org/x/net/http/httpguts"
)

// resMeta builds the metatable of the res object: its methods.
func (v *vm) resMeta() *lua.LTable {
	return methodsMeta(v.L, map[string]lua.LGFunction{
		"status":   v.resStatus,
		"header":   v.resHeader,
		"json":     v.resJSON,
		"send":     v.resSend,
		"error":    v.resError,
		"redirect": v.resRedirect,
	})
}

// methodsMeta builds a metatable whose __index holds methods, for objects
// called with a colon (res:json, stash:get).
func methodsMeta(L *lua.LState, methods map[string]lua.LGFunction) *lua.LTable {
	index := L.CreateTable(0, len(methods))
	for name, fn := range methods {
		index.RawSetString(name, L.NewFunction(fn))
	}
	mt := L.CreateTable(0, 2)
	mt.RawSetString("__index", index)
	// The objects live as long as their state and serve all its requests:
	// scripts must not change their methods.
	mt.RawSetString("__metatable", lua.LString("protected"))
	return mt
}

// open returns the running call's state, raising when there is none or the
// response is already finished.
func (v *vm) open(L *lua.LState) *callState {
	if ud, ok := L.Get(1).(*lua.LUserData); !ok || ud != v.res {
		L.ArgError(1, "call res methods with a colon: res:json(v)")
	}
	if v.call == nil {
		L.RaiseError("res used outside a request")
	}
	if v.call.finished {
		L.RaiseError("%s", ErrFinished.Error())
	}
	return v.call
}

func (v *vm) resStatus(L *lua.LState) int {
	cs := v.open(L)
	n, ok := statusArg(L, 2, 0)
	if !ok || n < 200 || n > 599 {
		L.ArgError(2, "status must be 200..599")
	}
	cs.resp.Status = n
	L.Push(v.res)
	return 1
}

// statusArg reads argument n, a status code, as luaL_checkint reads it (a
// number, or a string that reads as one), or def when def is not 0 and the
// argument is absent or nil. ok is false for a value that is no whole
// number in int's range (200.5, 0/0): it is no status, where CheckInt cut
// it to one (200).
func statusArg(L *lua.LState, n, def int) (status int, ok bool) {
	if def != 0 && L.Get(n) == lua.LNil {
		return def, true
	}
	f := float64(L.CheckNumber(n))
	if f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, false
	}
	return int(f), true
}

// resHeader is res:header(name, value): a string (or number) replaces the
// header's values, an array of them sets several (Set-Cookie), nil and an
// empty array remove the header.
func (v *vm) resHeader(L *lua.LState) int {
	cs := v.open(L)
	name := L.CheckString(2)
	if !httpguts.ValidHeaderFieldName(name) {
		L.ArgError(2, fmt.Sprintf("invalid header name %q", name))
	}
	h := cs.header()
	switch val := L.Get(3).(type) {
	case *lua.LNilType:
		h.Del(name)
	case *lua.LTable:
		values := headerValues(L, name, val)
		if len(values) == 0 {
			h.Del(name)
		} else {
			h[http.CanonicalHeaderKey(name)] = values
		}
	default:
		value := L.CheckString(3)
		if err := checkHeaderValue(name, value); err != nil {
			L.ArgError(3, err.Error())
		}
		h.Set(name, value)
	}
	L.Push(v.res)
	return 1
}

// headerValues reads the array of values of res:header(name, {…}).
func headerValues(L *lua.LState, name string, t *lua.LTable) []string {
	n, keys := t.Len(), 0
	t.ForEach(func(lua.LValue, lua.LValue) { keys++ })
	if keys != n {
		L.ArgError(3, fmt.Sprintf("the values of header %s must be a string or an array of strings, not a table with other keys", name))
	}
	values := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		var s string
		switch x := t.RawGetInt(i).(type) {
		case lua.LString:
			s = string(x)
		case lua.LNumber:
			s = x.String()
		default:
			L.ArgError(3, fmt.Sprintf("header values must be strings; value %d is a %s", i, x.Type()))
		}
		if err := checkHeaderValue(name, s); err != nil {
			L.ArgError(3, fmt.Sprintf("value %d: %v", i, err))
		}
		values = append(values, s)
	}
	return values
}

// checkHeaderValue refuses a value the HTTP server would not send as is: a
// control character other than a tab (NUL, CR, LF…) would reach the wire,
// or be turned into a space, or start another header.
func checkHeaderValue(name, value string) error {
	if httpguts.ValidHeaderFieldValue(value) {
		return nil
	}
	i := 0
	for i < len(value) && (value[i] >= ' ' && value[i] != 0x7f || value[i] == '\t') {
		i++
	}
	return fmt.Errorf("invalid value for header %s: control character %#02x at byte %d", name, value[i], i)
}

func (v *vm) resJSON(L *lua.LState) int {
	cs := v.open(L)
	body, err := encodeJSON(L, make([]byte, 0, 256), L.Get(2))
	if err != nil {
		L.RaiseError("res:json: %s", err.Error())
	}
	v.finish(cs, "application/json", body)
	return 0
}

func (v *vm) resSend(L *lua.LState) int {
	cs := v.open(L)
	body := L.CheckString(2)
	contentType := L.OptString(3, "text/plain; charset=utf-8")
	if err := checkHeaderValue("Content-Type", contentType); err != nil {
		L.ArgError(3, err.Error())
	}
	v.finish(cs, contentType, []byte(body))
	return 0
}

func (v *vm) resError(L *lua.LState) int {
	cs := v.open(L)
	status, ok := statusArg(L, 2, 0)
	if !ok || status < 400 || status > 599 {
		L.ArgError(2, "error status must be 400..599")
	}
	e := newError(status, L.OptString(3, ""), nil)
	e.Source = callerWhere(L)
	if len(cs.resp.Header) > 0 {
		e.Header = cs.resp.Header // res:header before res:error: WWW-Authenticate, Retry-After…
	}
	cs.err = e
	cs.finished = true
	return 0
}

// callerWhere is "file:line" of the Lua function that called the running Go
// function, "" when there is none: the place a 5xx's log line names.
func callerWhere(L *lua.LState) string {
	where := strings.TrimSuffix(L.Where(1), ":")
	if strings.HasPrefix(where, "[G]") {
		return ""
	}
	return where
}

// resRedirect is res:redirect(url[, status]). The status is one of the
// redirects a client follows by itself; url, a Location, is sent with its
// bytes outside ASCII percent-encoded, as browsers (and net/http's
// Redirect) do, and must hold no control character.
func (v *vm) resRedirect(L *lua.LState) int {
	cs := v.open(L)
	url := L.CheckString(2)
	if url == "" {
		L.ArgError(2, "the redirect target is empty")
	}
	status, ok := statusArg(L, 3, http.StatusFound)
	if !ok {
		status = 0 // no redirect status
	}
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		L.ArgError(3, "redirect status must be 301, 302, 303, 307 or 308")
	}
	location := escapeNonASCII(url)
	if err := checkHeaderValue("Location", location); err != nil {
		L.ArgError(2, err.Error())
	}
	cs.resp.Status = status
	cs.header().Set("Location", location)
	cs.finished = true
	return 0
}

// escapeNonASCII percent-encodes the bytes of s outside ASCII.
func escapeNonASCII(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// header returns the response's headers, making them on first use: most
// replies set none but their content type.
func (cs *callState) header() http.Header {
	if cs.resp.Header == nil {
		cs.resp.Header = http.Header{}
	}
	return cs.resp.Header
}

// finish sets the body and content type and marks the response finished.
func (v *vm) finish(cs *callState, contentType string, body []byte) {
	switch {
	case cs.resp.Header.Get("Content-Type") != "":
	case contentType == "": // res:send(body, ""): an empty Content-Type, so that nothing guesses one
		cs.header()["Content-Type"] = []string{""}
	default:
		cs.resp.ContentType = contentType
	}
	if cs.resp.Status == 0 {
		cs.resp.Status = http.StatusOK
	}
	cs.resp.Body = body
	cs.finished = true
}
