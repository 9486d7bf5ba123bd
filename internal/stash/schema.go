package stash

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema is a parsed <folder>.schema.json: a compiled JSON Schema (2020-12)
// plus the collection's indexes, unique fields and field transforms.
// A Schema is immutable and safe for concurrent use.
type Schema struct {
	raw      json.RawMessage
	compiled *jsonschema.Schema
	indexes  []string
	unique   []string
	lower    map[string]bool // x-lowercase
	hash     map[string]bool // x-hash
	hidden   map[string]bool // x-hidden
	// namesID is whether the schema names "id" at its top level (in
	// "properties" or "required"): then it validates the record's id too.
	namesID bool
}

// SameShape reports whether s and o agree on everything stored data
// depends on: the sets of indexes, unique fields, x-hash and x-lowercase
// fields. Only the JSON Schema and x-hidden may differ. Two nil schemas agree.
func (s *Schema) SameShape(o *Schema) bool {
	if s == nil || o == nil {
		return s == o
	}
	sameSet := func(a, b []string) bool {
		return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
	}
	return sameSet(s.indexes, o.indexes) && sameSet(s.unique, o.unique) &&
		maps.Equal(s.hash, o.hash) && maps.Equal(s.lower, o.lower)
}

// schemaURL names the schema inside the compiler; nothing is ever loaded from it.
const schemaURL = "mem:///schema.json"

var printer = message.NewPrinter(language.English)

// ParseSchema parses a <folder>.schema.json file:
//
//	{"schema": {…JSON Schema…}, "indexes": ["owner"], "unique": ["email"]}
//
// Unknown top-level keys, a schema that does not compile, a schema that
// refers to another document, a transform keyword (x-hash, x-hidden,
// x-lowercase) where MiniMi would not apply it (see readTransforms), and an
// index or unique field that is not a top-level property are errors. Errors are *PathError
// naming file; an error inside the schema starts with its JSON pointer into
// the file ("/schema/properties/a: …").
func ParseSchema(file string, data []byte) (*Schema, error) {
	sc, err := parseSchema(data)
	if err != nil {
		return nil, &PathError{Op: "parse", Path: file, Err: fmt.Errorf("%w: %w", ErrInvalidSchema, err)}
	}
	return sc, nil
}

func parseSchema(data []byte) (*Schema, error) {
	var raw struct {
		Schema  json.RawMessage `json:"schema"`
		Indexes []string        `json:"indexes"`
		Unique  []string        `json:"unique"`
	}
	if err := decodeStrict(data, &raw, "schema", "indexes", "unique"); err != nil {
		if errors.Is(err, ErrUnknownKey) && !slices.Contains(objectKeys(data), "schema") {
			// most likely a JSON Schema written as the whole file
			return nil, fmt.Errorf(`%w: the JSON Schema goes under "schema", as in {"schema": {"type": "object", …}}`, err)
		}
		return nil, err
	}
	if len(raw.Schema) == 0 || bytes.Equal(raw.Schema, []byte("null")) {
		return nil, errors.New(`key "schema" is missing`)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw.Schema))
	if err != nil {
		return nil, err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New(`key "schema" must be a JSON object`)
	}
	sc := &Schema{raw: bytes.Clone(raw.Schema), indexes: raw.Indexes, unique: raw.Unique}
	if sc.compiled, err = compileSchema(doc); err != nil {
		return nil, err
	}
	props, err := sc.readTransforms(obj)
	if err != nil {
		return nil, err
	}
	required, _ := obj["required"].([]any)
	sc.namesID = props[FieldID] || slices.Contains(required, any(FieldID))
	if err := checkIndexFields("indexes", sc.indexes, props, sc.hash); err != nil {
		return nil, err
	}
	return sc, checkIndexFields("unique", sc.unique, props, sc.hash)
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema refers to %s: a schema file must be self-contained", url)
}

