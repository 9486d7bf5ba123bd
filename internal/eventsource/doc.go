// Package eventsource is MiniMi's event log: every command (a request that
// is not a GET or HEAD and succeeds) is committed as one event, atomically
// with its stash writes, in a durable, gap-free, ordered log. The log is the
// source of truth: stores catch up from it, `minimi replay` rebuilds them
// from it, an outbox broadcasts it on NATS, and subscribers (the SSE stream
// at /_minimi/events) read it from any seq on.
//
// # The log's layout
//
// The log lives in the default store (data_dir/minimi.db), in two top-level
// buckets beside the stash's own:
//
//	events       seq (8 bytes, big-endian) -> the event's JSON
//	events_meta  "touched:<collection>"    -> seq of the last event that changed it
//	             "outbox:<name>"           -> seq of the last event that outbox sent
//
// Keys are sequential, so every append goes to the right edge of the
// B+tree; the bucket is filled to 100% (FillPercent 1.0) instead of bbolt's
// default half-full splits. An event's JSON is
//
//	{"seq":7,"id":"01J…","time":"2025-01-02T03:04:05.123456789Z","service":"notes",
//	 "command":{"method":"POST","path":"/notes","route":"/notes","params":{…},
//	            "client":"web","request_id":"…","body":…},
//	 "status":201,"changes":[{"op":"create","stash":"/notes","id":"…","version":1,"base":0,"record":{…}}],
//	 "events":[{"type":"note.created","data":{…}}]}
//
// The id is a ULID; body is there only when the endpoint logs bodies.
//
// # The commit round
//
// One goroutine, the committer, owns the stash's writer. Commit encodes the
// command's part of its event on the caller's goroutine, queues it and
// waits. Each round takes everything queued, begins one stash.Writer and,
// for each command in turn, applies its changes at the next seq and appends
// its event in the same transaction; commands that queue while it does so
// join the round, up to Options.MaxBatch. A command whose Apply fails (a
// conflict: stash.ErrConflict) gets that error, writes nothing and consumes
// no seq, so seqs stay gap-free. The round then commits once: one fsync of
// the default store for the whole group, then the other stores it wrote
// to. Only then are the waiters released and the events handed to
// subscribers. The committer yields once before the next round, so that
// the released requests can queue again; there is no timer, so a lone
// command commits at once and a burst shares rounds.
//
// A command whose context ends before its round takes it is withdrawn;
// once taken, its result stands. Close stops taking commands, commits those
// already queued, and stops the committer.
//
// # Catching up and rebuilding
//
// Every store records the seq of the last event applied to it, and the log
// records for each collection the seq of the last event that changed it.
// Open compares the two: a store behind one of its collections (a crash
// between the default store's commit and its own, a file restored from an
// older copy, a memory store after a restart) gets the missing events
// through stash.Writer.Replay, which skips per store what was already
// applied, so nothing is applied twice. Rebuild (`minimi replay`) empties
// every store and replays the whole log.
//
// # Subscriptions and the SSE stream
//
// A Subscription is a cursor on the log: it reads the backlog after a seq,
// then waits for new events. Because it follows seqs rather than a channel,
// it never misses or repeats an event at the seam between backlog and live.
// The newest events (Options.Recent) are kept in memory; a subscriber that
// falls further behind reads the log from disk, so a slow subscriber costs
// the committer nothing and is never dropped. SSE serves a subscription as
// Server-Sent Events (id: seq, event: minimi, data: the event's JSON),
// honours Last-Event-ID, and sends a heartbeat comment while idle.
//
// # The outbox's guarantees
//
// An Outbox publishes each event, in seq order, to
// minimi.events.<service>.<path segments…> (see Subject) with the headers
// Nats-Msg-Id (the event id) and Minimi-Seq. It advances its cursor only
// after the server confirmed a batch (a flush), and stores the cursor with
// the next commit round (or on its own after a second of quiet, and at
// Close), so delivery is at least once: after an outage, a restart or a
// crash it resumes from the stored cursor and may send the last events
// again. Consumers de-duplicate on Nats-Msg-Id (JetStream streams do it
// within their duplicate window) or drop a Minimi-Seq they have seen.
// While NATS is down, commands keep committing and the outbox's Lag grows.
//
// # Caveats
//
//   - While a Log is open it is the only writer of its stash.Set: do not
//     call Set.Commit or Set.Begin beside it.
//   - Events are shared by the committer, subscribers and the cache: never
//     modify one. A live event holds the values given to Commit, one read
//     from disk holds decoded JSON; Event.JSON is the same for both.
//   - If a store other than the default one fails to commit after the log
//     did, the commands still succeed (their events are durable); the store
//     refuses further changes until the service restarts and Open catches
//     it up.
//   - Moving a collection to another store (editing a stash file) is not
//     caught up automatically: run `minimi replay`.
//   - An event NATS refuses for good (larger than the server's
//     max_payload) is logged and skipped by the outbox, not retried forever.
//   - Delivery on NATS is at least once, never exactly once.
package eventsource
