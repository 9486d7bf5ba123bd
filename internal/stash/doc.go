// Package stash keeps the record collections of a service: folder-scoped
// collections of JSON records, validated by JSON Schema, stored in bbolt
// files or in memory, and written through an optimistic, group-committed
// write path.
//
// # Collections and stores
//
// A collection is named by the URL of the folder whose <folder>.schema.json
// declares it ("/notes", "/users/[id]/posts", "/" for the root); ParseSchema
// reads that file. A store is where collections live: the default store ""
// is the bbolt file <data_dir>/minimi.db, which also holds the event log;
// a <folder>.stash.json (ParseStore) declares another store for a subtree,
// a bbolt file of its own or memory. Choosing the nearest store and
// collection for a request is the caller's job: Open takes the resulting
// lists in Options.
//
// # Records
//
// A record is a JSON object with an id (given, or a ULID that sorts by
// creation), _version (1 on the first write, +1 on each), _created and
// _updated (RFC 3339 UTC with milliseconds, see TimeLayout). Callers cannot
// set the _ fields: _version, _created and _updated in a written record are
// ignored (so a record read can be written back), and any other field
// starting with "_" is rejected. The schema validates the caller's fields
// only, not id and the _ fields. Numbers come back as float64, _version as int.
//
// An id is 1 to 256 bytes of UTF-8 without control characters. Create and
// Put also refuse one that no URL can carry to a [id] or [...name]
// parameter: split at "/", one with a "." or ".." segment or an empty one
// (".", "a//b", "/a"), unless the collection's spec sets AnyID. Get, List,
// Patch and Delete take such ids, for records stored before that rule.
//
// Transforms on top-level properties: x-lowercase folds a string before
// validation; x-hash validates the plain value written in this call, then
// stores its argon2id hash (package auth) - a stored hash is never
// re-validated, and writing back the stored hash keeps it, while a value
// stored in plain before the schema said x-hash is hashed by any write of
// its record (validated if the write sends it, as it stands if not), as
// only a value in the shape of a hash (auth.IsHash) is kept; x-hidden leaves
// the field out of every read and of the record a write returns, unless the
// read asks for Hidden. ParseSchema refuses these keywords wherever they
// would not apply: anywhere but on a top-level property, x-hash or
// x-lowercase on a property whose "type" is not "string", and a $ref that
// reuses a schema holding one.
//
// # The write path
//
// A Session is one request's view: reads see committed state plus the
// session's own pending writes; writes are transformed, validated (a
// *ValidationError lists every failing field), checked for unique values
// against that view, and recorded as Changes carrying the version they were
// based on. Nothing touches a store.
//
// A Writer is one group commit, driven by one goroutine (the event log's
// committer, or Set.Commit without a log). Begin opens the default store's
// write transaction, which Tx exposes so the log can append in it. Apply
// checks a change set against the current state, including earlier Apply
// calls of the same Writer - every base version must be current (a record
// deleted at its base version is not: the write was based on the record, not
// on its delete) and every unique value free, or the call fails with a
// *ConflictError - and writes it;
// a failed call leaves nothing behind and earlier calls stand. Commit commits
// the default store first (one fsync for the whole group), then the other
// stores the group wrote to. Readers never see part of a group: each store
// commits atomically, and a group that spans stores commits while holding a
// lock that readers take to begin their transactions.
//
// Every store records the seq of the last event applied to it. After a crash
// a store other than the default one may be behind the log; Replay writes a
// logged change set without checks and skips it for each store that has
// already seen its seq, so catching up is idempotent. Memory stores start
// empty at 0 on every Open and are rebuilt the same way. Truncate empties
// every store for a full rebuild; Options.Fresh starts every store file but
// the default one from nothing instead, so that a rebuild never reads a
// damaged one.
//
// Catching up from a store's applied seq is right only for the collections
// that lived in that store all along. The default store records each
// collection's home, the file of its store or memory; Open refuses a
// collection that a stash file moved into a store that has applied events
// (a *MovedError, to be fixed by a rebuild), and takes one moved into
// memory or into a store at seq 0, which catching up rebuilds whole.
//
// # Indexes
//
// Fields listed in "indexes" or "unique" have an index: one key per record,
// an order-preserving encoding of the value, the separator 0x00 0x01, then
// the id, so one value's entries are a contiguous range in id order. A List
// whose Where names such a field (unique ones first) reads only that range
// and filters the other Where fields; a Where on other fields scans the
// collection. Null and missing values are not indexed, and are not subject
// to uniqueness. Count reads a counter kept in the meta bucket.
//
// # Layout
//
// In a bbolt file the stash owns one top-level bucket, "stash"; other
// packages keep their own top-level buckets beside it:
//
//	stash/
//	  meta/                    "applied" -> last applied seq (8 bytes, big-endian)
//	                           "count:<collection>" -> number of records
//	                           "home:<collection>" -> its store's file, "(memory)" or "(emptied by a replay)" (minimi.db only)
//	  <collection>/            e.g. "/notes"
//	    records/               id -> 8-byte version + record JSON
//	    index/
//	      <field>/             encode(value) 0x00 0x01 id -> 0x01
//
// A memory store keeps the same keyspaces in one ordered tree
// (github.com/google/btree); a write transaction works on a copy-on-write
// clone that replaces the tree on commit.
//
// # Caveats
//
//   - Only one Writer runs at a time; Begin waits for the previous one. A
//     Writer must not be shared between goroutines, and Set.Close waits for
//     an open Writer to end.
//   - A Session's reads are not one snapshot: each call reads the latest
//     committed state. Conflicts are caught at commit instead.
//   - If a store other than the default one fails to commit after the
//     default store did, Commit returns an error wrapping ErrBehind: the log
//     holds the changes, and the store refuses new ones until the Set is
//     reopened and the store caught up by Replay.
//   - Open refuses a bbolt file that is shorter than its last commit says,
//     or whose two meta pages or freelist page are damaged, with an error
//     wrapping ErrDamaged. Any other page damaged inside, at the file's
//     full size, is found only when a call reaches it: bbolt panics on it,
//     and a read through an offset that points outside the mapped file
//     faults. Reads,
//     Apply, Replay, Commit, Truncate and Reindex recover both and return an
//     error wrapping ErrDamaged that names the file; a Writer that met one
//     cannot commit. A panic that bbolt did not raise goes on. GuardLog does
//     the same for the event log's own reads and writes. CheckFiles reads
//     every page of the files of a stopped service, to find the damage
//     before a call does, and runs Reindex's scan of the collections whose
//     indexes changed in a read transaction, to find the records that
//     would stop the next start.
//   - Records of Changes are shared with the session; do not modify them.
//   - A Where on an x-hash field is an error (hashes are salted).
package stash
