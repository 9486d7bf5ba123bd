package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name string
		json string
		want func(c *Config) // turns DefaultConfig() into the expected config
	}{
		{"empty object", `{}`, func(c *Config) {}},
		{"port zero", `{"port": 0}`, func(c *Config) { c.Port = 0 }},
		{"phases replaced", `{"phases": ["execute"]}`, func(c *Config) { c.Phases = []string{"execute"} }},
		{"nested keeps defaults", `{"nats": {"url": "nats://bus.example:4222"}}`, func(c *Config) {
			c.NATS.URL = "nats://bus.example:4222"
		}},
		{"limits partial", `{"limits": {"script_ms": 50}}`, func(c *Config) { c.Limits.ScriptMS = 50 }},
		{"int64 limit", `{"limits": {"body_bytes": 9007199254740993}}`, func(c *Config) {
			c.Limits.BodyBytes = 9007199254740993 // not representable as float64
		}},
		{"endpoint keys keep case and dots", `{"endpoints": {"/v1.2/Notes": {"pageSize": 5, "Mixed.Key": "x"}}}`, func(c *Config) {
			c.Endpoints = map[string]Endpoint{"/v1.2/Notes": {"pageSize": float64(5), "Mixed.Key": "x"}}
		}},
		{"client without cidrs", `{"clients": {"Web.App": {"key_sha256": "` + testSHA + `"}}}`, func(c *Config) {
			c.Clients = map[string]Client{"Web.App": {KeySHA256: testSHA}}
		}},
		{"whitespace around", " \n\t{\"dev\": true}\n\n", func(c *Config) { c.Dev = true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(strings.NewReader(tc.json))
			if err != nil {
				t.Fatalf("ParseConfig()=%v, want nil error", err)
			}
			want := DefaultConfig()
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseConfig()=%+v, want %+v", got, want)
			}
		})
	}
}

// testSHA is the SHA-256 of "secret".
const testSHA = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"

func TestParseConfigKeyErrors(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name string
		json string
		key  string
		kind error
	}{
		{"unknown top-level key", `{"prot": 3000}`, "prot", ErrUnknownKey},
		{"unknown nested key", `{"nats": {"prt": 4222}}`, "nats.prt", ErrUnknownKey},
		{"unknown client key", `{"clients": {"web": {"key": "x"}}}`, "clients.web.key", ErrUnknownKey},
		{"keys are case-sensitive", `{"Port": 3000}`, "Port", ErrUnknownKey},
		{"port as string", `{"port": "3000"}`, "port", ErrWrongType},
		{"port fraction", `{"port": 3.5}`, "port", ErrWrongType},
		{"port exponent", `{"port": 3e3}`, "port", ErrWrongType},
		{"port overflows int", `{"port": 99999999999999999999}`, "port", ErrWrongType},
		{"name as number", `{"name": 1}`, "name", ErrWrongType},
		{"dev as string", `{"dev": "true"}`, "dev", ErrWrongType},
		{"phases as string", `{"phases": "load,execute"}`, "phases", ErrWrongType},
		{"phase as number", `{"phases": ["load", 2]}`, "phases[1]", ErrWrongType},
		{"nats null", `{"nats": null}`, "nats", ErrWrongType},
		{"endpoints as array", `{"endpoints": []}`, "endpoints", ErrWrongType},
		{"endpoint as string", `{"endpoints": {"/notes": "x"}}`, "endpoints./notes", ErrWrongType},
		{"endpoint number too big", `{"endpoints": {"/notes": {"n": [1e400]}}}`, "endpoints./notes.n[0]", ErrBadValue},
		{"cidrs as string", `{"clients": {"web": {"key_sha256": "` + testSHA + `", "cidrs": "127.0.0.0/8"}}}`, "clients.web.cidrs", ErrWrongType},
		{"document is an array", `[]`, "", ErrWrongType},
		{"port out of range", `{"port": 70000}`, "port", ErrBadValue},
		{"empty phases", `{"phases": []}`, "phases", ErrBadValue},
		{"endpoint names unknown client", `{"endpoints": {"/": {"clients": ["web"]}}}`, "endpoints./.clients", ErrBadValue},
		{"auth secret too short", `{"auth": {"secret": "0123456789abcdef0123456789abcde"}}`, "auth.secret", ErrBadValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig(strings.NewReader(tc.json))
			if c != nil {
				t.Errorf("ParseConfig()=%+v, want nil config", c)
			}
			if !hasKeyError(err, tc.key, tc.kind) {
				t.Errorf("ParseConfig()=%v (keys %q), want a KeyError for %q matching %v", err, keysOf(err), tc.key, tc.kind)
			}
		})
	}
}

