package phases

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/minimi-go/minimi/internal/jsontext"
	lua "github.com/yuin/gopher-lua"
)

// reqFields holds the req fields of one call once they are built. req
// itself is an empty table whose __index builds a field on first use and
// keeps it here: gopher-lua tables are maps with an ordered key index, so
// a table filled per request would cost more than the whole rest of a
// trivial request.
type reqFields struct {
	method, path, id, client lua.LValue
	params, state, query     lua.LValue
	headers, raw, body       lua.LValue
	stash, config            lua.LValue
}

// newReq makes the req table of the running call.
func (v *vm) newReq() *lua.LTable {
	req := v.L.CreateTable(0, 0)
	req.Metatable = v.reqMT
	v.call.reqTable = req
	return req
}

// reqIndex is req's __index. A req table kept past its request reads nil:
// its fields are built from the call running now.
func (v *vm) reqIndex(L *lua.LState) int {
	req := L.CheckTable(1)
	key := L.CheckString(2)
	if v.call == nil || v.call.reqTable != req {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(v.reqField(key))
	return 1
}

// reqField returns the field key of the running call's req, building it
// the first time.
func (v *vm) reqField(key string) lua.LValue {
	f := &v.call.req
	var slot *lua.LValue
	switch key {
	case "method":
		slot = &f.method
	case "path":
		slot = &f.path
	case "id":
		slot = &f.id
	case "client":
		slot = &f.client
	case "params":
		slot = &f.params
	case "state":
		slot = &f.state
	case "query":
		slot = &f.query
	case "headers":
		slot = &f.headers
	case "raw":
		slot = &f.raw
	case "body":
		slot = &f.body
	case "stash":
		slot = &f.stash
	case "config":
		slot = &f.config
	default:
		return lua.LNil
	}
	if *slot == nil {
		*slot = v.buildField(key)
	}
	return *slot
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
		h := L.CreateTable(0, len(c.Header))
		for k, vals := range c.Header {
			h.RawSetString(strings.ToLower(k), lua.LString(strings.Join(vals, ", ")))
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
			v.raise(newError(http.StatusBadRequest, "the body is not valid JSON: "+err.Error(), ErrBadBody))
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
		return newError(http.StatusBadRequest, errNotJSON.Error(), ErrBadBody)
	}
	return nil
}
