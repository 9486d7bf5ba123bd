package phases

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"

	"github.com/minimi-go/minimi/internal/auth"
	"github.com/minimi-go/minimi/internal/stash"
)

// modules are MiniMi's Lua globals of one state, by name: json, log, time,
// uuid, stash, auth, nats, service and crypto. bindModules installs them.
func (v *vm) modules() map[string]map[string]lua.LGFunction {
	return map[string]map[string]lua.LGFunction{
		"json": {
			"encode": v.jsonEncode,
			"decode": v.jsonDecode,
			"array":  v.jsonArray,
		},
		"log": {
			"debug": v.logAt(slog.LevelDebug),
			"info":  v.logAt(slog.LevelInfo),
			"warn":  v.logAt(slog.LevelWarn),
			"error": v.logAt(slog.LevelError),
		},
		"time": {
			"now":  timeNow,
			"ms":   timeMS,
			"iso":  timeISO,
			"unix": timeUnix,
		},
		"uuid": {
			"new": uuidNew,
		},
		"stash": {
			"at": v.stashAt,
		},
		"auth": {
			"hash":   authHash,
			"verify": authVerify,
			"sign":   v.authSign,
			"check":  v.authCheck,
		},
		"nats": {
			"publish": v.natsPublish,
			"request": v.natsRequest,
		},
		"service": {
			"call": v.serviceCall,
		},
		"crypto": {
			"sha256": cryptoSHA256,
			"hmac":   cryptoHMAC,
			"random": cryptoRandom,
			"equal":  cryptoEqual,
		},
	}
}

// functions are MiniMi's global Lua functions of one state.
func (v *vm) functions() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"require": v.require,
		"emit":    v.emit,
	}
}

func (v *vm) jsonEncode(L *lua.LState) int {
	b, err := encodeJSON(L, nil, L.Get(1))
	if err != nil {
		L.RaiseError("json.encode: %s", err.Error())
	}
	L.Push(lua.LString(b))
	return 1
}

func (v *vm) jsonDecode(L *lua.LState) int {
	s := L.CheckString(1)
	if err := checkDepth([]byte(s)); err != nil {
		L.RaiseError("json.decode: %s", err.Error())
	}
	val, err := decodeJSON(L, []byte(s))
	if err != nil {
		L.RaiseError("json.decode: %s", err.Error())
	}
	L.Push(val)
	return 1
}

// jsonArray marks a table as a JSON array, so that it encodes as [] even when
// empty, and returns it. A table with a key that is not an array index is
// refused: no JSON array holds it.
func (v *vm) jsonArray(L *lua.LState) int {
	t := L.OptTable(1, nil)
	if t == nil {
		t = L.CreateTable(0, 0)
	}
	if _, _, bad := arrayLen(t); bad != nil {
		L.RaiseError("json.array: %s is not an array index (a whole number from 1)", keyText(bad))
	}
	L.SetMetatable(t, L.GetField(L.Get(lua.RegistryIndex), arrayMeta))
	L.Push(t)
	return 1
}

// logAt logs msg with the fields of an optional table, tagged with the
// request id and the script's file:line.
func (v *vm) logAt(level slog.Level) lua.LGFunction {
	return func(L *lua.LState) int {
		msg := L.CheckString(1)
		attrs := make([]slog.Attr, 0, 4)
		if v.call != nil {
			attrs = append(attrs, slog.String("request_id", v.call.call.ID))
		}
		// Where ends "file:line:"; the request log writes file:line.
		attrs = append(attrs, slog.String("source", callerWhere(L)))
		if t, ok := L.Get(2).(*lua.LTable); ok {
			t.ForEach(func(k, val lua.LValue) {
				attrs = append(attrs, slog.Any(k.String(), luaAttr(L, val)))
			})
		}
		v.e.opts.Logger.LogAttrs(context.Background(), level, msg, attrs...)
		return 0
	}
}

func luaAttr(L *lua.LState, val lua.LValue) any {
	switch val := val.(type) {
	case lua.LNumber:
		return float64(val)
	case lua.LBool:
		return bool(val)
	case lua.LString:
		return string(val)
	case *lua.LTable:
		if out, err := fromLua(L, val); err == nil {
			return out
		}
	}
	return val.String()
}

// authHash is auth.hash(plain): an argon2id hash in PHC format.
func authHash(L *lua.LState) int {
	h, err := auth.Hash(L.CheckString(1))
	if err != nil {
		L.RaiseError("auth.hash: %s", err.Error())
	}
	L.Push(lua.LString(h))
	return 1
}

// authVerify is auth.verify(stored, plain): whether plain matches the hash.
func authVerify(L *lua.LState) int {
	L.Push(lua.LBool(auth.Verify(L.OptString(1, ""), L.CheckString(2))))
	return 1
}

// timeNow is the current time in seconds since the epoch, with milliseconds.
func timeNow(L *lua.LState) int {
	L.Push(lua.LNumber(float64(time.Now().UnixMilli()) / 1000))
	return 1
}

func timeMS(L *lua.LState) int {
	L.Push(lua.LNumber(time.Now().UnixMilli()))
	return 1
}

func timeUnix(L *lua.LState) int {
	L.Push(lua.LNumber(time.Now().Unix()))
	return 1
}

// The seconds time.iso formats: the years RFC 3339 can write, 0000 to 9999.
const (
	minISOSeconds = -62167219200 // 0000-01-01T00:00:00Z
	endISOSeconds = 253402300800 // 10000-01-01T00:00:00Z
)

// timeISO formats seconds since the epoch (default now) as RFC 3339 UTC,
// to the millisecond.
func timeISO(L *lua.LState) int {
	t := time.UnixMilli(time.Now().UnixMilli()) // to the millisecond, as with seconds given
	if L.GetTop() >= 1 {
		sec := float64(L.CheckNumber(1))
		if !(sec >= minISOSeconds && sec < endISOSeconds) { // NaN too
			L.ArgError(1, fmt.Sprintf("seconds must be from %d to %d (years 0000 to 9999), not %v",
				int64(minISOSeconds), int64(endISOSeconds-1), lua.LNumber(sec)))
		}
		t = time.UnixMilli(int64(sec * 1000))
	}
	L.Push(lua.LString(t.UTC().Format(time.RFC3339Nano)))
	return 1
}

// uuidNew returns a new id, unique and sortable by creation time (a ULID).
func uuidNew(L *lua.LState) int {
	id, err := stash.NewID()
	if err != nil {
		L.RaiseError("uuid.new: %v", err)
	}
	L.Push(lua.LString(id))
	return 1
}
