package stash

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/minimi-go/minimi/internal/jsontext"
)

// Record is one JSON object of a collection. Numbers are float64, except
// _version, which is an int.
type Record map[string]any

// Fields the stash keeps on every record.
const (
	FieldID      = "id"
	FieldVersion = "_version"
	FieldCreated = "_created"
	FieldUpdated = "_updated"
)

// TimeLayout is the format of _created and _updated: RFC 3339 in UTC with
// milliseconds, so that the strings sort in time order.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// maxIDLen bounds the length of a record id in bytes.
const maxIDLen = 256

// Values of the records bucket are an 8-byte big-endian version followed by
// the record's JSON, so that checking a version needs no decoding.

func encodeStored(version int, rec map[string]any) ([]byte, error) {
	out := make([]byte, 8, 256)
	binary.BigEndian.PutUint64(out, uint64(version))
	return jsontext.AppendValue(out, rec)
}

func storedVersion(raw []byte) int {
	if len(raw) < 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(raw))
}

func decodeStored(raw []byte) (Record, error) {
	if len(raw) < 8 {
		return nil, errors.New("stored record is truncated")
	}
	var rec Record
	if err := json.Unmarshal(raw[8:], &rec); err != nil {
		return nil, fmt.Errorf("decode stored record: %w", err)
	}
	if rec == nil {
		return nil, errors.New("stored record is not a JSON object")
	}
	rec[FieldVersion] = storedVersion(raw)
	return rec, nil
}

// now is the time stamp of a write.
func now() string { return time.Now().UTC().Format(TimeLayout) }

// checkID reports whether id can name a record: 1 to 256 bytes of UTF-8
// without control characters.
func checkID(id string) error {
	if id == "" {
		return errors.New("must not be empty")
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("must be at most %d bytes", maxIDLen)
	}
	if !utf8.ValidString(id) {
		return errors.New("must be valid UTF-8")
	}
	if strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters")
	}
	return nil
}

// checkRoutable reports whether a URL can carry id to a [id] or [...name]
// parameter: split at "/", it has no "." or ".." segment and no empty one
// (a leading, trailing or doubled "/"). Clients and the router resolve such
// segments when plain and the router refuses them when escaped (%2E, %2F),
// so no request could name a record under such an id. "a/b" is fine: a
// catch-all carries it, and a [id] parameter does as a%2Fb.
func checkRoutable(id string) error {
	if !strings.ContainsAny(id, "./") {
		return nil
	}
	for seg := range strings.SplitSeq(id, "/") {
		switch seg {
		case ".", "..":
			if seg == id {
				return fmt.Errorf("must not be %q: no URL can carry it", id)
			}
			return fmt.Errorf("must not hold the segment %q: no URL can carry it", seg)
		case "":
			return errors.New("must not start or end with / or hold //: no URL can carry it")
		}
	}
	return nil
}

// intOf reads a JSON number that holds an integer.
func intOf(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	}
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// normalize returns a deep copy of v as encoding/json would decode it
// (numbers become float64), or an error if v is not JSON.
func normalize(v any) (any, error) {
	if plainJSON(v, 0) {
		return cloneValue(v), nil // already what a JSON round trip gives
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// plainJSON reports whether v holds only the types encoding/json decodes into
// (and no NaN or infinity), so that normalizing it is a deep copy. A nested
// Record is not plain: JSON turns it into a map[string]any.
func plainJSON(v any, depth int) bool {
	if depth > maxPlainDepth {
		return false
	}
	switch x := v.(type) {
	case nil, bool, string:
		return true
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case map[string]any:
		for _, e := range x {
			if !plainJSON(e, depth+1) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !plainJSON(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// maxPlainDepth bounds plainJSON's recursion; deeper values take the JSON path.
const maxPlainDepth = 64

// cloneValue deep-copies a decoded JSON value.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case Record:
		return Record(cloneMap(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// mergePatch applies an RFC 7386 JSON merge patch to target in place: null
// removes a field, an object merges into an object, anything else replaces.
func mergePatch(target, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			tv, ok := target[k].(map[string]any)
			if !ok {
				tv = map[string]any{}
			}
			mergePatch(tv, pv)
			target[k] = tv
		default:
			target[k] = v
		}
	}
}
