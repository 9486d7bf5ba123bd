package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/minimi-go/minimi/internal/suggest"
)

// Options are the choices of ParseConfigWith and ReadConfigFileWith. The
// zero value reads the whole environment, as ParseConfig does.
type Options struct {
	// NoEnv leaves the environment out: the config is the defaults and the
	// text alone, and no MINIMI_* variable is read or checked, not even one
	// that names no key. False reads the environment.
	NoEnv bool
	// Overridden are keys in dotted form ("port") that the caller sets
	// itself afterwards, from command-line flags: their MINIMI_* variables
	// (and those of the keys inside them) are not read, and the values the
	// file gives them are not checked (one of the wrong type still is), so
	// that a bad one cannot stop a run whose flag overrides it: the caller
	// checks the config again with Validate. Nil reads every key's.
	Overridden []string
}

// ParseConfig reads config.json text from r and returns the config it describes:
// DefaultConfig, then the JSON, then the MINIMI_* environment on top, validated.
// Every problem found is reported, errors.Join'ed: a *SyntaxError, or *KeyError values.
func ParseConfig(r io.Reader) (*Config, error) {
	return ParseConfigWith(r, Options{})
}

// ParseConfigWith is ParseConfig with the environment read as opts says.
func ParseConfigWith(r io.Reader, opts Options) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	doc, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	dups := duplicateKeys(data)
	// A key that is unknown or of the wrong type is left out (see
	// checkObject), so that the values of the others are checked too and
	// one run reports every problem.
	errs := append(dups, checkValue("", doc, reflect.TypeFor[Config]())...)
	if _, ok := doc.(map[string]any); !ok && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := DefaultConfig()
	if err := fill(c, doc); err != nil {
		return nil, err
	}
	envErrs, fromEnvKeys := applyEnv(c, opts)
	errs = append(errs, envErrs...)
	read := errs // problems reading the keys, before any value is checked
	for _, p := range c.problems() {
		var ke *KeyError
		if errors.As(p, &ke) && overridden(ke.Key, opts.Overridden) {
			continue // the caller sets it and validates again, as the file's and the environment's value are masked
		}
		if !underAny(p, read) { // a key left out is reported once, as what it is
			fromEnv(p, fromEnvKeys)
			errs = append(errs, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// ReadConfigFile parses the config file at path with ParseConfig. A missing file is an
// error if mustExist, and otherwise means the defaults plus the environment;
// so is a path under a file that is not a directory. A symbolic link to a
// missing file is not missing: it is an error, since it names a config that
// is not there. Problems with the file are *PathError values naming it.
func ReadConfigFile(path string, mustExist bool) (*Config, error) {
	return ReadConfigFileWith(path, mustExist, Options{})
}

// ReadConfigFileWith is ReadConfigFile with the environment read as opts says.
func ReadConfigFileWith(path string, mustExist bool, opts Options) (*Config, error) {
	f, err := os.Open(path)
	if !mustExist && (errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrNotExist) && !isLink(path)) {
		return ParseConfigWith(strings.NewReader("{}"), opts)
	}
	if err != nil {
		if target, lerr := os.Readlink(path); lerr == nil && errors.Is(err, fs.ErrNotExist) {
			return nil, &PathError{Op: "open", Path: path,
				Err: fmt.Errorf("a symbolic link to %s, which does not exist: %w", target, fs.ErrNotExist)}
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the PathError below names the file
		}
		return nil, &PathError{Op: "open", Path: path, Err: err}
	}
	defer f.Close()
	c, err := ParseConfigWith(f, opts)
	if err != nil {
		return nil, eachPathError("load", path, err)
	}
	return c, nil
}

// isLink reports whether path names a symbolic link.
func isLink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// eachPathError wraps each problem that err joins in its own *PathError, so
// that every line of a report names the file, not only the first.
func eachPathError(op, path string, err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return &PathError{Op: op, Path: path, Err: err}
	}
	var errs []error
	for _, e := range j.Unwrap() {
		errs = append(errs, &PathError{Op: op, Path: path, Err: e})
	}
	return errors.Join(errs...)
}

// decodeDocument decodes data as one JSON value, keeping numbers as json.Number.
func decodeDocument(data []byte) (any, error) {
	if bytes.HasPrefix(data, []byte("\uFEFF")) { // which the decoder calls invalid character 'ï'
		return nil, &SyntaxError{Line: 1, Column: 1, Err: errors.New("the file starts with a byte order mark (U+FEFF): save it as UTF-8 without one")}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, syntaxError(data, err)
	}
	rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")
	if len(rest) > 0 {
		line, col := position(data, len(data)-len(rest))
		return nil, &SyntaxError{Line: line, Column: col, Err: errors.New("unexpected data after the top-level value")}
	}
	return doc, nil
}

// duplicateKeys returns an error for each key that an object of data, a
// valid JSON document, gives more than once, naming it in dotted form and
// the lines of both. A decoder keeps the last value and drops the first
// without a word, so "port" given twice would run on the second port.
func duplicateKeys(data []byte) []error {
	type frame struct {
		key  string         // the dotted name of the object or array
		seen map[string]int // an object's keys so far → their line; nil for an array
		next int            // an array's next index
		name string         // an object's key whose value comes next; "" when a key comes next
		has  bool           // name is set
	}
	var errs []error
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// valueName names the value about to be read in the innermost frame.
	valueName := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.seen == nil {
			f.next++
			return fmt.Sprintf("%s[%d]", f.key, f.next-1)
		}
		f.has = false
		return dotted(f.key, f.name)
	}
	for {
		tok, err := dec.Token()
		if err != nil { // io.EOF: data was decoded whole before
			return errs
		}
		if len(stack) > 0 {
			if f := stack[len(stack)-1]; f.seen != nil && !f.has && tok != json.Delim('}') {
				k, _ := tok.(string)
				line, _ := position(data, int(dec.InputOffset()))
				if first, ok := f.seen[k]; ok {
					errs = append(errs, keyErr(dotted(f.key, k), ErrDuplicateKey,
						"given on lines %d and %d; a JSON decoder keeps the last and drops the first", first, line))
				} else {
					f.seen[k] = line
				}
				f.name, f.has = k, true
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{key: valueName(), seen: map[string]int{}})
		case json.Delim('['):
			stack = append(stack, &frame{key: valueName()})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			valueName()
		}
	}
}

