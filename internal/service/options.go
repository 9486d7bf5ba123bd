package service

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
)

// DefaultQueueGroup is the queue group of every service's endpoints when
// Options.QueueGroup is empty.
const DefaultQueueGroup = "minimi"

// DefaultMaxInFlight bounds the requests one service runs at once when
// Options.MaxInFlight is zero.
const DefaultMaxInFlight = 256

// DefaultVersion is the version registered when Options.Version is not
// semantic (a development build).
const DefaultVersion = "0.0.0-dev"

// Options configures New.
type Options struct {
	// Name is the service name (config "name"), made safe with Name; ""
	// means DefaultName.
	Name string
	// Version is the version of the binary; a leading "v" is dropped, and a
	// version that is not semantic is registered as DefaultVersion (the
	// original goes in the metadata as "minimi_version").
	Version string
	// Description is shown by $SRV.INFO; "" means none.
	Description string
	// Handler answers every request, as it answers HTTP (a *server.Server).
	// Required.
	Handler http.Handler
	// Routes are the URLs to register as endpoints (a *phases.Engine).
	// Required; Update replaces them.
	Routes Routes
	// QueueGroup is the queue group of the endpoints, shared by every
	// instance of every service; "" means DefaultQueueGroup.
	QueueGroup string
	// MaxInFlight bounds the requests run at once; past it, NATS holds
	// further messages back. Zero means DefaultMaxInFlight.
	MaxInFlight int
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultOptions returns options with the default name, queue group and
// bound on requests in flight; Handler and Routes are still to be set.
func DefaultOptions() Options {
	return Options{Name: DefaultName, QueueGroup: DefaultQueueGroup, MaxInFlight: DefaultMaxInFlight}
}

// Validate reports the first problem with o.
func (o Options) Validate() error {
	switch {
	case o.Handler == nil:
		return fmt.Errorf("%w: no handler", ErrInvalidOptions)
	case o.Routes == nil:
		return fmt.Errorf("%w: no routes", ErrInvalidOptions)
	case o.MaxInFlight < 0:
		return fmt.Errorf("%w: max in flight %d is negative", ErrInvalidOptions, o.MaxInFlight)
	case o.QueueGroup != "" && strings.ContainsAny(o.QueueGroup, " \t\r\n*>"):
		return fmt.Errorf("%w: queue group %q", ErrInvalidOptions, o.QueueGroup)
	}
	return nil
}

// semVer is the form the NATS services API requires of a version.
var semVer = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// version returns the version to register for v.
func version(v string) string {
	if s := strings.TrimPrefix(v, "v"); semVer.MatchString(s) {
		return s
	}
	return DefaultVersion
}