func TestParseConfigErrorText(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name string
		json string
		want string
	}{
		{"wrong type", `{"port": "3000"}`, "config: port: want integer, got string"},
		{"unknown key", `{"nats": {"prt": 1}}`, `config: unknown key "nats.prt"; did you mean "nats.port"?`},
		{"unknown key far from any", `{"nats": {"speed": 1}}`, `config: unknown key "nats.speed"`},
		{"bad value", `{"port": 70000}`, "config: port: must be 0..65535, got 70000"},
		{"every problem, in key order", `{"prot": 1, "nats": {"prt": 1}, "dev": 1}`,
			"config: dev: want boolean, got number\n" + `config: unknown key "nats.prt"; did you mean "nats.port"?` + "\n" +
				`config: unknown key "prot"; did you mean "port"?`},
		// A key given twice is an error naming both lines; a decoder would
		// keep the last without a word.
		{"duplicate key", "{\"port\": 3000,\n \"port\": 4000}", "config: port: given on lines 1 and 2; a JSON decoder keeps the last and drops the first"},
		{"duplicate nested keys", "{\"nats\": {\"url\": \"a\", \"url\": \"b\"},\n \"endpoints\": {\"/\": {\"x\": [{\"k\": 1, \"k\": 2}]}}}",
			"config: nats.url: given on lines 1 and 1; a JSON decoder keeps the last and drops the first\n" +
				"config: endpoints./.x[0].k: given on lines 2 and 2; a JSON decoder keeps the last and drops the first"},
		{"same key in two objects", `{"nats": {"url": "nats://x:4222"}, "clients": {}, "limits": {"script_ms": 5}, "endpoints": {"/": {"url": 1}}}`, ""},
		{"every bad value", `{"name": "", "port": -1}`,
			"config: name: must not be empty\nconfig: port: must be 0..65535, got -1"},
		// A key of the wrong type is left out, so the others are checked too,
		// and it is reported once, not again as missing.
		{"wrong types and bad values together", `{"port": "3000", "limits": {"script_ms": 0}}`,
			"config: port: want integer, got string\nconfig: limits.script_ms: must be positive, got 0"},
		{"a wrong type is reported once", `{"clients": {"web": {"key_sha256": 5}}}`,
			"config: clients.web.key_sha256: want string, got number"},
		// Only the bad value is left out, not the objects around it, which
		// other keys may refer to.
		{"a bad leaf keeps its object", `{"clients": {"web": {"key_sha256": "` + testSHA + `", "cidrs": "127.0.0.0/8"}},
			"endpoints": {"/notes": {"clients": ["web"]}}}`,
			"config: clients.web.cidrs: want array, got string"},
		// A malformed endpoint URL does not hide its settings' problems.
		{"a bad endpoint URL and its settings", `{"endpoints": {"/notes/": {"log_body": "yes", "clients": ["nobody"]}}}`,
			`config: endpoints./notes/: want a folder URL like "/notes" or "/" (no trailing or double "/"), got "/notes/"` + "\n" +
				"config: endpoints./notes/.log_body: want boolean, got string\n" +
				"config: endpoints./notes/.clients: unknown client \"nobody\""},
		{"a short secret, without showing it", `{"auth": {"secret": "hunter2"}}`,
			"config: auth.secret: must be at least 32 bytes, got 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tc.json))
			if tc.want == "" {
				if err != nil {
					t.Errorf("ParseConfig()=%v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseConfig()=%v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseConfigSyntax(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name       string
		json       string
		line, col  int
		jsonSyntax bool // the cause is a *json.SyntaxError
	}{
		{"empty", ``, 1, 1, false},
		{"only spaces", "  \n ", 2, 2, false},
		{"truncated", "{\n  \"port\": 1\n", 3, 1, false},
		{"trailing comma", "{\n  \"port\": 1,\n}", 3, 1, true},
		{"missing colon", `{"port" 1}`, 1, 9, true},
		{"missing value", "{\n\t\"name\": }", 2, 10, true},
		{"two values", "{}\n {}", 2, 2, false},
		{"bare word", `{"dev": yes}`, 1, 9, true},
		{"byte order mark", "\uFEFF{}", 1, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tc.json))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseConfig()=%v, want a *SyntaxError", err)
			}
			if se.Line != tc.line || se.Column != tc.col {
				t.Errorf("ParseConfig()=%v at %d:%d, want %d:%d", err, se.Line, se.Column, tc.line, tc.col)
			}
			var jse *json.SyntaxError
			if got := errors.As(err, &jse); got != tc.jsonSyntax {
				t.Errorf("errors.As(%v, *json.SyntaxError)=%v, want %v", err, got, tc.jsonSyntax)
			}
			if tc.name == "byte order mark" && !strings.Contains(err.Error(), "byte order mark") {
				t.Errorf("ParseConfig()=%v, want it to name the byte order mark", err)
			}
		})
	}
}

