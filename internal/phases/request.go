package phases

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minimi-go/minimi/internal/jsontext"
	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
)

// req is an empty table per call. Its fields are built on first read and
// kept for the rest of the call in the state's fields table, which req's
// metatable names as __index: gopher-lua tables are Go maps, so a table
// filled per request would cost more than the whole rest of a trivial
// request, and a read of a built field is then a table lookup rather than
// a call into Go. When the call ends, its req gets a metatable without
// __index (a req kept past its request reads nil) and the fields table is
// emptied for the next call.

// reqFieldNames are the fields built on first read; callState.built has
// bit i set once reqFieldNames[i] is in the fields table.
var reqFieldNames = [...]string{"method", "path", "id", "client", "params", "state", "query", "headers", "raw",
	"body", "stash", "config"}

// newReq makes the req table of the running call.
func (v *vm) newReq() *lua.LTable {
	req := v.L.CreateTable(0, 0)
	req.Metatable = v.reqMT
	v.call.reqTable = req
	return req
}

// fieldIndex is the __index of the fields table: it builds field key of the
// running call and keeps it there.
func (v *vm) fieldIndex(L *lua.LState) int {
	key := L.CheckString(2)
	i := slices.Index(reqFieldNames[:], key)
	if v.call == nil || i < 0 {
		L.Push(lua.LNil)
		return 1
	}
	val := v.buildField(key)
	if val != lua.LNil {
		v.fields.RawSetString(key, val)
		v.call.built |= 1 << i
	}
	L.Push(val)
	return 1
}

// endCall detaches the running call's req from the fields table and
// empties it. It empties the metatable of JSON arrays also when no call ran:
// the processors' top levels run at load, outside any request.
func (v *vm) endCall() {
	emptyShared(v.arrayMT)
	cs := v.call
	if cs == nil {
		return
	}
	if cs.reqTable != nil {
		cs.reqTable.Metatable = v.keptMT
	}
	for m := cs.built; m != 0; m &= m - 1 {
		v.fields.RawSetString(reqFieldNames[bits.TrailingZeros16(m)], lua.LNil)
	}
	v.call = nil
}

// emptyShared empties t, a metatable of values the scripts of a state
// share (getmetatable(json.array())), if a script wrote into it: what one
// request wrote there must not change the arrays of the next, of another
// endpoint.
func emptyShared(t *lua.LTable) {
	if t == nil {
		return
	}
	if k, _ := t.Next(lua.LNil); k == lua.LNil && t.Metatable == lua.LNil {
		return
	}
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	for _, k := range keys {
		t.RawSet(k, lua.LNil)
	}
	t.Metatable = lua.LNil
}

// buildField builds the req field key of the running call.
func (v *vm) buildField(key string) lua.LValue {
	L, c := v.L, v.call.call
	switch key {
	case "method":
		return lua.LString(c.Method)
	case "path":
		return lua.LString(c.Path)
	case "id":
		return lua.LString(c.ID)
	case "client":
		if c.Client == "" {
			return lua.LNil
		}
		return lua.LString(c.Client)
	case "params":
		params := L.CreateTable(0, len(c.Params))
		for k, val := range c.Params {
			params.RawSetString(k, lua.LString(val))
		}
		return params
	case "state":
		return L.CreateTable(0, 4)
	case "query":
		query, _ := url.ParseQuery(c.RawQuery) // a malformed pair is left out, as net/http does
		q := L.CreateTable(0, len(query))
		for k, vals := range query {
			if len(vals) > 0 {
				q.RawSetString(k, lua.LString(vals[0]))
			}
		}
		return q
	case "headers":
		h := L.CreateTable(0, len(c.Header)+1)
		for k, vals := range c.Header {
			h.RawSetString(strings.ToLower(k), lua.LString(strings.Join(vals, ", ")))
		}
		if c.Host != "" {
			h.RawSetString("host", lua.LString(c.Host))
		}
		return h
	case "raw":
		return lua.LString(c.Body)
	case "body":
		if len(c.Body) == 0 || !IsJSON(c.Header) {
			return lua.LNil
		}
		body, err := decodeJSON(L, c.Body)
		if err != nil {
			v.raise(newError(http.StatusBadRequest, errNotJSON.Error()+": "+err.Error(), ErrBadBody))
		}
		return body
	case "stash":
		return v.stashObject(v.e.collectionOf(c.Folder))
	case "config":
		if v.e.opts.EndpointConfig == nil {
			return L.CreateTable(0, 0)
		}
		cfg, err := toLua(L, v.e.opts.EndpointConfig(c.Folder.URL), 0)
		if err != nil || cfg == lua.LNil {
			return L.CreateTable(0, 0)
		}
		return cfg
	}
	return lua.LNil
}

// IsJSON reports whether a request's Content-Type says JSON
// (jsontext.IsMediaType).
func IsJSON(h http.Header) bool { return jsontext.IsMediaType(h.Get("Content-Type")) }

// CheckBody validates a JSON request body before any phase runs, so that a
// malformed or too deeply nested body is a 400 whether or not a script reads
// it.
func CheckBody(h http.Header, body []byte) error {
	if len(body) == 0 || !IsJSON(h) {
		return nil
	}
	if err := checkDepth(body); err != nil {
		return newError(http.StatusBadRequest, err.Error(), ErrBadBody)
	}
	if !jsonValid(body) {
		return newError(http.StatusBadRequest, errNotJSON.Error()+syntaxReason(body), ErrBadBody)
	}
	if !utf8.Valid(body) { // json.Valid accepts it; RFC 8259 does not
		return newError(http.StatusBadRequest, fmt.Sprintf("%s: %s at offset %d", errNotJSON, errNotUTF8, firstInvalidUTF8(body)), ErrBadBody)
	}
	if err := checkNumbers(body); err != nil { // json.Valid accepts 1e400; a Lua number cannot hold it
		return newError(http.StatusBadRequest, errNotJSON.Error()+": "+err.Error(), ErrBadBody)
	}
	return nil
}

// syntaxReason says where and why body, which is not valid JSON, goes
// wrong: ": invalid character '}' looking for beginning of value at offset
// 6". It is "" when the decoder gives no position.
func syntaxReason(body []byte) string {
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.Unmarshal(body, &raw); errors.As(err, &se) {
		return fmt.Sprintf(": %s at offset %d", se.Error(), se.Offset)
	}
	return ""
}

// checkNumbers reports the first number of a valid JSON document that does
// not fit a float64, as decoding req.body would.
func checkNumbers(data []byte) error {
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(data) && strings.IndexByte("+-.0123456789eE", data[j]) >= 0 {
				j++
			}
			if _, err := strconv.ParseFloat(string(data[i:j]), 64); err != nil {
				return fmt.Errorf("%w: %s", errNumberRange, data[i:j])
			}
			i = j - 1
		}
	}
	return nil
}

// firstInvalidUTF8 is the offset of the first byte of b that is not part of
// valid UTF-8.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}
