package stash

import (
	"crypto/rand"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/minimi-go/minimi/internal/auth"
)

// input copies a caller's record as JSON would decode it, drops the fields
// the stash keeps, and rejects other fields starting with "_" and strings or
// field names that are not UTF-8.
func input(c *Collection, rec Record) (map[string]any, error) {
	v, err := normalize(map[string]any(rec))
	if err != nil {
		return nil, &ValidationError{Collection: c.path, Fields: []FieldError{{Message: "record is not JSON: " + err.Error()}}}
	}
	in, _ := v.(map[string]any)
	if in == nil {
		in = map[string]any{}
	}
	var errs []FieldError
	if !allUTF8(map[string]any(rec)) { // before normalize, which would replace the bytes
		errs = notUTF8("", map[string]any(rec), nil)
	}
	for k := range in {
		switch {
		case k == FieldVersion || k == FieldCreated || k == FieldUpdated:
			delete(in, k)
		case strings.HasPrefix(k, "_"):
			errs = append(errs, FieldError{Pointer: "/" + escapePointer(k), Message: "is reserved: fields starting with _ belong to the stash"})
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Pointer < errs[j].Pointer })
		return nil, &ValidationError{Collection: c.path, Fields: errs}
	}
	return in, nil
}

// allUTF8 says whether every string and field name in v is UTF-8, without
// building the pointers notUTF8 names them by.
func allUTF8(v any) bool {
	switch x := v.(type) {
	case string:
		return utf8.ValidString(x)
	case Record:
		return allUTF8(map[string]any(x))
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !allUTF8(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !allUTF8(e) {
				return false
			}
		}
	}
	return true
}

// notUTF8 appends an error for each string and field name in v, at pointer
// ptr, that is not UTF-8. JSON holds none: encoding one would store U+FFFD in
// place of its bad bytes, after the schema, the unique check and the index
// saw the bytes, and two names would become one.
func notUTF8(ptr string, v any, errs []FieldError) []FieldError {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			errs = append(errs, FieldError{Pointer: ptr, Message: "must be valid UTF-8"})
		}
	case Record:
		return notUTF8(ptr, map[string]any(x), errs)
	case map[string]any:
		for k, e := range x {
			p := ptr + "/" + escapePointer(k)
			if !utf8.ValidString(k) {
				errs = append(errs, FieldError{Pointer: p, Message: "the field name must be valid UTF-8"})
				continue
			}
			errs = notUTF8(p, e, errs)
		}
	case []any:
		for i, e := range x {
			errs = notUTF8(ptr+"/"+strconv.Itoa(i), e, errs)
		}
	}
	return errs
}

