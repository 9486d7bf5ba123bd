package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestEnvNames(t *testing.T) {
	var got []string
	for _, k := range envKeys {
		got = append(got, envName(k.key))
	}
	want := []string{
		"MINIMI_NAME", "MINIMI_PORT", "MINIMI_PHASES", "MINIMI_WHITELIST", "MINIMI_CLIENTS", "MINIMI_ENDPOINTS",
		"MINIMI_DATA_DIR", "MINIMI_DEV", "MINIMI_NATS_ENABLED", "MINIMI_NATS_URL", "MINIMI_NATS_PORT",
		"MINIMI_LIMITS_BODY_BYTES", "MINIMI_LIMITS_SCRIPT_MS", "MINIMI_LIMITS_REQUEST_MS",
		"MINIMI_LIMITS_HEADER_BYTES", "MINIMI_LIMITS_CALL_STACK", "MINIMI_LIMITS_REGISTRY", "MINIMI_AUTH_SECRET",
		"MINIMI_EVENTS_PUBLIC",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("environment variables=%q, want %q", got, want)
	}
}

// envFile is the config.json under the environment in TestParseConfigEnv.
const envFile = `{"port": 3001, "phases": ["load", "execute"], "nats": {"url": "nats://file.example:4222"},
	"endpoints": {"/file": {"a": 1}}}`

func TestParseConfigEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(c *Config) // turns the config of envFile into the expected one
	}{
		{"port", map[string]string{"MINIMI_PORT": "8080"}, func(c *Config) { c.Port = 8080 }},
		{"empty counts as unset", map[string]string{"MINIMI_PORT": ""}, func(c *Config) {}},
		{"name", map[string]string{"MINIMI_NAME": "notes"}, func(c *Config) { c.Name = "notes" }},
		{"nats url", map[string]string{"MINIMI_NATS_URL": "nats://bus:4222"}, func(c *Config) { c.NATS.URL = "nats://bus:4222" }},
		{"nats enabled", map[string]string{"MINIMI_NATS_ENABLED": "false"}, func(c *Config) { c.NATS.Enabled = false }},
		{"nats random port", map[string]string{"MINIMI_NATS_PORT": "-1"}, func(c *Config) { c.NATS.Port = -1 }},
		{"data dir", map[string]string{"MINIMI_DATA_DIR": "/srv/data"}, func(c *Config) { c.DataDir = "/srv/data" }},
		{"dev", map[string]string{"MINIMI_DEV": "true"}, func(c *Config) { c.Dev = true }},
		{"dev as 1", map[string]string{"MINIMI_DEV": "1"}, func(c *Config) { c.Dev = true }},
		{"script ms", map[string]string{"MINIMI_LIMITS_SCRIPT_MS": "50"}, func(c *Config) { c.Limits.ScriptMS = 50 }},
		{"body bytes", map[string]string{"MINIMI_LIMITS_BODY_BYTES": "4096"}, func(c *Config) { c.Limits.BodyBytes = 4096 }},
		{"auth secret", map[string]string{"MINIMI_AUTH_SECRET": "a-config-test-secret-of-32-bytes"}, func(c *Config) { c.Auth.Secret = "a-config-test-secret-of-32-bytes" }},
		{"phases", map[string]string{"MINIMI_PHASES": "load, access ,execute"}, func(c *Config) {
			c.Phases = []string{"load", "access", "execute"}
		}},
		{"whitelist", map[string]string{"MINIMI_WHITELIST": "https://a.example,https://b.example"}, func(c *Config) {
			c.Whitelist = []string{"https://a.example", "https://b.example"}
		}},
		{"clients as JSON", map[string]string{"MINIMI_CLIENTS": `{"web": {"key_sha256": "` + testSHA + `"}}`}, func(c *Config) {
			c.Clients = map[string]Client{"web": {KeySHA256: testSHA}}
		}},
		{"endpoints replace the file's", map[string]string{"MINIMI_ENDPOINTS": `{"/Env": {"pageSize": 2}}`}, func(c *Config) {
			c.Endpoints = map[string]Endpoint{"/Env": {"pageSize": float64(2)}}
		}},
		{"several", map[string]string{"MINIMI_PORT": "0", "MINIMI_NATS_ENABLED": "false", "MINIMI_PHASES": "execute"}, func(c *Config) {
			c.Port, c.NATS.Enabled, c.Phases = 0, false, []string{"execute"}
		}},
	}
	isolateEnv(t)
	base, err := ParseConfig(strings.NewReader(envFile))
	if err != nil || base.Port != 3001 {
		t.Fatalf("ParseConfig(envFile)=%+v, %v, want port 3001, nil error", base, err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := ParseConfig(strings.NewReader(envFile))
			if err != nil {
				t.Fatalf("ParseConfig()=%v, want nil error", err)
			}
			want, _ := ParseConfig(strings.NewReader(envFile))
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseConfig()=%+v, want %+v", got, want)
			}
		})
	}
}

