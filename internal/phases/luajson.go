package phases

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"

	"github.com/minimi-go/minimi/internal/jsontext"
)

// MaxJSONDepth bounds the nesting of JSON documents decoded into Lua (request
// bodies, json.decode, stored records, messages) and of the records and
// values a script stores, so that hostile input cannot exhaust the stack.
const MaxJSONDepth = 64

// MaxEncodeDepth bounds the nesting of the JSON a script encodes (res:json,
// json.encode, emit, nats): twice MaxJSONDepth, so that a reply, event or
// message can hold what was stored or received, a list of records nested
// MaxJSONDepth deep included, while a table that contains itself still
// fails with an error.
const MaxEncodeDepth = 2 * MaxJSONDepth

// arrayMeta is the registry key of the metatable that marks a Lua table as a
// JSON array, so that an empty one still encodes as [] rather than {}.
const arrayMeta = "minimi.array"

var (
	errJSONDepth   = fmt.Errorf("json nested deeper than %d levels", MaxJSONDepth)
	errEncodeDepth = fmt.Errorf("json nested deeper than %d levels", MaxEncodeDepth)
)

// MaxJSONBytes bounds the JSON a script can encode (json.encode, res:json):
// a table that holds one large string many times would otherwise grow the
// encoding in Go code, where the memory watchdog cannot stop it.
const MaxJSONBytes = 2 * MaxStringBytes

var errJSONSize = fmt.Errorf("json encoding longer than %d bytes", MaxJSONBytes)

// encodeJSON appends the JSON encoding of v to buf.
func encodeJSON(L *lua.LState, buf []byte, v lua.LValue) ([]byte, error) {
	return appendJSON(L, buf, v, 0)
}

func appendJSON(L *lua.LState, buf []byte, v lua.LValue, depth int) ([]byte, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return append(buf, "null"...), nil
	case lua.LBool:
		return strconv.AppendBool(buf, bool(v)), nil
	case lua.LNumber:
		return appendNumber(buf, float64(v))
	case lua.LString:
		if len(buf)+len(v) > MaxJSONBytes {
			return buf, errJSONSize
		}
		return jsontext.AppendString(buf, string(v)), nil
	case *lua.LTable:
		if depth >= MaxEncodeDepth {
			return buf, errEncodeDepth
		}
		if len(buf) > MaxJSONBytes {
			return buf, errJSONSize
		}
		if isArray(L, v) {
			return appendArray(L, buf, v, depth+1)
		}
		return appendObject(L, buf, v, depth+1)
	case *lua.LUserData:
		if raw, ok := v.Value.(json.RawMessage); ok {
			return append(buf, raw...), nil
		}
	}
	return buf, fmt.Errorf("cannot encode %s as json", v.Type())
}

func appendNumber(buf []byte, f float64) ([]byte, error) {
	out, err := jsontext.AppendFloat(buf, f)
	if err != nil {
		return buf, fmt.Errorf("cannot encode %v as json", f)
	}
	return out, nil
}

// arrayLen is the largest index of t, a table marked as an array, so that
// an array with holes (a JSON null inside it) encodes its holes as null,
// and how many of the indexes 1..n t lacks. bad is a key of t that is not
// an index (a string, 0, 1.5), or nil: no JSON array has a place for one.
func arrayLen(t *lua.LTable) (n, holes int, bad lua.LValue) {
	n = t.Len()
	border, present := n, n
	t.ForEachKind(func(k string, _ lua.LValue) {
		if bad == nil {
			bad = lua.LString(k)
		}
	}, func(k, _ lua.LValue) {
		kn, ok := k.(lua.LNumber)
		if !ok || !isIndex(float64(kn)) {
			if bad == nil {
				bad = k
			}
			return
		}
		if f := float64(kn); f > float64(border) {
			present++
			n = max(n, int(min(f, maxIndex)))
		}
	})
	return n, n - present, bad
}

// maxIndex bounds the length arrayLen reports for an index too large for an
// int (2^63 and past, 2^31 on 32-bit platforms): an array that long is
// refused by its size anyway.
const maxIndex = min(1<<53, math.MaxInt)

// isIndex says whether a number key is an index of a JSON array.
func isIndex(f float64) bool {
	return f >= 1 && f == math.Trunc(f) && !math.IsInf(f, 1)
}

// arrayKeyError is the error of a table marked as an array that has the key
// bad, which is not an index: it is refused rather than left out.
func arrayKeyError(bad lua.LValue) error {
	return fmt.Errorf("%s in a table marked as an array is not an array index (a whole number from 1)", keyText(bad))
}

