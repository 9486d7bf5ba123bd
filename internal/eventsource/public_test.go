package eventsource

import (
	"bytes"
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

	user := create(t, l, set, "/users", stash.Record{"email": "a@example.com", "password": "correct horse"})
	if !bytes.Contains(user.JSON(), []byte("$argon2id$")) {
		t.Fatalf("the stored event lacks the hash that replay needs: %s", user.JSON())
	}
	pub := l.Public(user)
	if bytes.Contains(pub, []byte("password")) || bytes.Contains(pub, []byte("$argon2id$")) {
		t.Errorf("Public() shows the hidden field: %s", pub)
	}
	if !bytes.Contains(pub, []byte("a@example.com")) {
		t.Errorf("Public() lost a visible field: %s", pub)
	}
	other := create(t, l, set, plain, stash.Record{"password": "not hidden here"})
	if got := l.Public(other); !bytes.Equal(got, other.JSON()) {
		t.Errorf("Public() changed an event of a collection without hidden fields:\n%s\nwant\n%s", got, other.JSON())
	}
}