func compileSchema(doc any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	compiled, err := c.Compile(schemaURL)
	if err == nil {
		return compiled, nil
	}
	var meta *jsonschema.SchemaValidationError
	var verr *jsonschema.ValidationError
	if errors.As(err, &meta) && errors.As(meta.Err, &verr) {
		var msgs []string
		for _, f := range flattenErrors(verr, nil) {
			msgs = append(msgs, "/schema"+f.Pointer+": "+f.Message)
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	return nil, err
}

func checkIndexFields(key string, fields []string, props, hash map[string]bool) error {
	seen := map[string]bool{}
	for _, f := range fields {
		switch {
		case f == "id" || strings.HasPrefix(f, "_"):
			return fmt.Errorf("%s: %q is kept by the stash itself and cannot be indexed", key, f)
		case !props[f]:
			return fmt.Errorf("%s: %q is not a top-level property of the schema", key, f)
		case hash[f]:
			return fmt.Errorf("%s: %q is hashed (x-hash) and cannot be indexed", key, f)
		case seen[f]:
			return fmt.Errorf("%s: %q is listed twice", key, f)
		}
		seen[f] = true
	}
	return nil
}

// JSON returns the "schema" member as written in the file (for OPTIONS).
func (sc *Schema) JSON() json.RawMessage { return bytes.Clone(sc.raw) }

// Indexes returns the fields listed in "indexes".
func (sc *Schema) Indexes() []string { return slices.Clone(sc.indexes) }

// Unique returns the fields listed in "unique".
func (sc *Schema) Unique() []string { return slices.Clone(sc.unique) }

// Hidden returns the x-hidden fields, sorted.
func (sc *Schema) Hidden() []string { return sortedKeys(sc.hidden) }

// Hashed returns the x-hash fields, sorted.
func (sc *Schema) Hashed() []string { return sortedKeys(sc.hash) }

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// validate checks fields (a record without _ fields, with id only if the
// schema names it) and returns every failure. Failures at or under a field
// in skip are left out.
func (sc *Schema) validate(fields map[string]any, skip map[string]bool) []FieldError {
	err := sc.compiled.Validate(map[string]any(fields))
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []FieldError{{Message: err.Error()}}
	}
	secret := make(map[string]bool, len(sc.hidden)+len(sc.hash))
	maps.Copy(secret, sc.hidden)
	maps.Copy(secret, sc.hash)
	var out []FieldError
	for _, f := range flattenErrors(verr, secret) {
		if !skipped(f.Pointer, skip) {
			out = append(out, f)
		}
	}
	return out
}

func skipped(ptr string, skip map[string]bool) bool {
	for name := range skip {
		p := "/" + escapePointer(name)
		if ptr == p || strings.HasPrefix(ptr, p+"/") {
			return true
		}
	}
	return false
}

// flattenErrors turns a validation error tree into one FieldError per
// failing leaf; a missing or unexpected property is reported at its own
// pointer. A failure at or under a field in secret is reported at the field,
// without its value (secretError).
func flattenErrors(root *jsonschema.ValidationError, secret map[string]bool) []FieldError {
	var out []FieldError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		if loc := e.InstanceLocation; len(loc) > 0 && secret[loc[0]] {
			out = append(out, secretError(loc, e.ErrorKind))
			return
		}
		out = append(out, leafErrors(e)...)
	}
	walk(root)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return slices.Compact(out)
}

// secretError is the failure of an x-hidden or x-hash field: the keyword it
// fails, never its value, which the messages of pattern, format, the
// numeric bounds and the lengths quote or measure. That value may be a
// plain password, or a stored one that reads hide: a patch validates the
// fields it does not name as stored, and a schema made stricter after they
// were stored fails them. Only a wrong type of the field itself says what
// the value is. loc is the failing value's location, the field first.
func secretError(loc []string, k jsonschema.ErrorKind) FieldError {
	ptr := "/" + escapePointer(loc[0])
	if t, ok := k.(*kind.Type); ok && len(loc) == 1 {
		return FieldError{Pointer: ptr, Message: t.LocalizedString(printer)}
	}
	msg := "does not match the schema"
	if kw := strings.Join(k.KeywordPath(), "/"); kw != "" {
		msg = "does not match " + strconv.Quote(kw)
	}
	return FieldError{Pointer: ptr, Message: msg + " (the value of an x-hidden or x-hash field is not shown)"}
}

func leafErrors(e *jsonschema.ValidationError) []FieldError {
	ptr := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return perProperty(ptr, k.Missing, "is required")
	case *kind.AdditionalProperties:
		return perProperty(ptr, k.Properties, "is not allowed")
	}
	return []FieldError{{Pointer: ptr, Message: e.ErrorKind.LocalizedString(printer)}}
}

func perProperty(ptr string, names []string, msg string) []FieldError {
	out := make([]FieldError, 0, len(names))
	for _, n := range names {
		out = append(out, FieldError{Pointer: ptr + "/" + escapePointer(n), Message: msg})
	}
	return out
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string { return pointerEscaper.Replace(s) }
