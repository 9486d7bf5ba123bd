package config

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// isolateEnv blanks every MINIMI_* variable for the test (an empty variable counts as unset),
// so that the environment the tests run in cannot change their results.
func isolateEnv(t testing.TB) {
	t.Helper()
	for _, k := range envKeys {
		t.Setenv(envName(k.key), "")
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, envPrefix+"_") {
			t.Setenv(name, "")
		}
	}
}

// keyErrors flattens the errors.Join tree of err into its KeyErrors.
func keyErrors(err error) []*KeyError {
	if ke, ok := err.(*KeyError); ok {
		return []*KeyError{ke}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*KeyError
		for _, e := range j.Unwrap() {
			out = append(out, keyErrors(e)...)
		}
		return out
	}
	if e := errors.Unwrap(err); e != nil {
		return keyErrors(e)
	}
	return nil
}

// hasKeyError reports whether err holds a KeyError for key that matches kind.
func hasKeyError(err error, key string, kind error) bool {
	return slices.ContainsFunc(keyErrors(err), func(ke *KeyError) bool {
		return ke.Key == key && errors.Is(ke, kind)
	})
}

func keysOf(err error) []string {
	var keys []string
	for _, ke := range keyErrors(err) {
		keys = append(keys, ke.Key)
	}
	return keys
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate()=%v, want nil", err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"name", c.Name, "MiniMi"},
		{"port", c.Port, 3000},
		{"phases", c.Phases, []string{"load", "access", "execute"}},
		{"data_dir", c.DataDir, "data"},
		{"dev", c.Dev, false},
		{"nats", c.NATS, NATS{Enabled: true, Port: 4222}},
		{"limits", c.Limits, Limits{BodyBytes: 1048576, ScriptMS: 1000, RequestMS: 10000, HeaderBytes: 65536, CallStack: 256, Registry: 65536}},
		{"auth", c.Auth, Auth{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("DefaultConfig().%s=%v, want %v", tc.name, tc.got, tc.want)
			}
		})
	}
	t.Run("fresh", func(t *testing.T) {
		DefaultConfig().Phases[0] = "changed"
		if got := DefaultConfig().Phases[0]; got != "load" {
			t.Errorf("DefaultConfig().Phases[0]=%q after changing another copy, want %q", got, "load")
		}
	})
}

func TestAddr(t *testing.T) {
	tests := []struct {
		port int
		want string
	}{
		{3000, ":3000"},
		{0, ":0"},
		{65535, ":65535"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			c := &Config{Port: tc.port}
			if got := c.Addr(); got != tc.want {
				t.Errorf("Addr()=%q, want %q", got, tc.want)
			}
		})
	}
}

// TestTags pins that the json and mapstructure names of every field agree, so that the file,
// the environment and any viper-based caller see the same keys.
func TestTags(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[Config](), reflect.TypeFor[Client](), reflect.TypeFor[NATS](),
		reflect.TypeFor[Limits](), reflect.TypeFor[Auth](),
	} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			t.Run(typ.Name()+"."+f.Name, func(t *testing.T) {
				if got, want := jsonName(f), f.Tag.Get("mapstructure"); got != want || got == "" {
					t.Errorf("json name=%q, want mapstructure name %q (non-empty)", got, want)
				}
			})
		}
	}
}

func TestKeyErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"bad value", keyErr("port", ErrBadValue, "must be 0..65535, got %d", 70000), "config: port: must be 0..65535, got 70000"},
		{"wrong type", keyErr("port", ErrWrongType, "want integer, got string"), "config: port: want integer, got string"},
		{"unknown key", &KeyError{Key: "nats.prt", Err: ErrUnknownKey}, `config: unknown key "nats.prt"`},
		{"document", keyErr("", ErrWrongType, "want object, got array"), "config: want object, got array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error()=%q, want %q", got, tc.want)
			}
			if strings.Contains(tc.err.Error(), "bad value") {
				t.Errorf("Error()=%q repeats the sentinel's text", tc.err)
			}
		})
	}
}