// keyText names a table key in an error: key "x", key 1.5, or a key of type
// table.
func keyText(k lua.LValue) string {
	switch k.(type) {
	case lua.LString, lua.LNumber, lua.LBool:
		return "key " + luaQuote(k)
	}
	return "a key of type " + k.Type().String()
}

// checkArraySize refuses an array of n elements, holes of them null, whose
// JSON would pass MaxJSONBytes with the size bytes written before it: each
// element takes a comma, and each hole four bytes more. A table with one
// key far past its others ({[1e12] = true} marked as an array) is not
// walked and allocated element by element.
func checkArraySize(size, n, holes int) error {
	room := MaxJSONBytes - size
	if n > room || holes > (room-n)/4 {
		return errJSONSize
	}
	return nil
}

// isArray says whether t encodes as a JSON array: it carries the array
// metatable, or it is non-empty and its keys are exactly 1..n.
func isArray(L *lua.LState, t *lua.LTable) bool {
	if mt, ok := t.Metatable.(*lua.LTable); ok && mt == L.GetField(L.Get(lua.RegistryIndex), arrayMeta) {
		return true
	}
	n := t.Len()
	if n == 0 {
		return false
	}
	count := 0
	isSeq := true
	t.ForEachKind(func(string, lua.LValue) { isSeq = false }, func(k, _ lua.LValue) {
		count++
		if kn, ok := k.(lua.LNumber); !ok || float64(kn) != math.Trunc(float64(kn)) || kn < 1 || float64(kn) > float64(n) {
			isSeq = false
		}
	})
	return isSeq && count == n
}

func appendArray(L *lua.LState, buf []byte, t *lua.LTable, depth int) ([]byte, error) {
	n, holes, bad := arrayLen(t)
	if bad != nil {
		return buf, arrayKeyError(bad)
	}
	if err := checkArraySize(len(buf), n, holes); err != nil {
		return buf, err
	}
	buf = append(buf, '[')
	var err error
	for i := 1; i <= n; i++ {
		if i > 1 {
			buf = append(buf, ',')
		}
		if buf, err = appendJSON(L, buf, t.RawGetInt(i), depth); err != nil {
			return buf, err
		}
	}
	return append(buf, ']'), nil
}

// objectKey is a key of a table written as a JSON object, as the JSON
// writes it, with its value.
type objectKey struct {
	name string
	val  lua.LValue
}

func appendObject(L *lua.LState, buf []byte, t *lua.LTable, depth int) ([]byte, error) {
	keys := make([]objectKey, 0, 8)
	var bad lua.LValue
	t.ForEachKind(func(k string, v lua.LValue) { keys = append(keys, objectKey{k, v}) }, func(k, v lua.LValue) {
		if kn, ok := k.(lua.LNumber); ok && !math.IsInf(float64(kn), 0) {
			keys = append(keys, objectKey{numberKey(kn), v})
		} else {
			bad = k
		}
	})
	if bad != nil {
		return buf, badKeyError(bad)
	}
	slices.SortFunc(keys, func(a, b objectKey) int { return strings.Compare(a.name, b.name) })
	buf = append(buf, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			if k.name == keys[i-1].name {
				return buf, keyTwiceError(k.name)
			}
			buf = append(buf, ',')
		}
		buf = jsontext.AppendString(buf, k.name)
		buf = append(buf, ':')
		if buf, err = appendJSON(L, buf, k.val, depth); err != nil {
			return buf, err
		}
	}
	return append(buf, '}'), nil
}

// badKeyError is the error of a table key no JSON object key stands for: a
// table, a boolean, an infinity (which JSON has no number for either).
func badKeyError(k lua.LValue) error {
	if n, ok := k.(lua.LNumber); ok && math.IsInf(float64(n), 0) {
		name := "inf"
		if n < 0 {
			name = "-inf"
		}
		return fmt.Errorf("cannot encode the table key %s as json", name)
	}
	return fmt.Errorf("cannot encode a table key of type %s as json", k.Type())
}

