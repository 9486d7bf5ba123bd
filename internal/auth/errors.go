package auth

import "errors"

// ErrMalformed is a stored hash that is not a PHC argon2id string within the limits.
var ErrMalformed = errors.New("malformed password hash")
