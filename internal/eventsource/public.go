package eventsource

import (
	"encoding/json"
)

// Public returns ev as subscribers see it, on /_minimi/events and on NATS:
// the stored JSON, less the x-hidden fields of its changed records
// (password hashes, secrets). The log itself keeps them: replay needs them.
// An event that touches no collection with hidden fields is returned as
// stored, without work.
func (l *Log) Public(ev *Event) []byte {
	if !l.hasHidden(ev) {
		return ev.JSON()
	}
	var doc map[string]any
	if err := json.Unmarshal(ev.JSON(), &doc); err != nil {
		return ev.JSON()
	}
	changes, _ := doc["changes"].([]any)
	for _, c := range changes {
		ch, _ := c.(map[string]any)
		rec, _ := ch["record"].(map[string]any)
		coll, _ := ch["stash"].(string)
		for _, f := range l.hiddenFields(coll) {
			delete(rec, f)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return ev.JSON()
	}
	return b
}

func (l *Log) hasHidden(ev *Event) bool {
	for _, ch := range ev.Changes {
		if ch.Record != nil && len(l.hiddenFields(ch.Stash)) > 0 {
			return true
		}
	}
	return false
}

// hiddenFields are the x-hidden fields of a collection's schema.
func (l *Log) hiddenFields(coll string) []string {
	c := l.set.Collection(coll)
	if c == nil || c.Schema() == nil {
		return nil
	}
	return c.Schema().Hidden()
}
