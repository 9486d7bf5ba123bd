package eventsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/stash"
)

// TestEncodeEvent: the committer's spliced encoding decodes to the same
// event as encoding/json's encoding of the whole struct, also for an id too
// long for the room in front of the body.
func TestEncodeEvent(t *testing.T) {
	for _, tc := range []struct{ name, id string }{
		{"ulid", "01JGQ0000000000000000000000"},
		{"long id", strings.Repeat("x", headerMax)},
	} {
		t.Run(tc.name, func(t *testing.T) { testEncodeEvent(t, tc.id) })
	}
}

func testEncodeEvent(t *testing.T, id string) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	want := &Event{
		Seq: 7, ID: id, Time: at, Service: `say "hi" <svc>`,
		Command: Command{Method: "PATCH", Path: "/notes/1", Route: "/notes/[id]", Params: map[string]string{"id": "1"}, RequestID: "r"},
		Status:  200,
		Changes: []stash.Change{{Op: stash.OpPatch, Stash: "/notes", ID: "1", Version: 2, Base: 1,
			Record: map[string]any{"id": "1", "_version": float64(2), "title": "t"}}},
		Events: []Emit{{Type: "x", Data: map[string]any{"n": 1.5}}},
	}
	service, _ := json.Marshal(want.Service)
	body, err := encodeBody(headRoom(service), want.Command, want.Status, want.Changes, want.Events)
	if err != nil {
		t.Fatal(err)
	}
	raw := encodeEvent(want.Seq, want.ID, at, service, body, headRoom(service))
	got, err := DecodeEvent(raw)
	if err != nil {
		t.Fatalf("DecodeEvent(%s)=%v", raw, err)
	}
	std, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	fromStd, err := DecodeEvent(std)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(fromStd)
	if string(a) != string(b) {
		t.Fatalf("spliced encoding decodes to %s, want %s", a, b)
	}
	if string(got.JSON()) != string(raw) {
		t.Fatalf("JSON()=%s, want the stored %s", got.JSON(), raw)
	}
}

// TestEncodeBodyFromSession: changes made by a real session carry their
// stored JSON, which encodeBody copies; the body is still one line and
// decodes as encoding/json's encoding of the same fields.
func TestEncodeBodyFromSession(t *testing.T) {
	set := openSet(t, t.TempDir())
	ss := set.Session()
	if _, err := ss.Create(notes, stash.Record{"id": "n1", "title": "<b>\"quoted\"</b>\n", "email": "a@b.c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Create(plain, stash.Record{"id": "p1", "n": 1e-7, "list": []any{1.0, nil, "x"}}); err != nil {
		t.Fatal(err)
	}
	changes := ss.Changes()
	for _, ch := range changes {
		if ch.RecordJSON() == nil {
			t.Fatalf("change %s %s carries no stored JSON", ch.Stash, ch.ID)
		}
	}
	cmd := Command{Method: "POST", Path: "/notes", Route: "/notes", Params: map[string]string{"b": "2", "a": "1"},
		Client: "web", RequestID: "r1", Body: json.RawMessage("{\n  \"title\": \"x\"\n}")}
	for _, emits := range [][]Emit{nil, {{Type: "made"}, {Type: "with data", Data: map[string]any{"k": []any{true}}}}} {
		body, err := encodeBody(0, cmd, 201, changes, emits)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(body, "\r\n") {
			t.Errorf("body is not one line: %s", body)
		}
		std, _ := json.Marshal(eventBody{Command: cmd, Status: 201, Changes: changes, Events: emits})
		var got, want any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("encodeBody gave invalid JSON %s: %v", body, err)
		}
		_ = json.Unmarshal(std, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("encodeBody=%s\nwant %s", body, std)
		}
	}
	if body, err := encodeBody(0, Command{Method: "DELETE"}, 204, nil, nil); err != nil ||
		!bytes.Contains(body, []byte(`"changes":null,"events":null`)) {
		t.Errorf("no changes and no events: %s %v", body, err)
	}
}

func TestDecodeEventErrors(t *testing.T) {
	tests := []struct {
		name, data string
	}{
		{"empty", ``},
		{"not an object", `[1]`},
		{"no seq", `{"id":"x"}`},
		{"zero seq", `{"seq":0,"id":"x"}`},
		{"no id", `{"seq":1}`},
		{"bad time", `{"seq":1,"id":"x","time":"yesterday"}`},
		{"negative seq", `{"seq":-1,"id":"x"}`},
		{"truncated", `{"seq":1,"id":"x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if ev, err := DecodeEvent([]byte(tc.data)); !errors.Is(err, ErrBadEvent) {
				t.Fatalf("DecodeEvent(%s)=%v, %v, want ErrBadEvent", tc.data, ev, err)
			}
		})
	}
}

// FuzzDecodeEvent: DecodeEvent never panics; an event it accepts has a seq
// and an id, and survives a round trip through encoding/json unchanged.
func FuzzDecodeEvent(f *testing.F) {
	seeds := []string{
		`{"seq":1,"id":"01JGQ0000000000000000000000","time":"2025-01-02T03:04:05.123Z","service":"s",` +
			`"command":{"method":"POST","path":"/notes","route":"/notes","params":{"id":"1"},"client":"web","request_id":"r","body":{"a":[1,2]}},` +
			`"status":201,"changes":[{"op":"create","stash":"/notes","id":"1","version":1,"base":0,"record":{"id":"1","_version":1}}],` +
			`"events":[{"type":"t","data":{"x":null}}]}`,
		`{"seq":2,"id":"x","changes":[{"op":"delete","stash":"/n","id":"1","version":3,"base":3}],"events":[]}`,
		`{"seq":3,"id":"y","time":"2025-01-02T03:04:05+07:00"}`,
		`{"seq":18446744073709551615,"id":"z"}`,
		`{}`, `null`, `{"seq":"1"}`, `{"seq":1,"id":"x","command":{"body":"`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("DecodeEvent()=%v, want an error wrapping ErrBadEvent", err)
			}
			return
		}
		if ev.Seq == 0 || ev.ID == "" {
			t.Fatalf("DecodeEvent() accepted %+v without a seq or id", ev)
		}
		first, err := json.Marshal(ev)
		if err != nil {
			return // e.g. a time outside what encoding/json writes
		}
		again, err := DecodeEvent(first)
		if err != nil {
			t.Fatalf("DecodeEvent(re-encoded %s)=%v", first, err)
		}
		second, err := json.Marshal(again)
		if err != nil || string(second) != string(first) {
			t.Fatalf("round trip=%s, %v, want %s", second, err, first)
		}
	})
}
