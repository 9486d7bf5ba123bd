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
		{name: "distinct keys stored", call: `res:json(req.stash:create({ id = "r1", meta = { [1] = "num", ["2"] = "str" } }).meta)`,
			want: `{"1":"num","2":"str"}`},
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
