// Package metrics is a service's Prometheus metrics, served at
// /_minimi/metrics from a private registry (never the global one).
//
// # What is measured
//
// Requests are counted by route, method and status, and timed by route and
// method (Requests). The pipeline reports how long each phase ran and why
// scripts failed through phases.Observer, which Metrics implements (Route).
// The event log, the outbox and the NATS connection are read at scrape time
// by collectors (NewLogCollector, NewOutboxCollector, NewNATSCollector):
// nothing is added to the commit path. The Go runtime and process collectors
// are always registered.
//
// # Cardinality
//
// The route label is a URL in MiniMi notation ("/notes/[id]"), never a raw
// path; a URL that no folder serves is NotFoundRoute. Methods outside the
// standard ones are counted as "OTHER". So the number of series is bounded
// by the endpoints tree, not by what clients send. Series appear on first use
// and stay until the process ends, also for routes a reload removed.
//
// # Cost on the hot path
//
// A handler resolves its Requests once, when it is built; the engine
// resolves each route's observer once, when it loads. A request then finds
// its series by scanning the few it has already seen (a method index, then
// a short list of statuses) and updates them with atomic operations: no
// label hashing, no map lookup and no allocation once a series exists. The
// latency histograms spread each series over a few stripes of counters and
// add them up at scrape time, so that the cores of a busy server do not take
// turns owning the same counters.
package metrics
