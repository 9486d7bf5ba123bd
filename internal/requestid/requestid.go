// Package requestid makes and checks the ids that name requests in replies,
// problems and log lines (the X-Request-Id header), whether a request came
// over HTTP or over the bus.
package requestid

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// Header is the header of request ids, in canonical form.
const Header = "X-Request-Id"

// prefix and seq make ids: unique per process run, cheap to make.
var (
	prefix = func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}()
	seq atomic.Uint64
)

// Append appends a new id to b: 12 hex digits of the process, '-', and a
// number that grows with each id.
func Append(b []byte) []byte {
	b = append(append(b, prefix...), '-')
	return strconv.AppendUint(b, seq.Add(1), 10)
}

// New returns a new id.
func New() string {
	var buf [48]byte // 12 hex digits, '-', up to 20 digits: on the stack
	return string(Append(buf[:0]))
}

// Sane reports whether a client's id can be used as is: 1 to 128 printable
// ASCII characters, no space.
func Sane(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// From returns the first of ids if it is sane, else a new id.
func From(ids []string) string {
	if len(ids) > 0 && Sane(ids[0]) {
		return ids[0]
	}
	return New()
}
