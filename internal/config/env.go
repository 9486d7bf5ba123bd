package config

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
)

// envPrefix starts the name of every environment variable MiniMi reads.
const envPrefix = "MINIMI"

// Environment variables that MiniMi reads besides the keys of Config.
const (
	// EnvClientKey is the client key that minimi events --url sends.
	EnvClientKey = envPrefix + "_CLIENT_KEY"
	// EnvPprof is the address of the profiler of a binary built with -tags pprof.
	EnvPprof = envPrefix + "_PPROF"
)

// envKey is one key that the environment can set, with the index of its field in Config.
type envKey struct {
	key   string // dotted, as in config.json: "limits.script_ms"
	index []int
}

// envKeys are every key of Config, down to the leaves of the nested objects.
var envKeys = collectEnvKeys(reflect.TypeFor[Config](), "", nil)

func collectEnvKeys(t reflect.Type, prefix string, index []int) []envKey {
	var keys []envKey
	for i := range t.NumField() {
		f := t.Field(i)
		key, idx := dotted(prefix, jsonName(f)), append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, collectEnvKeys(f.Type, key, idx)...)
			continue
		}
		keys = append(keys, envKey{key: key, index: idx})
	}
	return keys
}

// envName is the environment variable for a dotted key: "limits.script_ms" is MINIMI_LIMITS_SCRIPT_MS.
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// applyEnv sets every key whose MINIMI_* variable is set and not empty.
// A MINIMI_* variable that is set and not empty, but names no key and is not
// one of the Env* variables, is an error: it is most likely a typo
// (MINIMI_NATS_ENABLE), and ignoring it would start the service with a
// setting the user did not ask for. It returns the keys it set, too.
// With opts.NoEnv it reads and checks nothing, and it skips the variables
// of opts.Overridden.
func applyEnv(c *Config, opts Options) (errs []error, set []string) {
	if opts.NoEnv {
		return nil, nil
	}
	errs = unknownEnv()
	v := viper.New()
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	root := reflect.ValueOf(c).Elem()
	for _, k := range envKeys {
		if overridden(k.key, opts.Overridden) {
			continue
		}
		_ = v.BindEnv(k.key) // fails only without a key
		if !v.IsSet(k.key) {
			continue
		}
		if err := setFromEnv(k.key, root.FieldByIndex(k.index), v.GetString(k.key)); err != nil {
			// Not set: a map keeps the file's value, whose problems are
			// the file's, and a scalar's follow-on problems are hidden.
			markFrom(err, envName(k.key))
			errs = append(errs, err)
			continue
		}
		set = append(set, k.key)
	}
	return errs, set
}

// overridden reports whether key is one of keys, or a key inside one.
func overridden(key string, keys []string) bool {
	return slices.ContainsFunc(keys, func(o string) bool { return key == o || strings.HasPrefix(key, o+".") })
}

// markFrom sets From to name on every KeyError in err, joined ones too.
func markFrom(err error, name string) {
	switch e := err.(type) {
	case *KeyError:
		e.From = name
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			markFrom(x, name)
		}
	}
}

// fromEnv marks each problem p about a key that the environment set, or a
// key inside it, with the variable it came from.
func fromEnv(p error, set []string) {
	var ke *KeyError
	if !errors.As(p, &ke) {
		return
	}
	for _, k := range set {
		if ke.Key == k || strings.HasPrefix(ke.Key, k+".") || strings.HasPrefix(ke.Key, k+"[") {
			ke.From = envName(k)
			return
		}
	}
}

// unknownEnv reports the set MINIMI_* variables that MiniMi does not read, sorted by name.
func unknownEnv() []error {
	known := map[string]bool{EnvClientKey: true, EnvPprof: true}
	for _, k := range envKeys {
		known[envName(k.key)] = true
	}
	var errs []error
	env := os.Environ()
	slices.Sort(env)
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix+"_") && value != "" && !known[name] {
			errs = append(errs, &KeyError{Key: name, Err: ErrUnknownEnv})
		}
	}
	return errs
}

// setFromEnv converts the environment text s to the type of field f and sets it.
// Lists are comma-separated; clients and endpoints are JSON objects, checked like the file.
func setFromEnv(key string, f reflect.Value, s string) error {
	var err error
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		var b bool
		b, err = strconv.ParseBool(strings.TrimSpace(s))
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		var n int64
		n, err = strconv.ParseInt(strings.TrimSpace(s), 10, f.Type().Bits())
		f.SetInt(n)
	case reflect.Slice:
		f.Set(reflect.ValueOf(splitList(s)))
	case reflect.Map:
		return setMapFromEnv(key, f, s)
	}
	if err != nil {
		return keyErr(key, ErrWrongType, "want %s, got %q", typeName(f.Type()), s)
	}
	return nil
}

// setMapFromEnv replaces the map f (clients or endpoints) with the JSON object s.
func setMapFromEnv(key string, f reflect.Value, s string) error {
	doc, err := decodeDocument([]byte(s))
	var se *SyntaxError
	if errors.As(err, &se) { // its text begins "config: ", as the key's will
		return keyErr(key, ErrWrongType, "want a JSON object: line %d, column %d: %v", se.Line, se.Column, se.Err)
	}
	if err != nil {
		return keyErr(key, ErrWrongType, "want a JSON object: %v", err)
	}
	errs := duplicatesInEnv(key, []byte(s))
	if err := errors.Join(append(errs, checkValue(key, doc, f.Type())...)...); err != nil {
		return err
	}
	m := reflect.New(f.Type())
	if err := fill(m.Interface(), doc); err != nil {
		return err // not met: checkValue refuses every value fill cannot take
	}
	f.Set(m.Elem())
	return nil
}

// duplicatesInEnv reports each key that an object of the JSON text s, the
// value of key's variable, gives twice, as duplicateKeys does for the file.
func duplicatesInEnv(key string, s []byte) []error {
	var errs []error
	for _, e := range duplicateKeys(s) {
		var ke *KeyError
		if errors.As(e, &ke) {
			errs = append(errs, keyErr(dotted(key, ke.Key), ErrDuplicateKey,
				"given twice; a JSON decoder keeps the last and drops the first"))
		}
	}
	return errs
}

// splitList splits a comma-separated list, trimming spaces around each item.
func splitList(s string) []string {
	items := strings.Split(s, ",")
	for i, item := range items {
		items[i] = strings.TrimSpace(item)
	}
	return items
}
