package eventsource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/minimi-go/minimi/internal/stash"
)

// Command is the request that made an event.
type Command struct {
	Method    string            `json:"method"`
	Path      string            `json:"path"`             // the request path ("/notes/42")
	Route     string            `json:"route"`            // the route pattern ("/notes/[id]")
	Params    map[string]string `json:"params,omitempty"` // path parameters
	Client    string            `json:"client,omitempty"` // the client's name, "" for none
	RequestID string            `json:"request_id"`
	// Body is the request body, only when the endpoint's config has log_body.
	Body json.RawMessage `json:"body,omitempty"`
}

// Emit is a domain event emitted by a command's script.
type Emit struct {
	Type string `json:"type"`
	Data any    `json:"data,omitempty"`
}

// Event is one committed command: the log's record.
//
// Events are shared between the committer, subscribers and the in-memory
// cache of recent events: never modify one. An event read back from the log
// holds decoded JSON (numbers are float64) where the live one holds the
// values Commit was given; JSON returns the stored encoding of either.
type Event struct {
	Seq     uint64         `json:"seq"`  // gap-free, from 1
	ID      string         `json:"id"`   // a ULID, unique
	Time    time.Time      `json:"time"` // commit time, UTC
	Service string         `json:"service"`
	Command Command        `json:"command"`
	Status  int            `json:"status"`
	Changes []stash.Change `json:"changes"`
	Events  []Emit         `json:"events"`

	raw []byte // the stored JSON
}

// JSON returns the event as stored in the log: one line of JSON. It must
// not be modified.
func (e *Event) JSON() []byte {
	if e.raw == nil {
		b, _ := json.Marshal(e)
		return b
	}
	return e.raw
}

// DecodeEvent decodes one stored event. It keeps a copy of data as the
// event's JSON. An event without a seq or an id is ErrBadEvent.
func DecodeEvent(data []byte) (*Event, error) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if ev.Seq == 0 {
		return nil, fmt.Errorf("%w: no seq", ErrBadEvent)
	}
	if ev.ID == "" {
		return nil, fmt.Errorf("%w: event %d has no id", ErrBadEvent, ev.Seq)
	}
	ev.raw = bytes.Clone(data)
	return &ev, nil
}

// eventBody is the part of an event that the committing request knows
// before its round: it is encoded by the request's goroutine, so that the
// committer only splices the seq, id, time and service in front.
type eventBody struct {
	Command Command        `json:"command"`
	Status  int            `json:"status"`
	Changes []stash.Change `json:"changes"`
	Events  []Emit         `json:"events"`
}

// encodeBody encodes the body of an event: a JSON object.
func encodeBody(cmd Command, status int, changes []stash.Change, emits []Emit) ([]byte, error) {
	return json.Marshal(eventBody{Command: cmd, Status: status, Changes: changes, Events: emits})
}

// encodeEvent splices the committer's fields in front of an encoded body
// (service is a JSON string); the result decodes to the whole Event.
func encodeEvent(seq uint64, id string, t time.Time, service, body []byte) []byte {
	b := make([]byte, 0, 96+len(service)+len(body))
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"id":"`...)
	b = append(b, id...)
	b = append(b, `","time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","service":`...)
	b = append(b, service...)
	b = append(b, ',')
	return append(b, body[1:]...)
}
