package stash

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ParseStore parses a <folder>.stash.json file: {"driver": "bbolt", "file":
// "notes.db"} or {"driver": "memory"}. Errors are *PathError naming file. The
// returned spec has no Name: the caller sets it to the folder's URL.
func ParseStore(file string, data []byte) (StoreSpec, error) {
	var raw struct {
		Driver string `json:"driver"`
		File   string `json:"file"`
	}
	if err := decodeStrict(data, &raw); err != nil {
		return StoreSpec{}, &PathError{Op: "parse", Path: file, Err: fmt.Errorf("%w: %w", ErrInvalidStore, err)}
	}
	sp := StoreSpec{Driver: raw.Driver, File: raw.File}
	if err := sp.Validate(); err != nil {
		return StoreSpec{}, &PathError{Op: "parse", Path: file, Err: err}
	}
	return sp, nil
}

// decodeStrict decodes one JSON object into v; unknown keys and trailing
// data are errors, and syntax errors give line:column.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		line, col := lineCol(data, off)
		return fmt.Errorf("line %d:%d: unexpected data after the JSON object", line, col)
	}
	return nil
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
