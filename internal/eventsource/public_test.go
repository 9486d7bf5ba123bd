package eventsource

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/minimi-go/minimi/internal/stash"
)

func TestPublicLeavesOutHiddenFields(t *testing.T) {
	sc, err := stash.ParseSchema("users.schema.json", []byte(`{"schema": {"type": "object",
		"properties": {"email": {"type": "string"}, "password": {"type": "string", "x-hash": true, "x-hidden": true}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := stash.Open(stash.Options{DataDir: t.TempDir(), Timeout: time.Second,
		Collections: []stash.CollectionSpec{{Path: "/users", Schema: sc}, {Path: plain}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	l := openLog(t, set, Options{Service: "svc"})

	user := create(t, l, set, "/users", stash.Record{"email": "a<b@example.com", "password": "correct horse"})
	if !bytes.Contains(user.JSON(), []byte("$argon2id$")) {
		t.Fatalf("the stored event lacks the hash that replay needs: %s", user.JSON())
	}
	pub := l.Public(user)
	if bytes.Contains(pub, []byte("password")) || bytes.Contains(pub, []byte("$argon2id$")) {
		t.Errorf("Public() shows the hidden field: %s", pub)
	}
	// The rest reads exactly as stored: same key order, same escaping.
	want := regexp.MustCompile(`,"password":"[^"]*"`).ReplaceAll(user.JSON(), nil)
	if !bytes.Equal(pub, want) || !bytes.Contains(pub, []byte(`"a<b@example.com"`)) {
		t.Errorf("Public()=\n%s\nwant the stored event less the hidden field\n%s", pub, want)
	}
	// So does an event read back from the log, as a stream's backlog is.
	read := 0
	if err := l.Read(user.Seq-1, 1, func(ev *Event) error {
		read++
		if got := l.Public(ev); !bytes.Equal(got, want) {
			t.Errorf("Public(read back)=\n%s\nwant\n%s", got, want)
		}
		return nil
	}); err != nil || read != 1 {
		t.Fatalf("Read()=%v after reading %d events, want 1", err, read)
	}
	other := create(t, l, set, plain, stash.Record{"password": "not hidden here"})
	if got := l.Public(other); !bytes.Equal(got, other.JSON()) {
		t.Errorf("Public() changed an event of a collection without hidden fields:\n%s\nwant\n%s", got, other.JSON())
	}
}

// TestPublicGoneCollection: once a collection is renamed or removed, its
// hidden fields are not known, so the public form of its changes carries no
// record at all; the rest of the change, and the other changes, remain.
func TestPublicGoneCollection(t *testing.T) {
	sc, err := stash.ParseSchema("users.schema.json", []byte(`{"schema": {"type": "object",
		"properties": {"pin": {"type": "string", "x-hidden": true}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	open := func(colls ...stash.CollectionSpec) (*stash.Set, *Log) {
		set, err := stash.Open(stash.Options{DataDir: dir, Timeout: time.Second, Collections: colls})
		if err != nil {
			t.Fatal(err)
		}
		return set, openLog(t, set, Options{Service: "svc"})
	}
	set, l := open(stash.CollectionSpec{Path: "/users", Schema: sc}, stash.CollectionSpec{Path: plain})
	ev := commit(t, l, set, "/users", func(ss *stash.Session) error {
		if _, err := ss.Put("/users", "u1", stash.Record{"pin": "4321", "name": "ada"}); err != nil {
			return err
		}
		_, err := ss.Put(plain, "p1", stash.Record{"name": "kept"})
		return err
	})
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := set.Close(); err != nil {
		t.Fatal(err)
	}

	set, l = open(stash.CollectionSpec{Path: "/accounts", Schema: sc}, stash.CollectionSpec{Path: plain})
	t.Cleanup(func() { _ = set.Close() })
	read := 0
	if err := l.Read(ev.Seq-1, 1, func(got *Event) error {
		read++
		pub := l.Public(got)
		if bytes.Contains(pub, []byte("4321")) || bytes.Contains(pub, []byte("ada")) {
			t.Errorf("Public() shows a record of a collection the service no longer has: %s", pub)
		}
		for _, want := range []string{`"op":"put","stash":"/users","id":"u1","version":1,"base":0`, `"name":"kept"`} {
			if !bytes.Contains(pub, []byte(want)) {
				t.Errorf("Public()=%s, want it to hold %s", pub, want)
			}
		}
		return nil
	}); err != nil || read != 1 {
		t.Fatalf("Read()=%v after reading %d events, want 1", err, read)
	}
}