// numberKey is the JSON object key of a number table key: its digits when
// it is an integer, else the shortest text that reads back as it. Lua's own
// text (tostring) has 14 digits, which two keys may share.
func numberKey(n lua.LNumber) string {
	f := float64(n)
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// keyTwiceError is the error of a table whose number key and string key
// are the same JSON key: {[1] = "a", ["1"] = "b"}. Two numbers never are,
// as each writes the shortest text that reads back as it.
func keyTwiceError(name string) error {
	return fmt.Errorf("key %q is in the table both as a number and as a string", name)
}

// toLua converts a value decoded by encoding/json (or built of the same
// types) into a Lua value.
func toLua(L *lua.LState, v any, depth int) (lua.LValue, error) {
	if depth > MaxJSONDepth {
		return lua.LNil, errJSONDepth
	}
	switch v := v.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(v), nil
	case float64:
		return lua.LNumber(v), nil
	case int:
		return lua.LNumber(v), nil
	case int64:
		return lua.LNumber(v), nil
	case json.Number:
		f, err := v.Float64()
		return lua.LNumber(f), err
	case string:
		return lua.LString(v), nil
	case []any:
		t := L.CreateTable(len(v), 0)
		for i, e := range v {
			lv, err := toLua(L, e, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			t.RawSetInt(i+1, lv) // a null keeps its position: [1,null,2] has 2 at [3]
		}
		L.SetMetatable(t, L.GetField(L.Get(lua.RegistryIndex), arrayMeta))
		return t, nil
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, e := range v {
			lv, err := toLua(L, e, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	}
	return lua.LNil, fmt.Errorf("cannot convert %T to lua", v)
}

// fromLua converts a Lua value into the types encoding/json produces
// (map[string]any, []any, float64, string, bool, nil), as a JSON round trip
// would, without one. A value whose JSON would be longer than MaxJSONBytes
// is refused, as encodeJSON refuses it: its strings are Lua's, shared and
// not copied, so a table that holds one 16 MiB string a thousand times
// costs the script nothing, while the record or event that Go code later
// encodes from it would take 16 GiB, beyond the reach of the time budget
// and the heap watchdog.
func fromLua(L *lua.LState, v lua.LValue) (any, error) {
	c := goConverter{L: L}
	return c.value(v, 0)
}

// goConverter is one fromLua conversion.
type goConverter struct {
	L    *lua.LState
	size int // the least number of bytes the JSON of the values converted so far takes
}

// add counts n more bytes of JSON.
func (c *goConverter) add(n int) error {
	if n > MaxJSONBytes-c.size {
		return errJSONSize
	}
	c.size += n
	return nil
}

func (c *goConverter) value(v lua.LValue, depth int) (any, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, c.add(len("null"))
	case lua.LBool:
		return bool(v), c.add(len("true"))
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("cannot encode %v as json", f)
		}
		return f, c.add(1)
	case lua.LString:
		return string(v), c.add(len(v) + len(`""`))
	case *lua.LTable:
		if depth >= MaxJSONDepth {
			return nil, errJSONDepth
		}
		if err := c.add(len("{}")); err != nil {
			return nil, err
		}
		if isArray(c.L, v) {
			return c.array(v, depth+1)
		}
		return c.object(v, depth+1)
	case *lua.LUserData:
		if raw, ok := v.Value.(json.RawMessage); ok {
			if err := c.add(len(raw)); err != nil {
				return nil, err
			}
			var out any
			err := json.Unmarshal(raw, &out)
			return out, err
		}
	}
	return nil, fmt.Errorf("cannot encode %s as json", v.Type())
}

func (c *goConverter) array(t *lua.LTable, depth int) (any, error) {
	n, holes, bad := arrayLen(t)
	if bad != nil {
		return nil, arrayKeyError(bad)
	}
	if err := checkArraySize(c.size, n, holes); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range n {
		e, err := c.value(t.RawGetInt(i+1), depth)
		if err == nil {
			err = c.add(len(","))
		}
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func (c *goConverter) object(t *lua.LTable, depth int) (any, error) {
	out := make(map[string]any, 8)
	var err error
	put := func(key string, val lua.LValue) {
		if err != nil {
			return
		}
		if err = c.add(len(key) + len(`"":,`)); err != nil {
			return
		}
		if _, twice := out[key]; twice {
			err = keyTwiceError(key)
			return
		}
		var e any
		if e, err = c.value(val, depth); err == nil {
			out[key] = e
		}
	}
	t.ForEachKind(put, func(k, val lua.LValue) {
		if kn, ok := k.(lua.LNumber); ok && !math.IsInf(float64(kn), 0) {
			put(numberKey(kn), val)
		} else if err == nil {
			err = badKeyError(k)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkDepth reports whether a JSON document nests deeper than MaxJSONDepth,
// without building it.
func checkDepth(data []byte) error {
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxJSONDepth {
				return errJSONDepth
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// errNotJSON is returned for a body that claims to be JSON and is not.
var errNotJSON = errors.New("body is not valid json")

func jsonValid(b []byte) bool { return json.Valid(b) }