// syntaxError places a decoding error at its line and column.
func syntaxError(data []byte, err error) error {
	off := len(data) // truncated or empty input ends at the end
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		off = int(se.Offset) - 1 // the offending byte is the last one read
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	line, col := position(data, off)
	return &SyntaxError{Line: line, Column: col, Err: err}
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	before := data[:off]
	return 1 + bytes.Count(before, []byte("\n")), off - bytes.LastIndexByte(before, '\n')
}

// checkValue reports every key of the decoded JSON value v that is unknown to the Go
// type t or holds the wrong JSON type; key is v's dotted name.
func checkValue(key string, v any, t reflect.Type) []error {
	if t == reflect.TypeFor[Endpoint]() { // free-form: any object
		if _, ok := v.(map[string]any); !ok {
			return []error{wrongType(key, t, v)}
		}
		return checkNumbers(key, v)
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool:
		if typeName(t) != jsonType(v) {
			return []error{wrongType(key, t, v)}
		}
	case reflect.Int, reflect.Int64:
		return checkInt(key, v, t)
	case reflect.Slice:
		return checkArray(key, v, t)
	case reflect.Map, reflect.Struct:
		return checkObject(key, v, t)
	}
	return nil
}

func checkInt(key string, v any, t reflect.Type) []error {
	n, ok := v.(json.Number)
	if !ok {
		return []error{wrongType(key, t, v)}
	}
	i, err := n.Int64()
	if err != nil || reflect.New(t).Elem().OverflowInt(i) {
		return []error{keyErr(key, ErrWrongType, "want integer, got number %s", n)}
	}
	return nil
}

