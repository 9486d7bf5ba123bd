package eventsource

import "errors"

var (
	// ErrClosed is a call on a closed Log, or a subscription of one.
	ErrClosed = errors.New("event log is closed")
	// ErrNotCommand is a Commit whose status is not a success (100..399):
	// such a request writes nothing and is not logged.
	ErrNotCommand = errors.New("not a command")
	// ErrBadEvent is an event record that cannot be decoded.
	ErrBadEvent = errors.New("malformed event")
	// ErrInvalidOptions is an Options or OutboxOptions value that fails Validate.
	ErrInvalidOptions = errors.New("invalid options")
	// ErrSubscriptionClosed is a call on a closed Subscription.
	ErrSubscriptionClosed = errors.New("subscription is closed")
	// ErrOutboxRunning is a second Run of the same Outbox.
	ErrOutboxRunning = errors.New("outbox is already running")
)
