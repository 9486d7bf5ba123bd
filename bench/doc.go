// Command bench is MiniMi's load harness. It starts each subject as its own
// process on 127.0.0.1, drives them in turn with the same closed-loop HTTP
// load, round by round, and prints a markdown report.
//
// # Usage
//
// Run it from the module's directory; it takes a few minutes:
//
//	go run ./bench [-duration 6s] [-warmup 2s] [-rounds 5] [-conns 64]
//	               [-only a,b,c,d,e,w,folders,idle,replay] [-load auto|wrk|go]
//	               [-threads N] [-nice N] [-work 4µs] [-tags nofsync] [-out file.md]
//
// # Subjects
//
//   - (a) a plain chi handler writing JSON: the baseline;
//   - (b) MiniMi, a trivial three-phase GET (bench/services/threephase);
//   - (c) MiniMi, a GET that reads one seeded record (bench/services/notes);
//   - (d) MiniMi, a durable POST that creates a record (fsynced, group commit);
//   - (e) a bbolt reference: one Update, so one fsync, per request;
//   - (w) a control, run only when -only names it: (a) spending -work of CPU
//     in a busy loop on each request, to tell what any handler that costs as
//     much as MiniMi's sees on the machine. It has no target.
//
// (a), (e) and (w) are this same binary re-run with a hidden first argument, so
// that every subject is a separate process measured the same way. MiniMi is
// the real `minimi serve`, built from ./cmd/minimi for the run, with NATS
// off, a fresh data directory and its log in a file.
//
// Besides the load, the harness times how long `minimi serve` takes to
// serve a generated tree of 1,000 folders ("folders") and reads the resident
// set size of `minimi serve` idling on the example service ("idle").
//
// # Load
//
// With wrk on PATH the load comes from wrk (threads = cores, or -threads);
// otherwise from the built-in generator: one goroutine per connection, each
// with its own keep-alive connection, sending the next request as soon as
// the previous reply is read, with a log-linear latency histogram for p50 and p99. Every
// round has a warm-up whose requests are not counted. Only 2xx replies count
// as requests per second; anything else is an error. Peak RSS is VmHWM of
// the server process from /proc after the last round. The report shows the
// median of the rounds; with two rounds or more it ends with every round's
// req/s and the ratios (b) ÷ (a), (c) ÷ (a) and (d) ÷ (e) round by round.
//
// # Limits
//
// The harness sends traffic to 127.0.0.1 only, and every loop in it stops by
// itself: load runs end at their deadline, polling ends after a minute, and a
// server that ignores SIGTERM is killed after 15 seconds. Its temporary
// files live under $TMPDIR and are removed at the end; put $TMPDIR on a real
// disk, or the fsync subjects measure nothing.
package main
