package access

import "errors"

var (
	// ErrBadOrigin is a whitelist entry that is not an origin (scheme://host[:port]).
	ErrBadOrigin = errors.New("bad origin")
	// ErrBadKeyHash is a client key_sha256 that is not 64 hex digits.
	ErrBadKeyHash = errors.New("bad key hash")
	// ErrBadCIDR is a client address range that does not parse.
	ErrBadCIDR = errors.New("bad cidr")
)
