package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig checks that ParseConfig never panics, and that a config it accepts is
// valid and survives a round trip through JSON unchanged.
func FuzzParseConfig(f *testing.F) {
	isolateEnv(f)
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("seed files: %v, %v", files, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `{} {}`, `{"port": 0}`, `{"port": "3000"}`, `{"port": 1e3}`,
		`{"port": 1, "port": 2}`, `{"nats": {"prt": 1}}`, `{"phases": []}`, `{"phases": ["load", "schema"]}`,
		`{"whitelist": ["https://a.example", "https://a.example/"]}`,
		`{"endpoints": {"/": {"n": 1e400}}}`, `{"endpoints": {"/a.b/[id]": {"Key": [1, {"x": null}], "log_body": true}}}`,
		`{"clients": {"w": {"key_sha256": "` + testSHA + `", "cidrs": ["::1/128"]}}, "endpoints": {"/": {"clients": ["w"]}}}`,
		`{"name": "\u00e9", "limits": {"body_bytes": 9223372036854775807}}`, "{\"a\":\n", `{"endpoints": {"/": {"s": "<&>\ud800"}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(bytes.NewReader(data))
		if err != nil {
			if c != nil {
				t.Fatalf("ParseConfig()=%+v, %v, want nil config with the error", c, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig() accepted a config whose Validate()=%v", err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("json.Marshal(%+v)=%v", c, err)
		}
		again, err := ParseConfig(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("ParseConfig(%s)=%v, want the marshalled config accepted", out, err)
		}
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the config:\n%s\n%s", out, out2)
		}
	})
}