func TestParseConfigUnknownEnv(t *testing.T) {
	isolateEnv(t)
	t.Setenv("MINIMI_NATS_ENABLE", "false") // a typo of MINIMI_NATS_ENABLED
	t.Setenv("MINIMI_PORTS", "8080")
	t.Setenv("MINIMI_UNUSED", "") // empty counts as unset
	t.Setenv(EnvClientKey, "mk_1")
	t.Setenv(EnvPprof, "127.0.0.1:6060")
	c, err := ParseConfig(strings.NewReader(`{}`))
	if c != nil {
		t.Errorf("ParseConfig()=%+v, want nil config", c)
	}
	if got, want := keysOf(err), []string{"MINIMI_NATS_ENABLE", "MINIMI_PORTS"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseConfig()=%v: keys %q, want %q", err, got, want)
	}
	for _, ke := range keyErrors(err) {
		if !errors.Is(ke, ErrUnknownEnv) || !errors.Is(ke, ErrUnknownKey) {
			t.Errorf("%v: want it to match ErrUnknownEnv and ErrUnknownKey", ke)
		}
	}
	if want := "config: unknown environment variable MINIMI_NATS_ENABLE"; !strings.Contains(err.Error(), want) {
		t.Errorf("ParseConfig()=%q, want it to contain %q", err, want)
	}

	t.Setenv("MINIMI_NATS_ENABLE", "")
	t.Setenv("MINIMI_PORTS", "")
	if _, err := ParseConfig(strings.NewReader(`{}`)); err != nil {
		t.Errorf("ParseConfig() with only %s and %s set=%v, want nil error", EnvClientKey, EnvPprof, err)
	}
}

func TestParseConfigEnvErrors(t *testing.T) {
	tests := []struct {
		name     string
		env, val string
		key      string
		kind     error
	}{
		{"port not a number", "MINIMI_PORT", "abc", "port", ErrWrongType},
		{"port fraction", "MINIMI_PORT", "80.5", "port", ErrWrongType},
		{"port out of range", "MINIMI_PORT", "70000", "port", ErrBadValue},
		{"dev not a boolean", "MINIMI_DEV", "maybe", "dev", ErrWrongType},
		{"nats enabled not a boolean", "MINIMI_NATS_ENABLED", "off", "nats.enabled", ErrWrongType},
		{"limit overflows", "MINIMI_LIMITS_REGISTRY", "99999999999999999999", "limits.registry", ErrWrongType},
		{"limit not positive", "MINIMI_LIMITS_SCRIPT_MS", "0", "limits.script_ms", ErrBadValue},
		{"reserved phase", "MINIMI_PHASES", "load,schema", "phases[1]", ErrBadValue},
		{"empty phase", "MINIMI_PHASES", "load,,execute", "phases[1]", ErrBadValue},
		{"clients not JSON", "MINIMI_CLIENTS", "web", "clients", ErrWrongType},
		{"clients unknown key", "MINIMI_CLIENTS", `{"web": {"key": "x"}}`, "clients.web.key", ErrUnknownKey},
		{"endpoints wrong type", "MINIMI_ENDPOINTS", `{"/a": []}`, "endpoints./a", ErrWrongType},
		{"clients key twice", "MINIMI_CLIENTS", `{"web": {"key_sha256": "` + testSHA + `", "key_sha256": "` + testSHA + `"}}`,
			"clients.web.key_sha256", ErrDuplicateKey},
		{"endpoints key twice", "MINIMI_ENDPOINTS", `{"/a": {"log_body": true}, "/a": {}}`, "endpoints./a", ErrDuplicateKey},
		{"clients key twice and an unknown key", "MINIMI_CLIENTS",
			`{"web": {"key_sha256": "` + testSHA + `", "key_sha256": "` + testSHA + `"}, "app": {"key": "x"}}`,
			"clients.app.key", ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv(tc.env, tc.val)
			c, err := ParseConfig(strings.NewReader(`{}`))
			if c != nil {
				t.Errorf("ParseConfig()=%+v, want nil config", c)
			}
			if !hasKeyError(err, tc.key, tc.kind) {
				t.Errorf("ParseConfig()=%v (keys %q), want a KeyError for %q matching %v", err, keysOf(err), tc.key, tc.kind)
			}
			// Every problem with a variable's value names the variable, in
			// the same words.
			for _, ke := range keyErrors(err) {
				if ke.From != tc.env || !strings.HasSuffix(ke.Error(), " (from "+tc.env+")") {
					t.Errorf("problem %q comes from %q, want it to end naming %s", ke.Error(), ke.From, tc.env)
				}
			}
		})
	}
}

