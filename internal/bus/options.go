package bus

import (
	"fmt"
	"log/slog"
	"time"
)

// DefaultPort is the embedded server's port when Options.Port is zero.
const DefaultPort = 4222

// DefaultName names the server and the connection when Options.Name is empty.
const DefaultName = "minimi"

// DefaultReadyTimeout is how long Start waits for the embedded server when
// Options.ReadyTimeout is zero.
const DefaultReadyTimeout = 10 * time.Second

// Options configures Start.
type Options struct {
	// Enabled turns the bus on; false makes Start return a Bus without a
	// connection (Conn returns nil).
	Enabled bool
	// URL is an external NATS server or cluster (comma-separated URLs); ""
	// starts an embedded server on 127.0.0.1.
	URL string
	// Port is the embedded server's client port; zero means DefaultPort and
	// -1 a random free port. Ignored with URL.
	Port int
	// Name names the embedded server and the client connection; "" means DefaultName.
	Name string
	// StoreDir turns JetStream on in the embedded server, storing its
	// streams there; "" leaves JetStream off. Ignored with URL.
	StoreDir string
	// ReadyTimeout bounds the wait for the embedded server to accept
	// connections; zero means DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Logger receives the bus's and the embedded server's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultOptions returns an enabled bus with an embedded server on DefaultPort.
func DefaultOptions() Options {
	return Options{Enabled: true, Port: DefaultPort, Name: DefaultName, ReadyTimeout: DefaultReadyTimeout}
}

// Validate reports the first problem with o.
func (o Options) Validate() error {
	if o.Port < -1 || o.Port > 65535 {
		return fmt.Errorf("%w: port %d is not -1 or 0..65535", ErrInvalidOptions, o.Port)
	}
	if o.ReadyTimeout < 0 {
		return fmt.Errorf("%w: ready timeout %v is negative", ErrInvalidOptions, o.ReadyTimeout)
	}
	return nil
}
