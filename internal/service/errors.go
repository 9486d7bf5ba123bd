package service

import "errors"

var (
	// ErrInvalidOptions is an Options value that fails Validate.
	ErrInvalidOptions = errors.New("invalid service options")
	// ErrBadPath is a path that cannot be sent over the bus: it does not
	// start with "/" or has an empty segment.
	ErrBadPath = errors.New("bad path")
	// ErrBadSubject is a subject that is not below the service's prefix or
	// holds a token that does not decode to a path segment.
	ErrBadSubject = errors.New("bad subject")
	// ErrBadEnvelope is a request or reply whose JSON envelope cannot be decoded.
	ErrBadEnvelope = errors.New("bad envelope")
	// ErrBusOff is a call made while the bus is off (nats.enabled false).
	ErrBusOff = errors.New("the bus is off")
	// ErrNoResponders is a request that no subscriber of its subject received:
	// the service is not running, or nothing listens on that subject.
	ErrNoResponders = errors.New("no responders")
	// ErrTimeout is a request whose reply did not come before its deadline.
	ErrTimeout = errors.New("no reply in time")
	// ErrClosed is an Update or a request on a service that was closed.
	ErrClosed = errors.New("service closed")
)
