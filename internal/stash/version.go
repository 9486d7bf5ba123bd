package stash

import (
	"fmt"
	"math"
	"strconv"
)

// maxVersion is the largest version a float64 holds exactly: a version
// given as a number (from Lua, from JSON) above it cannot be told apart
// from its neighbours.
const maxVersion = 1 << 53

// Version is the version a patch or a delete is based on. The zero Version
// checks nothing; any other one must equal the record's current version, or
// the write is a conflict.
type Version struct {
	n     int    // the version the record must be at, ≥ 1; 0 checks nothing
	given string // how the caller wrote a version no record can be at; set, it never matches
}

// AnyVersion checks nothing: the write applies to whatever version is current.
var AnyVersion = Version{}

// At is the Version n. An n below 1 is a version no record is at: it never
// matches.
func At(n int) Version {
	if n < 1 {
		return Version{given: strconv.Itoa(n)}
	}
	return Version{n: n}
}

// VersionOf is the Version of a number a caller gave (a script's argument):
// a finite integer from 1 to 2^53 is that version; any other number (0, -0,
// 1.5, NaN, an infinity, one too large to be exact) is a version no record
// is at, and never matches.
func VersionOf(f float64) Version {
	if f >= 1 && f <= maxVersion && f == math.Trunc(f) {
		return Version{n: int(f)}
	}
	return Version{given: formatNumber(f)}
}

// matches reports whether a record at version cur satisfies v.
func (v Version) matches(cur int) bool {
	return v == AnyVersion || v.given == "" && v.n == cur
}

// String is v as the caller gave it.
func (v Version) String() string {
	if v.given != "" {
		return v.given
	}
	if v.n == 0 {
		return "any"
	}
	return strconv.Itoa(v.n)
}

// check returns a conflict error unless the record id of c, at version cur,
// satisfies v; op is the write's name for the message.
func (v Version) check(c *Collection, id, op string, cur int) error {
	if v.matches(cur) {
		return nil
	}
	return &ConflictError{Collection: c.path, ID: id,
		Err: fmt.Errorf("%w: record is at version %d, the %s is based on %s", ErrConflict, cur, op, v)}
}

// formatNumber writes f for a message as JSON and JavaScript write it:
// integers below 1e21 without an exponent (the digits a float64 holds, so
// 2^63-1 reads 9223372036854776000, not an int64 overflow), other numbers
// as Go writes them (NaN, +Inf, 1.5, 1e+300).
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
