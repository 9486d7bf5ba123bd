package stash

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// ParseStore parses a <folder>.stash.json file: {"driver": "bbolt", "file":
// "notes.db"} or {"driver": "memory"}. Errors are *PathError naming file. The
// returned spec has no Name: the caller sets it to the folder's URL.
func ParseStore(file string, data []byte) (StoreSpec, error) {
	var raw struct {
		Driver string `json:"driver"`
		File   string `json:"file"`
	}
	if err := decodeStrict(data, &raw, "driver", "file"); err != nil {
		return StoreSpec{}, &PathError{Op: "parse", Path: file, Err: fmt.Errorf("%w: %w", ErrInvalidStore, err)}
	}
	sp := StoreSpec{Driver: raw.Driver, File: raw.File}
	if err := sp.Validate(); err != nil {
		return StoreSpec{}, &PathError{Op: "parse", Path: file, Err: err}
	}
	return sp, nil
}

// decodeStrict decodes one JSON object into v, whose keys are keys; an
// unknown key (named, with the keys v takes) and trailing data are errors,
// and syntax errors give line:column.
func decodeStrict(data []byte, v any, keys ...string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if k := unknownKey(data, keys); k != "" {
			return fmt.Errorf("%w %q (want %s)", ErrUnknownKey, k, orList(keys))
		}
		return jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		line, col := lineCol(data, off)
		return fmt.Errorf("line %d:%d: unexpected data after the JSON object", line, col)
	}
	return nil
}

// unknownKey returns a key of the JSON object in data that is none of keys
// (compared as encoding/json matches them, without case), or "" for none.
func unknownKey(data []byte, keys []string) string {
	for _, k := range objectKeys(data) {
		if !slices.ContainsFunc(keys, func(want string) bool { return strings.EqualFold(k, want) }) {
			return k
		}
	}
	return ""
}

// objectKeys returns the keys of the JSON object in data, sorted; none when
// data is no JSON object.
func objectKeys(data []byte) []string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(obj))
}

// orList writes names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// jsonError rewrites an encoding/json error with a line:column position.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(data, syn.Offset)
		return fmt.Errorf("line %d:%d: %s", line, col, syn.Error())
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		line, col := lineCol(data, typ.Offset)
		where := typ.Field
		if where == "" {
			return fmt.Errorf("line %d:%d: want a JSON object, not %s", line, col, typ.Value)
		}
		return fmt.Errorf("line %d:%d: key %q: %s does not fit %s", line, col, where, typ.Value, typ.Type)
	}
	if errors.Is(err, io.EOF) {
		return errors.New("empty file")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		line, col := lineCol(data, int64(len(data)))
		return fmt.Errorf("line %d:%d: unexpected end of JSON", line, col)
	}
	return err
}

// lineCol returns the 1-based line and column of the byte that ends the
// first off bytes of data (encoding/json reports errors that way).
func lineCol(data []byte, off int64) (int, int) {
	i := int(min(max(off-1, 0), int64(len(data))))
	before := data[:i]
	line := bytes.Count(before, []byte("\n")) + 1
	col := i - bytes.LastIndexByte(before, '\n')
	return line, col
}
