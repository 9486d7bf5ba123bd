// Package bus is MiniMi's NATS connection: an embedded nats-server by
// default, an external server or cluster with a URL, or nothing at all.
//
// # Modes
//
// Start with Options.Enabled false returns a Bus whose Conn is nil; callers
// skip everything that needs NATS (the event log still works). With a URL,
// Start connects to that server or cluster and keeps reconnecting forever;
// it succeeds even while the server is down, and publishes made meanwhile
// are buffered by the client up to its reconnect buffer. Without a URL, Start
// runs nats-server in-process, bound to 127.0.0.1, and connects to it
// in-process (no TCP hop); other processes reach it at ClientURL.
//
// # The embedded server
//
// It always runs with NoSigs, so that it never traps SIGINT or SIGTERM (which
// would make it exit the process). Its logs go through a small adapter to the
// Options.Logger: notice is info, warn is warn, error and fatal are error,
// debug is debug and trace is below debug. A nil Logger turns its logging off.
// StoreDir turns JetStream on, with its streams stored there.
//
// # Shutdown
//
// Close flushes and closes the connection first, then shuts the embedded
// server down and waits for it. It is safe to call twice.
package bus