func checkArray(key string, v any, t reflect.Type) []error {
	a, ok := v.([]any)
	if !ok {
		return []error{wrongType(key, t, v)}
	}
	var errs []error
	for i, x := range a {
		errs = append(errs, checkValue(fmt.Sprintf("%s[%d]", key, i), x, t.Elem())...)
	}
	return errs
}

// checkObject checks a JSON object against a struct (fixed keys) or a map (any key).
func checkObject(key string, v any, t reflect.Type) []error {
	obj, ok := v.(map[string]any)
	if !ok {
		return []error{wrongType(key, t, v)}
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		elem, ok := elemType(t, k)
		if !ok {
			ke := &KeyError{Key: dotted(key, k), Err: ErrUnknownKey}
			if near := suggest.Closest(k, jsonNames(t), 2); near != "" {
				ke.Hint = dotted(key, near)
			}
			errs = append(errs, ke)
			delete(obj, k)
			continue
		}
		at := dotted(key, k)
		if kerrs := checkValue(at, obj[k], elem); len(kerrs) > 0 {
			errs = append(errs, kerrs...)
			// Not filled, so that the rest can still be decoded and checked.
			// Free-form endpoint settings are not pruned inside: one goes whole.
			if elem == reflect.TypeFor[Endpoint]() || failsAt(at, kerrs) {
				delete(obj, k)
			}
		}
	}
	return errs
}

// failsAt reports whether one of errs is about the value at key itself or
// an element of it (an array cannot be filled with a bad element). Errors
// deeper in an object were pruned there, and leave the object in place.
func failsAt(key string, errs []error) bool {
	for _, e := range errs {
		var ke *KeyError
		if errors.As(e, &ke) && (ke.Key == key || strings.HasPrefix(ke.Key, key+"[")) {
			return true
		}
	}
	return false
}

// underAny reports whether p is a KeyError about a key that one of errs is
// about, or a key inside it.
func underAny(p error, errs []error) bool {
	var pk *KeyError
	if !errors.As(p, &pk) {
		return false
	}
	for _, e := range errs {
		var ek *KeyError
		if errors.As(e, &ek) && (pk.Key == ek.Key || strings.HasPrefix(pk.Key, ek.Key+".") || strings.HasPrefix(pk.Key, ek.Key+"[")) {
			return true
		}
	}
	return false
}

// elemType is the type of the value at key k of a struct or map type t.
func elemType(t reflect.Type, k string) (reflect.Type, bool) {
	if t.Kind() == reflect.Map {
		return t.Elem(), true
	}
	f, ok := fieldByName(t, k)
	return f.Type, ok
}

// checkNumbers checks that the numbers of free-form settings fit a float64,
// the type scripts see them as.
func checkNumbers(key string, v any) []error {
	var errs []error
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			errs = append(errs, checkNumbers(dotted(key, k), v[k])...)
		}
	case []any:
		for i, x := range v {
			errs = append(errs, checkNumbers(fmt.Sprintf("%s[%d]", key, i), x)...)
		}
	case json.Number:
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			errs = append(errs, keyErr(key, ErrBadValue, "number %s is out of range", v))
		}
	}
	return errs
}

// fill decodes the checked document into dst, over the values dst already has.
func fill(dst, doc any) error {
	data, err := json.Marshal(doc) // without the duplicate keys the document may have had
	if err == nil {
		err = json.Unmarshal(data, dst)
	}
	if err != nil {
		return fmt.Errorf("config: decode: %w", err)
	}
	return nil
}

// fieldByName finds the field of struct type t whose JSON name is exactly name.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if jsonName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// jsonNames lists the JSON names of the fields of struct type t.
func jsonNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func dotted(key, k string) string {
	if key == "" {
		return k
	}
	return key + "." + k
}

func wrongType(key string, want reflect.Type, got any) error {
	return keyErr(key, ErrWrongType, "want %s, got %s", typeName(want), jsonType(got))
}

// typeName is the JSON type that holds a Go type's values.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Slice:
		return "array"
	}
	return "object"
}

// jsonType is the JSON type of a decoded value (or of a Go value set in an Endpoint).
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int, int64:
		return "number"
	case []any, []string:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
