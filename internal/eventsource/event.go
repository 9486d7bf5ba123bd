package eventsource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/minimi-go/minimi/internal/jsontext"
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
// of space for the committer's fields (see encodeEvent). It writes what
// encoding/json would write of an eventBody, by hand: a record's JSON is
// copied from the change when the session encoded it already.
func encodeBody(room int, cmd Command, status int, changes []stash.Change, emits []Emit) ([]byte, error) {
	b := make([]byte, room, room+512)
	b = append(b, `{"command":{"method":`...)
	b = jsontext.AppendString(b, cmd.Method)
	b = append(b, `,"path":`...)
	b = jsontext.AppendString(b, cmd.Path)
	b = append(b, `,"route":`...)
	b = jsontext.AppendString(b, cmd.Route)
	var err error
	if len(cmd.Params) > 0 {
		b = append(b, `,"params":`...)
		if b, err = jsontext.AppendValue(b, cmd.Params); err != nil {
			return nil, err
		}
	}
	if cmd.Client != "" {
		b = append(b, `,"client":`...)
		b = jsontext.AppendString(b, cmd.Client)
	}
	b = append(b, `,"request_id":`...)
	b = jsontext.AppendString(b, cmd.RequestID)
	if len(cmd.Body) > 0 {
		b = append(b, `,"body":`...)
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, cmd.Body); err != nil { // an event is one line
			return nil, fmt.Errorf("command body: %w", err)
		}
		b = buf.Bytes()
	}
	b = append(b, `},"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"changes":`...)
	if b, err = appendChanges(b, changes); err != nil {
		return nil, err
	}
	b = append(b, `,"events":`...)
	if emits == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, e := range emits {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = jsontext.AppendString(b, e.Type)
			if e.Data != nil {
				b = append(b, `,"data":`...)
				if b, err = jsontext.AppendValue(b, e.Data); err != nil {
					return nil, fmt.Errorf("event %q: %w", e.Type, err)
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func appendChanges(b []byte, changes []stash.Change) ([]byte, error) {
	if changes == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range changes {
		ch := &changes[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"op":`...)
		b = jsontext.AppendString(b, ch.Op)
		b = append(b, `,"stash":`...)
		b = jsontext.AppendString(b, ch.Stash)
		b = append(b, `,"id":`...)
		b = jsontext.AppendString(b, ch.ID)
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(ch.Version), 10)
		b = append(b, `,"base":`...)
		b = strconv.AppendInt(b, int64(ch.Base), 10)
		if raw := ch.RecordJSON(); raw != nil {
			b = append(append(b, `,"record":`...), raw...)
		} else if len(ch.Record) > 0 {
			var err error
			if b, err = jsontext.AppendValue(append(b, `,"record":`...), ch.Record); err != nil {
				return nil, fmt.Errorf("change %s %s: %w", ch.Stash, ch.ID, err)
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
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
	if start < 0 { // an id longer than a ULID: no room, copy (h stays on the stack)
		return slices.Concat(h, body[room+1:])
	}
	copy(body[start:], h)
	return body[start:]
}
