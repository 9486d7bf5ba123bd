package bus

import "errors"

var (
	// ErrInvalidOptions is an Options value that fails Validate.
	ErrInvalidOptions = errors.New("invalid bus options")
	// ErrNotReady is an embedded server that did not accept connections in time.
	ErrNotReady = errors.New("embedded nats server is not ready")
	// ErrPortInUse is an embedded server's port that another process holds.
	ErrPortInUse = errors.New("the embedded nats server's port is in use")
)