// takeID removes "id" from in and returns the record's id for the write op:
// want for a put or a patch (a different "id" in the record is an error),
// else the record's, else a new one. A create or a put also refuses an id
// that no URL can carry (checkRoutable) unless the collection takes any id;
// a patch does not, so that a record stored under such an id before stays
// writable.
func takeID(c *Collection, in map[string]any, want, op string) (string, error) {
	fixed := op != OpCreate
	v, given := in[FieldID]
	delete(in, FieldID)
	id, isString := v.(string)
	invalid := func(msg string) error {
		return &ValidationError{Collection: c.path, Fields: []FieldError{{Pointer: "/id", Message: msg}}}
	}
	switch {
	case given && !isString:
		return "", invalid("must be a string")
	case fixed && given && id != want:
		return "", invalid(fmt.Sprintf("is %q but the call names %q", id, want))
	case fixed:
		id = want
	case !given:
		return NewID()
	}
	if err := checkID(id); err != nil {
		return "", invalid(err.Error())
	}
	if op != OpPatch && !c.anyID {
		if err := checkRoutable(id); err != nil {
			return "", invalid(err.Error())
		}
	}
	return id, nil
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// newID returns a ULID: 26 characters that sort by creation time.
func NewID() (string, error) {
	idMu.Lock()
	defer idMu.Unlock()
	id, err := ulid.New(ulid.Now(), idEntropy)
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return id.String(), nil
}

// userFields returns a copy of rec without id and the stash's _ fields.
func userFields(rec Record) map[string]any {
	out := cloneMap(rec)
	for _, k := range []string{FieldID, FieldVersion, FieldCreated, FieldUpdated} {
		delete(out, k)
	}
	return out
}

// touchedHashes returns the x-hash fields that in writes with a new value:
// present, not null, and not the hash already stored in cur. A value stored
// in plain (before the schema said x-hash) that in writes again is new: only
// a stored hash is kept as it is.
func touchedHashes(c *Collection, in map[string]any, cur Record) map[string]bool {
	sc := c.Schema()
	if sc == nil || len(sc.hash) == 0 {
		return nil
	}
	out := map[string]bool{}
	for f := range sc.hash {
		v, ok := in[f]
		if !ok || v == nil {
			continue
		}
		if s, isString := v.(string); isString && cur != nil && cur[f] == s && auth.IsHash(s) {
			continue
		}
		out[f] = true
	}
	return out
}

// prepare applies the schema to fields, the record id's other fields, in
// place: x-lowercase folds, the schema validates (with the plain value of
// touched x-hash fields, without the stored values of untouched ones, and
// with the id if the schema names it), then touched x-hash fields are
// replaced by their hash, and so are untouched ones that hold a string that
// is not a hash: a value stored before the schema said x-hash, which a
// write hashes as it stands, unvalidated, and never keeps in plain.
func prepare(c *Collection, id string, fields map[string]any, touched map[string]bool) error {
	sc := c.Schema()
	if sc == nil {
		return nil
	}
	skip := map[string]bool{}
	var inPlain []string // untouched x-hash fields stored in plain
	for f := range sc.hash {
		v, ok := fields[f]
		if !ok || touched[f] {
			continue
		}
		skip[f] = true
		if s, isString := v.(string); isString && !auth.IsHash(s) {
			inPlain = append(inPlain, f)
		}
	}
	for f := range sc.lower {
		if s, ok := fields[f].(string); ok && !skip[f] {
			fields[f] = strings.ToLower(s)
		}
	}
	if sc.namesID {
		fields[FieldID] = id
	}
	errs := sc.validate(fields, skip)
	delete(fields, FieldID)
	errs = append(errs, hashTypeErrors(fields, touched, errs)...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Pointer < errs[j].Pointer })
		return &ValidationError{Collection: c.path, Fields: errs}
	}
	for f := range touched {
		if err := hashField(fields, f); err != nil {
			return err
		}
	}
	for _, f := range inPlain {
		if err := hashField(fields, f); err != nil {
			return err
		}
	}
	return nil
}

// hashField replaces the string fields[f] by its hash.
func hashField(fields map[string]any, f string) error {
	h, err := auth.Hash(fields[f].(string))
	if err != nil {
		return fmt.Errorf("hash %s: %w", f, err)
	}
	fields[f] = h
	return nil
}

// maxIndexValue bounds the encoded size of an indexed value (bbolt keys are
// at most 32 KiB).
const maxIndexValue = 2048

// checkIndexable rejects indexed values too large for an index key.
func checkIndexable(c *Collection, fields map[string]any) error {
	var errs []FieldError
	for _, f := range c.indexOrder {
		if v := fields[f]; v != nil && len(encodeValue(v)) > maxIndexValue {
			errs = append(errs, FieldError{Pointer: "/" + escapePointer(f),
				Message: fmt.Sprintf("is too large to index (over %d bytes)", maxIndexValue)})
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Collection: c.path, Fields: errs}
	}
	return nil
}

// hashTypeErrors reports touched x-hash fields that are not strings, unless
// the schema already reported them.
func hashTypeErrors(fields map[string]any, touched map[string]bool, have []FieldError) []FieldError {
	var out []FieldError
	for f := range touched {
		if _, ok := fields[f].(string); ok {
			continue
		}
		ptr := "/" + escapePointer(f)
		reported := false
		for _, e := range have {
			reported = reported || e.Pointer == ptr
		}
		if !reported {
			out = append(out, FieldError{Pointer: ptr, Message: "must be a string to be hashed"})
		}
	}
	return out
}
