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

// headRoom is the space encodeBody leaves in front of the body for the
// committer's fields; headerMax(service) bounds their length.
func headRoom(service []byte) int { return headerMax + len(service) }

// headerMax bounds `{"seq":<20 digits>,"id":"<26>","time":"<35>","service":` and the
// comma after the service, without the service itself.
const headerMax = 128

// encodeBody encodes the body of an event, a JSON object, after room bytes
// of space for the committer's fields (see encodeEvent).
func encodeBody(room int, cmd Command, status int, changes []stash.Change, emits []Emit) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(room + 512)
	buf.Write(make([]byte, room))
	err := json.NewEncoder(&buf).Encode(eventBody{Command: cmd, Status: status, Changes: changes, Events: emits})
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeEvent writes the committer's fields (service is a JSON string) into
// the room in front of an encoded body, over the body's opening brace, and
// returns the whole event's JSON. It reuses body's memory.
func encodeEvent(seq uint64, id string, t time.Time, service, body []byte, room int) []byte {
	var arr [headerMax + 64]byte
	h := append(arr[:0], `{"seq":`...)
	h = strconv.AppendUint(h, seq, 10)
	h = append(h, `,"id":"`...)
	h = append(h, id...)
	h = append(h, `","time":"`...)
	h = t.AppendFormat(h, time.RFC3339Nano)
	h = append(h, `","service":`...)
	h = append(h, service...)
	h = append(h, ',')
	start := room + 1 - len(h)
	if start < 0 { // an id longer than a ULID: no room, copy
		return append(h, body[room+1:]...)
	}
	copy(body[start:], h)
	return body[start:]
}
