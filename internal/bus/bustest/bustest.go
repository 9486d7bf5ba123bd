// Package bustest starts real NATS servers for tests: embedded nats-server
// instances on 127.0.0.1 and a random port, shut down at the test's end.
package bustest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options returns the options Server uses: a random port, no logs, no
// signal handling (nats-server would otherwise trap SIGINT and exit), and a
// store directory under t.TempDir().
func Options(t testing.TB) *server.Options {
	return &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, StoreDir: t.TempDir()}
}

// Server starts a nats-server with opts (nil: Options(t)) and waits until it
// accepts connections; t.Cleanup shuts it down.
func Server(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	if opts == nil {
		opts = Options(t)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats NewServer()=%v", err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	return ns
}

// Conn connects to ns; t.Cleanup closes the connection.
func Conn(t testing.TB, ns *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("nats Connect()=%v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}
