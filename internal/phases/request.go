package phases

import (
	"mime"
	"net/http"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// newReq builds the req table of the running call. Cheap fields are set now;
// query, headers, body, raw, config and stash are built on first use.
func (v *vm) newReq() *lua.LTable {
	L, c := v.L, v.call.call
	req := L.CreateTable(0, 8)
	req.RawSetString("method", lua.LString(c.Method))
	req.RawSetString("path", lua.LString(c.Path))
	req.RawSetString("id", lua.LString(c.ID))
	if c.Client != "" {
		req.RawSetString("client", lua.LString(c.Client))
	}
	params := L.CreateTable(0, len(c.Params))
	for k, val := range c.Params {
		params.RawSetString(k, lua.LString(val))
	}
	req.RawSetString("params", params)
	req.RawSetString("state", L.NewTable())
	req.Metatable = v.reqMT
	return req
}

// reqIndex is req's __index: it builds a rare field once and stores it.
func (v *vm) reqIndex(L *lua.LState) int {
	req := L.CheckTable(1)
	key := L.CheckString(2)
	if v.call == nil {
		L.Push(lua.LNil)
		return 1
	}
	val := v.reqField(key)
	if val != lua.LNil {
		req.RawSetString(key, val)
	}
	L.Push(val)
	return 1
}

func (v *vm) reqField(key string) lua.LValue {
	L, c := v.L, v.call.call
	switch key {
	case "query":
		q := L.CreateTable(0, len(c.Query))
		for k, vals := range c.Query {
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
			return L.NewTable()
		}
		cfg, err := toLua(L, v.e.opts.EndpointConfig(c.Folder.URL), 0)
		if err != nil || cfg == lua.LNil {
			return L.NewTable()
		}
		return cfg
	}
	return lua.LNil
}

// IsJSON reports whether a request's Content-Type says JSON.
func IsJSON(h http.Header) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

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