// A value from the environment that breaks a rule names its variable, so
// that nobody looks for it in config.json, which may say otherwise.
func TestParseConfigEnvBadValueNamesVariable(t *testing.T) {
	tests := []struct{ env, val, want string }{
		{"MINIMI_PORT", "70000", "config: port: must be 0..65535, got 70000 (from MINIMI_PORT)"},
		{"MINIMI_LIMITS_SCRIPT_MS", "0", "config: limits.script_ms: must be positive, got 0 (from MINIMI_LIMITS_SCRIPT_MS)"},
		{"MINIMI_PHASES", "load,schema", `config: phases[1]: "schema" is reserved (from MINIMI_PHASES)`},
		{"MINIMI_CLIENTS", `{"web": {"key_sha256": "x"}}`, "(from MINIMI_CLIENTS)"},
		// A value of the wrong type says so in the same words.
		{"MINIMI_PORT", "abc", `config: port: want integer, got "abc" (from MINIMI_PORT)`},
		{"MINIMI_ENDPOINTS", "[1]", "config: endpoints: want object, got array (from MINIMI_ENDPOINTS)"},
		{"MINIMI_CLIENTS", "web", "config: clients: want a JSON object: line 1, column 1: invalid character 'w' looking for beginning of value (from MINIMI_CLIENTS)"},
	}
	for _, tc := range tests {
		t.Run(tc.env+"="+tc.val, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv(tc.env, tc.val)
			_, err := ParseConfig(strings.NewReader(`{"port": 3001}`))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig()=%v, want it to contain %q", err, tc.want)
			}
		})
	}
	// A value from the file does not.
	isolateEnv(t)
	if _, err := ParseConfig(strings.NewReader(`{"port": 70000}`)); err == nil || strings.Contains(err.Error(), "from") {
		t.Errorf("ParseConfig() of the file's bad port=%v, want an error that names no variable", err)
	}
}

// A key in Options.Overridden is set by a flag after parsing: its variable
// is not read, so a bad one cannot stop the run, and the others still are.
func TestParseConfigOverridden(t *testing.T) {
	for _, port := range []string{"abc", "70000"} {
		t.Run(port, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("MINIMI_PORT", port)
			t.Setenv("MINIMI_NAME", "notes")
			c, err := ParseConfigWith(strings.NewReader(`{"port": 3001}`), Options{Overridden: []string{"port"}})
			if err != nil || c.Port != 3001 || c.Name != "notes" {
				t.Fatalf("ParseConfigWith(port overridden)=%+v, %v, want the file's port and MINIMI_NAME", c, err)
			}
			if _, err := ParseConfig(strings.NewReader(`{"port": 3001}`)); !slices.Contains(keysOf(err), "port") {
				t.Errorf("ParseConfig()=%v, want the bad MINIMI_PORT refused without the override", err)
			}
		})
	}
	isolateEnv(t)
	t.Setenv("MINIMI_PORT", "abc")
	t.Setenv("MINIMI_NATS_ENABLE", "false")
	t.Setenv("MINIMI_NATS_PORT", "x")
	_, err := ParseConfigWith(strings.NewReader(`{}`), Options{Overridden: []string{"port", "nats"}})
	if got, want := keysOf(err), []string{"MINIMI_NATS_ENABLE"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ParseConfigWith(port, nats overridden)=%v: keys %q, want %q: a variable that names no key is still refused", err, got, want)
	}
}

