package phases

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// jsonCase is a handler body run on /recs (a collection) and the reply's
// body it gives, or the message of the 500 it raises.
type jsonCase struct {
	name, call string
	want       string
	err        string
}

// runJSONCases runs each case as the POST handler of its own folder, all
// using the collection /recs. A failing case must be a 500 whose source is
// the line of its call.
func runJSONCases(t *testing.T, tests []jsonCase) {
	t.Helper()
	files := map[string]string{}
	for i, tc := range tests {
		files[fmt.Sprintf("c%d/c%d.execute.lua", i, i)] = "return { POST = function(req, res)\n" + tc.call + "\nend }"
	}
	e := loadStash(t, files)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := run(t, e, "POST", fmt.Sprintf("/c%d", i), "")
			if tc.err == "" {
				if err != nil || string(resp.Body) != tc.want {
					t.Fatalf("%s: %v %v, want %s", tc.call, resp, err, tc.want)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 500 || !strings.Contains(pe.Message(), tc.err) {
				t.Fatalf("%s: err=%v, want a 500 containing %q", tc.call, err, tc.err)
			}
			if src := fmt.Sprintf("endpoints/c%d/c%d.execute.lua:2", i, i); pe.Source != src {
				t.Errorf("%s: Source=%q, want %q", tc.call, pe.Source, src)
			}
		})
	}
}

// TestJSONNumberAndStringKey: a table that has both the number key 1 and
// the string key "1" has no JSON object (it was written with "1" twice,
// both times with the string's value). Every conversion to JSON refuses it
// with an error that names the key; number keys beside other string keys
// are written as strings.
func TestJSONNumberAndStringKey(t *testing.T) {
	const both = `key "1" is in the table both as a number and as a string`
	runJSONCases(t, []jsonCase{
		{name: "res:json", call: `res:json({ [1] = "num", ["1"] = "str", [1.5] = "f", ["1.5"] = "fs" })`,
			err: "res:json: " + both},
		{name: "json.encode", call: `res:send(json.encode({ a = { [1.5] = "f", ["1.5"] = "fs" } }))`,
			err: `json.encode: key "1.5" is in the table both as a number and as a string`},
		{name: "emit", call: `emit("x", { [1] = "num", ["1"] = "str" })`, err: both},
		{name: "stash record", call: `req.stash:create({ meta = { [1] = "num", ["1"] = "str" } })`, err: both},
		{name: "stash where", call: `req.stash:list({ where = { owner = { ["1"] = "str", [1] = "num" } } })`, err: both},
		{name: "distinct keys", call: `res:json({ [1] = "num", ["2"] = "str", [1.5] = "f", x = { [10] = 1, ["1"] = 2 } })`,
			want: `{"1":"num","1.5":"f","2":"str","x":{"1":2,"10":1}}`},
		// A key is the shortest text that reads back as it, not tostring's
		// 14 digits, which these two share.
		{name: "number keys exact", call: `res:json({ [1/3] = "a", [0.33333333333333] = "b", [2^53] = "c" })`,
			want: `{"0.33333333333333":"b","0.3333333333333333":"a","9007199254740992":"c"}`},
		{name: "number keys exact stored", call: `res:json(req.stash:create({ id = "r2", meta = { [1/3] = "a", [0.33333333333333] = "b" } }).meta)`,
			want: `{"0.33333333333333":"b","0.3333333333333333":"a"}`},
		{name: "distinct keys stored", call: `res:json(req.stash:create({ id = "r1", meta = { [1] = "num", ["2"] = "str" } }).meta)`,
			want: `{"1":"num","2":"str"}`},
		// JSON has no number for an infinity, as a value or as a key.
		{name: "infinite key", call: `res:json({ [1/0] = 1, a = 2 })`, err: "res:json: cannot encode the table key inf as json"},
		{name: "infinite key stored", call: `req.stash:create({ meta = { [-1/0] = 1, a = 2 } })`, err: "cannot encode the table key -inf as json"},
	})
}

// TestDocNumberAndStringKey runs the example of docs/lua.md on a table with
// a number key and the same key as a string.
func TestDocNumberAndStringKey(t *testing.T) {
	block := docBlock(t, "lua.md", `local ok, err = pcall(json.encode, { [1] = "number", ["1"] = "string" })`)
	src, want, _ := strings.Cut(block, "\n-- ")
	got := eval(t, Options{}, src)
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("the example gives %s, want %s", b, want)
	}
}

// TestJSONArrayOtherKeys: a table marked as an array (by json.array, or
// decoded from a JSON array) whose keys are not all array indexes, whole
// numbers from 1, is an error that names the key, where it was written as
// an array without them. json.array refuses such a table at once.
func TestJSONArrayOtherKeys(t *testing.T) {
	const marked = ` in a table marked as an array is not an array index (a whole number from 1)`
	runJSONCases(t, []jsonCase{
		{name: "decoded, then a field", call: `local t = json.decode('[]'); t.x = 1; res:json({ v = t })`,
			err: `res:json: key "x"` + marked},
		{name: "decoded array, then a field", call: `local t = json.decode('[1, 2]'); t.n = 2; res:send(json.encode(t))`,
			err: `json.encode: key "n"` + marked},
		{name: "marked, then a fraction", call: `local t = json.array({ 1, 2 }); t[1.5] = 3; res:json(t)`,
			err: `res:json: key 1.5` + marked},
		{name: "marked, then zero", call: `local t = json.array(); t[0] = "z"; res:json(t)`,
			err: `res:json: key 0` + marked},
		{name: "marked, then a table key", call: `local t = json.array(); t[{}] = 1; res:json(t)`,
			err: `res:json: a key of type table` + marked},
		{name: "emit", call: `local t = json.decode('[]'); t.x = 1; emit("x", { v = t })`, err: `key "x"` + marked},
		{name: "stash record", call: `local t = json.decode('[]'); t.x = 1; req.stash:create({ list = t })`,
			err: `key "x"` + marked},
		{name: "json.array of a field", call: `json.array({ x = 1 })`,
			err: `json.array: key "x" is not an array index (a whole number from 1)`},
		{name: "json.array of an array and a field", call: `json.array({ 1, 2, n = 2 })`,
			err: `json.array: key "n" is not an array index (a whole number from 1)`},
		{name: "json.array of a negative key", call: `json.array({ [-1] = 1 })`,
			err: `json.array: key -1 is not an array index (a whole number from 1)`},
		{name: "json.array of an infinite key", call: `json.array({ [math.huge] = 1 })`,
			err: `json.array: key inf is not an array index (a whole number from 1)`},
		{name: "an index past 2^63", call: `res:json(json.array({ [2^63] = 1 }))`, err: `json encoding longer than`},
		{name: "holes", call: `res:json({ a = json.array({ [3] = true }), b = json.decode('[1, null, 3]'), c = json.array() })`,
			want: `{"a":[null,null,true],"b":[1,null,3],"c":[]}`},
		{name: "holes stored", call: `res:json(req.stash:create({ id = "r1", list = json.array({ [2] = "b" }) }).list)`,
			want: `[null,"b"]`},
	})
}

// TestDocArrayOtherKeys runs the example of docs/lua.md on a decoded array
// that got a field.
func TestDocArrayOtherKeys(t *testing.T) {
	block := docBlock(t, "lua.md", `local list = json.decode('["a", "b"]')`)
	src, want, _ := strings.Cut(block, "\n-- ")
	got := eval(t, Options{}, src)
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("the example gives %s, want %s", b, want)
	}
}
