package eventsource

import (
	"maps"

	"github.com/minimi-go/minimi/internal/jsontext"
	"github.com/minimi-go/minimi/internal/stash"
)

// Public returns ev as subscribers see it, on /_minimi/events and on NATS:
// the stored JSON, less the x-hidden fields of its changed records
// (password hashes, secrets). The log itself keeps them: replay needs them.
// A change to a collection the service no longer has (renamed, or removed)
// is shown without its record, whose hidden fields are not known any more.
// An event that touches no collection with hidden fields is returned as
// stored, without work; one that does is encoded again the way it was
// stored, so that both read alike (key order, escaping).
func (l *Log) Public(ev *Event) []byte {
	if !l.hasHidden(ev) {
		return ev.JSON()
	}
	changes := make([]stash.Change, len(ev.Changes))
	for i, ch := range ev.Changes {
		var rec stash.Record
		if hidden, known := l.hiddenFields(ch.Stash); known {
			rec = visible(ch.Record, hidden)
		}
		changes[i] = stash.Change{Op: ch.Op, Stash: ch.Stash, ID: ch.ID, Version: ch.Version, Base: ch.Base, Record: rec}
	}
	service := jsontext.AppendString(nil, ev.Service)
	room := headRoom(service)
	body, err := encodeBody(room, ev.Command, ev.Status, changes, ev.Events)
	if err != nil {
		// It was encoded the same way once. Should that fail anyway, the
		// changes' records and the emits are left out, never shown whole.
		for i := range changes {
			changes[i].Record = nil
		}
		if body, err = encodeBody(room, ev.Command, ev.Status, changes, nil); err != nil {
			body, _ = encodeBody(room, Command{Method: ev.Command.Method, Path: ev.Command.Path, Route: ev.Command.Route}, ev.Status, nil, nil)
		}
	}
	return encodeEvent(ev.Seq, ev.ID, ev.Time, service, body, room)
}

// Outline returns ev's public form without data: each change without its
// record, each emit without its data, the command without a logged body.
// It is what the outbox sends for an
// event too large for NATS, so that subscribers still see every seq and can
// read the whole event from the log (GET /_minimi/events?after=seq-1).
func (l *Log) Outline(ev *Event) []byte {
	changes := make([]stash.Change, len(ev.Changes))
	for i, ch := range ev.Changes {
		changes[i] = stash.Change{Op: ch.Op, Stash: ch.Stash, ID: ch.ID, Version: ch.Version, Base: ch.Base}
	}
	emits := make([]Emit, len(ev.Events))
	for i, e := range ev.Events {
		emits[i] = Emit{Type: e.Type}
	}
	cmd := ev.Command
	cmd.Body = nil
	service := jsontext.AppendString(nil, ev.Service)
	room := headRoom(service)
	body, err := encodeBody(room, cmd, ev.Status, changes, emits)
	if err != nil {
		body, _ = encodeBody(room, Command{Method: cmd.Method, Path: cmd.Path, Route: cmd.Route}, ev.Status, changes, emits)
	}
	return encodeEvent(ev.Seq, ev.ID, ev.Time, service, body, room)
}

// visible is rec without the fields hidden; rec itself is shared and not changed.
func visible(rec stash.Record, hidden []string) stash.Record {
	if rec == nil || len(hidden) == 0 {
		return rec
	}
	out := maps.Clone(rec)
	for _, f := range hidden {
		delete(out, f)
	}
	return out
}

// hasHidden reports whether Public must change ev: a record of it has
// hidden fields, or belongs to a collection the service no longer has.
func (l *Log) hasHidden(ev *Event) bool {
	for _, ch := range ev.Changes {
		if ch.Record == nil {
			continue
		}
		if hidden, known := l.hiddenFields(ch.Stash); !known || len(hidden) > 0 {
			return true
		}
	}
	return false
}

// hiddenFields are the x-hidden fields of a collection's schema, and
// whether the service has that collection.
func (l *Log) hiddenFields(coll string) (hidden []string, known bool) {
	c := l.set.Collection(coll)
	if c == nil {
		return nil, false
	}
	if c.Schema() == nil {
		return nil, true
	}
	return c.Schema().Hidden(), true
}