// The file's value of an overridden key is masked as the environment masks
// it: a bad one is not checked (the caller validates what it sets), one of
// the wrong type is still refused, and the other keys are checked as ever.
func TestParseConfigOverriddenFileValue(t *testing.T) {
	isolateEnv(t)
	over := Options{Overridden: []string{"port"}}
	if _, err := ParseConfigWith(strings.NewReader(`{"port": 70000}`), over); err != nil {
		t.Errorf("ParseConfigWith(file port 70000, port overridden)=%v, want no error", err)
	}
	if _, err := ParseConfigWith(strings.NewReader(`{"port": 70000}`), Options{}); !hasKeyError(err, "port", ErrBadValue) {
		t.Errorf("ParseConfigWith(file port 70000)=%v, want it refused without the override", err)
	}
	if _, err := ParseConfigWith(strings.NewReader(`{"port": "x"}`), over); !hasKeyError(err, "port", ErrWrongType) {
		t.Errorf("ParseConfigWith(file port \"x\", port overridden)=%v, want the wrong type refused", err)
	}
	if _, err := ParseConfigWith(strings.NewReader(`{"port": 70000, "limits": {"script_ms": -1}}`), over); !hasKeyError(err, "limits.script_ms", ErrBadValue) {
		t.Errorf("ParseConfigWith(bad limits.script_ms, port overridden)=%v, want it refused", err)
	}
}

// With Options.NoEnv the config is the defaults and the text alone: no
// variable is read, nor refused.
func TestParseConfigNoEnv(t *testing.T) {
	isolateEnv(t)
	t.Setenv("MINIMI_PORT", "abc")
	t.Setenv("MINIMI_NAME", "notes")
	t.Setenv("MINIMI_NATS_ENABLE", "false")
	c, err := ParseConfigWith(strings.NewReader(`{"name": "todos"}`), Options{NoEnv: true})
	want := DefaultConfig()
	want.Name = "todos"
	if err != nil || !reflect.DeepEqual(c, want) {
		t.Errorf("ParseConfigWith(NoEnv)=%+v, %v, want %+v, nil", c, err, want)
	}
	if _, err := ParseConfigWith(strings.NewReader(`{"port": 70000}`), Options{NoEnv: true}); !hasKeyError(err, "port", ErrBadValue) {
		t.Errorf("ParseConfigWith(NoEnv) of a bad port=%v, want it refused", err)
	}
}

// A map variable that is refused leaves config.json's map in place; the
// problems of that map are the file's, and do not name the variable.
func TestParseConfigRefusedEnvMapKeepsFileProblems(t *testing.T) {
	isolateEnv(t)
	t.Setenv("MINIMI_CLIENTS", `{"web": {"key": "x"}}`)
	_, err := ParseConfig(strings.NewReader(`{"clients": {"old": {"key_sha256": "x"}}}`))
	if !hasKeyError(err, "clients.web.key", ErrUnknownKey) {
		t.Fatalf("ParseConfig()=%v, want the variable's unknown key", err)
	}
	for _, ke := range keyErrors(err) {
		switch ke.Key {
		case "clients.web.key":
			if ke.From != "MINIMI_CLIENTS" {
				t.Errorf("problem %q comes from %q, want MINIMI_CLIENTS", ke.Error(), ke.From)
			}
		case "clients.old.key_sha256":
			if ke.From != "" {
				t.Errorf("problem %q of config.json says it comes from %s", ke.Error(), ke.From)
			}
		}
	}
	if !slices.Contains(keysOf(err), "clients.old.key_sha256") {
		t.Errorf("ParseConfig()=%v, want the file's bad key_sha256 too", err)
	}
}
