package metrics

import "errors"

// ErrInvalidOptions is an Options value that fails Validate.
var ErrInvalidOptions = errors.New("invalid metrics options")