func TestReadConfigFile(t *testing.T) {
	isolateEnv(t)
	missing := filepath.Join(t.TempDir(), "config.json")
	dangling := filepath.Join(t.TempDir(), "config.json")
	if err := os.Symlink(filepath.Join(filepath.Dir(dangling), "gone.json"), dangling); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "service")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		path      string
		mustExist bool
		check     func(t *testing.T, c *Config, err error)
	}{
		{"missing and optional", missing, false, func(t *testing.T, c *Config, err error) {
			if err != nil || !reflect.DeepEqual(c, DefaultConfig()) {
				t.Errorf("ReadConfigFile()=%+v, %v, want defaults, nil", c, err)
			}
		}},
		{"missing and required", missing, true, func(t *testing.T, c *Config, err error) {
			wantPathError(t, err, missing, "open")
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist)=false, want true", err)
			}
		}},
		{"link to nothing, optional", dangling, false, func(t *testing.T, c *Config, err error) {
			wantPathError(t, err, dangling, "open")
		}},
		{"under a file, optional", filepath.Join(file, "config.json"), false, func(t *testing.T, c *Config, err error) {
			if err != nil || !reflect.DeepEqual(c, DefaultConfig()) {
				t.Errorf("ReadConfigFile()=%+v, %v, want defaults, nil (the directory is missing)", c, err)
			}
		}},
		{"directory", t.TempDir(), true, func(t *testing.T, c *Config, err error) {
			wantPathError(t, err, "", "load")
		}},
		{"design example", "testdata/design.json", true, func(t *testing.T, c *Config, err error) {
			if err != nil {
				t.Fatalf("ReadConfigFile()=%v, want nil error", err)
			}
			if got := c.Endpoint("/notes/[id]").Clients(); !reflect.DeepEqual(got, []string{"web"}) {
				t.Errorf("Endpoint(/notes/[id]).Clients()=%q, want [web]", got)
			}
		}},
		{"every key", "testdata/full.json", true, func(t *testing.T, c *Config, err error) {
			if err != nil {
				t.Fatalf("ReadConfigFile()=%v, want nil error", err)
			}
			want := NATS{Enabled: false, URL: "nats://a.example:4222, nats://b.example:4222", Port: -1}
			if c.NATS != want || c.Limits.Registry != 1024 || c.Auth.Secret != "a-config-test-secret-of-32-bytes" || len(c.Clients) != 2 {
				t.Errorf("ReadConfigFile()=%+v, want the values of full.json", c)
			}
		}},
		{"typo", "testdata/typo.json", true, func(t *testing.T, c *Config, err error) {
			wantPathError(t, err, "testdata/typo.json", "load")
			if !hasKeyError(err, "nats.prt", ErrUnknownKey) {
				t.Errorf("ReadConfigFile()=%v, want unknown key nats.prt", err)
			}
		}},
		{"syntax", "testdata/syntax.json", true, func(t *testing.T, c *Config, err error) {
			wantPathError(t, err, "testdata/syntax.json", "load")
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != 4 || se.Column != 1 {
				t.Errorf("ReadConfigFile()=%v, want a syntax error at 4:1", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ReadConfigFile(tc.path, tc.mustExist)
			if err != nil && c != nil {
				t.Errorf("ReadConfigFile()=%+v with error %v, want nil config", c, err)
			}
			tc.check(t, c, err)
		})
	}
}

// wantPathError checks that err is a *PathError for path (any path if empty) whose text names the file.
func wantPathError(t *testing.T, err error, path, op string) {
	t.Helper()
	var pe *PathError
	if !errors.As(err, &pe) {
		t.Fatalf("ReadConfigFile()=%v, want a *PathError", err)
	}
	if pe.Op != op || (path != "" && pe.Path != path) || !strings.Contains(err.Error(), pe.Path) {
		t.Errorf("ReadConfigFile()=%v (op %q, path %q), want op %q naming %q", err, pe.Op, pe.Path, op, path)
	}
}

func BenchmarkParseConfig(b *testing.B) {
	data, err := os.ReadFile("testdata/full.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseConfig(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
