package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/minimi-go/minimi/internal/config"
)

// reconnectWait is the pause between reconnect attempts to a NATS server.
const reconnectWait = 500 * time.Millisecond

// Bus is the service's NATS connection and, without Options.URL, the
// embedded server it connects to.
type Bus struct {
	nc        *nats.Conn     // nil when the bus is disabled
	ns        *server.Server // nil unless embedded
	url       string
	log       *slog.Logger
	closeOnce sync.Once
}

// Start starts the bus: an embedded nats-server on 127.0.0.1 and an
// in-process connection to it, or a connection to Options.URL that
// reconnects forever (Start succeeds even while that server is down). With
// Enabled false it returns a Bus whose Conn is nil.
func Start(opts Options) (*Bus, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	b := &Bus{log: lg.With(logKeyComponent, "bus")}
	if !opts.Enabled {
		return b, nil
	}
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.URL != "" {
		return b, b.connect(opts.URL, opts.Name)
	}
	if err := b.embed(opts); err != nil {
		return nil, err
	}
	return b, nil
}

// portFree fails at once if another process holds port: nats-server would
// only log that and never become ready. The check and the server's own
// listen are not atomic; a port taken between them still ends in ErrNotReady.
func portFree(host string, port int) error {
	if port < 0 { // nats-server picks a free one
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%w: %w (another MiniMi service or a NATS server?): give this service another "+
			"nats.port (MINIMI_NATS_PORT, -1 for any free port), join that server with nats.url, or set nats.enabled false",
			ErrPortInUse, err)
	}
	return ln.Close()
}

// EmbeddedMaxPayload is the largest message the embedded server takes: the
// most nats-server recommends, eight times its default, so that events and
// replies of a few MiB go whole.
const EmbeddedMaxPayload = 8 << 20

// embed starts the embedded server and connects to it in-process.
func (b *Bus) embed(opts Options) error {
	port := opts.Port
	if port == 0 {
		port = DefaultPort
	}
	ready := opts.ReadyTimeout
	if ready == 0 {
		ready = DefaultReadyTimeout
	}
	so := &server.Options{
		ServerName: opts.Name,
		Host:       "127.0.0.1",
		Port:       port,
		NoSigs:     true,
		NoLog:      opts.Logger == nil,
		JetStream:  opts.StoreDir != "",
		StoreDir:   opts.StoreDir,
		MaxPayload: EmbeddedMaxPayload,
	}
	if err := portFree(so.Host, port); err != nil {
		return err
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return fmt.Errorf("start embedded nats server: %w", err)
	}
	if opts.Logger != nil {
		debug := opts.Logger.Enabled(context.Background(), slog.LevelDebug)
		ns.SetLoggerV2(slogAdapter{l: b.log.With("server", opts.Name)}, debug, false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(ready) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("%w after %v on port %d", ErrNotReady, ready, port)
	}
	b.ns, b.url = ns, ns.ClientURL()
	nc, err := nats.Connect(b.url, append(b.connOptions(opts.Name), nats.InProcessServer(ns))...)
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("connect to embedded nats server: %w", err)
	}
	b.nc = nc
	b.log.Info("embedded nats server started", logKeyURL, b.url)
	return nil
}

// connect connects to an external server or cluster.
func (b *Bus) connect(url, name string) error {
	opts := append(b.connOptions(name), nats.RetryOnFailedConnect(true))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if strings.Contains(err.Error(), "@") { // a parse error quotes the URL
			err = errors.New(config.RedactURLs(err.Error()))
		}
		return fmt.Errorf("connect to nats %s: %w", config.RedactURLs(url), err)
	}
	if !nc.IsConnected() { // the connected line follows once it is
		b.log.Warn("nats not reachable; connecting in the background", logKeyURL, config.RedactURLs(url))
	}
	b.nc, b.url = nc, url
	return nil
}

// connOptions reconnect forever and log the connection's changes.
func (b *Bus) connOptions(name string) []nats.Option {
	return []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", logKeyError, err)
			}
		}),
		// An error the server reports on its own (a publish or a
		// subscription its permissions refuse, a slow consumer) is a log
		// line like any other: nats.go would write it to stderr as text.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				b.log.Warn("nats error", logKeyError, err, "subscription", sub.Subject)
				return
			}
			b.log.Warn("nats error", logKeyError, err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", logKeyURL, config.RedactURLs(nc.ConnectedUrl()))
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats connected", logKeyURL, config.RedactURLs(nc.ConnectedUrl()))
		}),
	}
}

// Conn returns the connection, or nil when the bus is disabled.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// ClientURL returns the URL clients use to reach the bus: the embedded
// server's client URL, Options.URL, or "" when the bus is disabled.
func (b *Bus) ClientURL() string { return b.url }

// ClientURLRedacted is ClientURL with the password or token of each URL
// written as xxxxx, for the log.
func (b *Bus) ClientURLRedacted() string { return config.RedactURLs(b.url) }

// Close flushes and closes the connection, then shuts the embedded server
// down and waits for it. It is safe to call more than once.
func (b *Bus) Close() {
	b.closeOnce.Do(func() {
		if b.nc != nil {
			if b.nc.IsConnected() {
				_ = b.nc.FlushTimeout(time.Second)
			}
			b.nc.Close()
		}
		if b.ns != nil {
			b.ns.Shutdown()
			b.ns.WaitForShutdown()
		}
	})
}
