package auth

import "errors"

var (
	// ErrMalformed is a stored hash that is not a PHC argon2id string within the limits.
	ErrMalformed = errors.New("malformed password hash")
	// ErrNoSecret is a token operation without a secret to sign with.
	ErrNoSecret = errors.New("no token secret")
	// ErrWeakSecret is a token secret shorter than MinSecretBytes.
	ErrWeakSecret = errors.New("token secret too short")
	// ErrBadTTL is a token lifetime that is not positive.
	ErrBadTTL = errors.New("token lifetime must be positive")
	// ErrTokenExpired is a token past its "exp" time.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenInvalid is a token that is malformed, badly signed, signed with
	// another algorithm, or lacks "exp".
	ErrTokenInvalid = errors.New("token invalid")
)
