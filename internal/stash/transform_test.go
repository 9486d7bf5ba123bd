package stash

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/auth"
)

const usersSchema = `{
  "schema": {
    "type": "object",
    "required": ["name", "password"],
    "properties": {
      "name":     {"type": "string"},
      "email":    {"type": "string", "format": "email", "x-lowercase": true},
      "password": {"type": "string", "minLength": 8, "maxLength": 30, "x-hash": true, "x-hidden": true},
      "pin":      {"type": "string", "x-hidden": true}
    }
  },
  "unique": ["email"]
}`

const plain = "Plain-Secret-Password-7731"

func usersSet(t *testing.T) (*Set, string) {
	t.Helper()
	dir := t.TempDir()
	return openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/users", Schema: mustSchema(t, usersSchema)}}}), dir
}

func TestHashHiddenLowercase(t *testing.T) {
	s, dir := usersSet(t)
	ss := s.Session()
	rec, err := ss.Create("/users", Record{"id": "u1", "name": "Ann", "email": "Ann@Example.COM", "password": plain, "pin": "1234"})
	if err != nil {
		t.Fatalf("Create()=%v", err)
	}
	if _, ok := rec["password"]; ok || rec["pin"] != nil {
		t.Errorf("Create()=%v, want no hidden fields in the returned record", rec)
	}
	if rec["email"] != "ann@example.com" {
		t.Errorf("Create() email=%v, want it lower-cased", rec["email"])
	}
	chs := ss.Changes()
	stored, _ := chs[0].Record["password"].(string)
	if stored == plain || !auth.Verify(stored, plain) || chs[0].Record["pin"] != "1234" {
		t.Errorf("Change.Record=%v, want the password's hash and the hidden pin", chs[0].Record)
	}
	commit(t, s, ss)

	got, _ := s.Session().Get("/users", "u1", ReadOptions{})
	if _, ok := got["password"]; ok {
		t.Errorf("Get()=%v, want no password without Hidden", got)
	}
	got, _ = s.Session().Get("/users", "u1", ReadOptions{Hidden: true})
	if got["password"] != stored || got["pin"] != "1234" {
		t.Errorf("Get(Hidden)=%v, want the stored hash and pin", got)
	}
	list, _ := s.Session().List("/users", ListOptions{})
	if _, ok := list[0]["pin"]; ok {
		t.Errorf("List()=%v, want no hidden fields", list)
	}
	list, _ = s.Session().List("/users", ListOptions{Hidden: true})
	if list[0]["pin"] != "1234" {
		t.Errorf("List(Hidden)=%v, want hidden fields", list)
	}

	// A patch that does not touch the password keeps the hash and does
	// not validate it as a password (it is longer than maxLength 30).
	ss = s.Session()
	if _, err := ss.Patch("/users", "u1", Record{"name": "Ann B"}, AnyVersion); err != nil {
		t.Fatalf("Patch(name)=%v, want the stored hash left alone", err)
	}
	if ss.Changes()[0].Record["password"] != stored {
		t.Errorf("Patch(name) changed the password hash")
	}
	// Writing back a record read with Hidden keeps the same hash.
	if _, err := ss.Put("/users", "u1", got); err != nil {
		t.Fatalf("Put(record read with Hidden)=%v", err)
	}
	if ss.Changes()[1].Record["password"] != stored {
		t.Errorf("Put(same hash) re-hashed the password")
	}
	// A new password is validated as plain text, then hashed.
	_, err = ss.Patch("/users", "u1", Record{"password": "short"}, AnyVersion)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Pointer != "/password" {
		t.Errorf("Patch(short password)=%v, want one error at /password", err)
	}
	if _, err := ss.Patch("/users", "u1", Record{"password": plain + "2"}, AnyVersion); err != nil {
		t.Fatalf("Patch(new password)=%v", err)
	}
	h := ss.Changes()[2].Record["password"].(string)
	if !auth.Verify(h, plain+"2") || auth.Verify(h, plain) {
		t.Errorf("Patch(new password) stored %q, want a hash of the new password", h)
	}
	commit(t, s, ss)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	if fileContains(data, plain) {
		t.Errorf("%s contains the plain password", DefaultFile)
	}
	if !fileContains(data, "ann@example.com") {
		t.Errorf("%s does not contain the stored email: the grep proves nothing", DefaultFile)
	}
}

func TestHashNeedsString(t *testing.T) {
	sc := mustSchema(t, `{"schema": {"properties": {"password": {"type": ["string", "null"], "x-hash": true}}}}`)
	s := openSet(t, Options{Collections: []CollectionSpec{{Path: "/u", Schema: sc}}})
	_, err := s.Session().Create("/u", Record{"password": 12345678})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Pointer != "/password" || !strings.Contains(ve.Fields[0].Message, "string") {
		t.Errorf("Create(password 12345678)=%v, want an error at /password", err)
	}
}

func TestUniqueInSession(t *testing.T) {
	s, _ := usersSet(t)
	ss := s.Session()
	if _, err := ss.Create("/users", Record{"id": "u1", "name": "a", "email": "a@x.io", "password": plain}); err != nil {
		t.Fatal(err)
	}
	_, err := ss.Create("/users", Record{"id": "u2", "name": "b", "email": "A@X.IO", "password": plain})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Field != "email" || !errors.Is(err, ErrConflict) {
		t.Errorf("Create(same email, other case) in session=%v, want a conflict on email", err)
	}
	commit(t, s, ss)
	ss = s.Session()
	if _, err := ss.Create("/users", Record{"id": "u2", "name": "b", "email": "a@x.io", "password": plain}); !errors.As(err, &ce) || ce.Field != "email" {
		t.Errorf("Create(committed email)=%v, want a conflict on email", err)
	}
	// Moving the email away in the session frees it.
	if _, err := ss.Patch("/users", "u1", Record{"email": "new@x.io"}, AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Create("/users", Record{"id": "u2", "name": "b", "email": "a@x.io", "password": plain}); err != nil {
		t.Errorf("Create(email freed in session)=%v, want nil", err)
	}
	if _, err := ss.Put("/users", "u1", Record{"name": "a", "email": "a@x.io", "password": plain}); !errors.Is(err, ErrConflict) {
		t.Errorf("Put(email taken in session)=%v, want ErrConflict", err)
	}
	// A record keeps its own value.
	if _, err := ss.Patch("/users", "u2", Record{"email": "a@x.io"}, AnyVersion); err != nil {
		t.Errorf("Patch(own email)=%v, want nil", err)
	}
	commit(t, s, ss)
}

// TestSetSchema: a new schema's validation rules and x-hidden fields apply
// to the next call; a call with one schema that changes what stored data
// depends on is refused and changes nothing, not even its other schemas.
func TestSetSchema(t *testing.T) {
	s, _ := usersSet(t)
	strict := strings.Replace(usersSchema, `"name":     {"type": "string"}`, `"name":     {"type": "string", "maxLength": 3}`, 1)
	shown := strings.Replace(strict, `"pin":      {"type": "string", "x-hidden": true}`, `"pin":      {"type": "string"}`, 1)
	ss := s.Session()
	if _, err := ss.Create("/users", Record{"id": "u1", "name": "Annabel", "password": plain, "pin": "1234"}); err != nil {
		t.Fatalf("Create() under the first schema=%v", err)
	}
	commit(t, s, ss)

	shownSchema := mustSchema(t, shown)
	if err := s.SetSchemas([]CollectionSpec{{Path: "/users", Schema: shownSchema}}); err != nil {
		t.Fatalf("SetSchemas(new rules)=%v", err)
	}
	if _, err := s.Session().Create("/users", Record{"id": "u2", "name": "Annabel", "password": plain}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Create() of a name over the new maxLength=%v, want ErrInvalid", err)
	}
	if got, _ := s.Session().Get("/users", "u1", ReadOptions{}); got["pin"] != "1234" || got["password"] != nil {
		t.Errorf("Get()=%v, want the pin shown now and the password still hidden", got)
	}

	for name, src := range map[string]string{
		"index":     strings.Replace(shown, `"unique": ["email"]`, `"unique": ["email"], "indexes": ["name"]`, 1),
		"unique":    strings.Replace(shown, `"unique": ["email"]`, `"unique": ["email", "name"]`, 1),
		"lowercase": strings.Replace(shown, `"name":     {"type": "string", "maxLength": 3}`, `"name":     {"type": "string", "x-lowercase": true}`, 1),
		"hash":      strings.Replace(shown, `"pin":      {"type": "string"}`, `"pin":      {"type": "string", "x-hash": true}`, 1),
	} {
		err := s.SetSchemas([]CollectionSpec{{Path: "/users", Schema: mustSchema(t, strict)}, {Path: "/users", Schema: mustSchema(t, src)}})
		if !errors.Is(err, ErrSchemaShape) {
			t.Errorf("SetSchemas(another %s)=%v, want ErrSchemaShape", name, err)
		}
	}
	if got := s.Collection("/users").Schema(); got != shownSchema {
		t.Errorf("after refused changes the schema is %s, want the one set last (none of a refused call)", got.JSON())
	}
	if err := s.SetSchemas([]CollectionSpec{{Path: "/nope", Schema: mustSchema(t, shown)}}); !errors.Is(err, ErrNoCollection) {
		t.Errorf("SetSchemas(unknown collection)=%v, want ErrNoCollection", err)
	}
	reordered := strings.Replace(shown, `"unique": ["email"]`, `"unique": ["email"], "indexes": []`, 1)
	if err := s.SetSchemas([]CollectionSpec{{Path: "/users", Schema: mustSchema(t, reordered)}}); err != nil {
		t.Errorf("SetSchemas(the same fields, written differently)=%v, want nil", err)
	}
}

// TestHashAddedToSchema: once a schema adds x-hash to a field that records
// hold in plain, every write of such a record stores the field's hash,
// including one that writes the plain value already stored, while a stored
// value in the shape of a hash is kept as it is.
func TestHashAddedToSchema(t *testing.T) {
	imported, err := auth.Hash(plain)
	if err != nil {
		t.Fatal(err)
	}
	legacy := mustSchema(t, strings.Replace(usersSchema, `"maxLength": 30, "x-hash": true, `, "", 1))
	if len(legacy.Hashed()) != 0 {
		t.Fatalf("legacy schema hashes %v, want no x-hash field", legacy.Hashed())
	}
	for _, tc := range []struct {
		name   string
		stored string // the password stored under the schema without x-hash
		write  func(ss *Session) error
		want   string // the password the write leaves stored: "" for a hash of plain
	}{
		{name: "put the stored value", stored: plain, write: func(ss *Session) error {
			_, err := ss.Put("/users", "u1", Record{"name": "Ann", "password": plain})
			return err
		}},
		{name: "put the record read back", stored: plain, write: func(ss *Session) error {
			rec, err := ss.Get("/users", "u1", ReadOptions{Hidden: true})
			if err != nil {
				return err
			}
			_, err = ss.Put("/users", "u1", rec)
			return err
		}},
		{name: "patch the stored value", stored: plain, write: func(ss *Session) error {
			_, err := ss.Patch("/users", "u1", Record{"password": plain}, AnyVersion)
			return err
		}},
		{name: "patch another field", stored: plain, write: func(ss *Session) error {
			_, err := ss.Patch("/users", "u1", Record{"name": "Ann B"}, AnyVersion)
			return err
		}},
		{name: "patch another field keeps a stored hash", stored: imported, want: imported, write: func(ss *Session) error {
			_, err := ss.Patch("/users", "u1", Record{"name": "Ann B"}, AnyVersion)
			return err
		}},
		{name: "put back a stored hash", stored: imported, want: imported, write: func(ss *Session) error {
			_, err := ss.Put("/users", "u1", Record{"name": "Ann", "password": imported})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/users", Schema: legacy}}})
			ss := s.Session()
			if _, err := ss.Create("/users", Record{"id": "u1", "name": "Ann", "password": tc.stored}); err != nil {
				t.Fatalf("Create() under the schema without x-hash=%v", err)
			}
			commit(t, s, ss)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = openSet(t, Options{DataDir: dir, Collections: []CollectionSpec{{Path: "/users", Schema: mustSchema(t, usersSchema)}}})
			ss = s.Session()
			if err := tc.write(ss); err != nil {
				t.Fatalf("write under the schema with x-hash=%v", err)
			}
			commit(t, s, ss)
			got, err := s.Session().Get("/users", "u1", ReadOptions{Hidden: true})
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := got["password"].(string)
			switch {
			case tc.want != "" && stored != tc.want:
				t.Errorf("stored password=%q, want the stored hash kept, %q", stored, tc.want)
			case tc.want == "" && (stored == plain || !auth.Verify(stored, plain)):
				t.Errorf("stored password=%q, want a hash of %q", stored, plain)
			}
		})
	}
}

// A failure of an x-hidden or x-hash field names the keyword, never the
// value: a patch validates the hidden fields it does not name as stored, so
// a schema made stricter since would quote them to a client that may not
// read them, and a password's own failures would quote it in plain.
func TestValidationHidesSecretValues(t *testing.T) {
	s, _ := usersSet(t)
	ss := s.Session()
	if _, err := ss.Create("/users", Record{"id": "u1", "name": "Ann", "password": plain,
		"pin": "Stored-Pin-4321", "code": 98765, "box": map[string]any{"Stored-Member": "x"}}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, ss)
	stricter := `{"unique": ["email"], "schema": {"type": "object", "properties": {"name": {"type": "string"},
	  "email": {"type": "string", "x-lowercase": true},
	  "password": {"type": "string", "pattern": "^[a-z]+$", "x-hash": true, "x-hidden": true},
	  "pin": {"type": "string", "pattern": "^[0-9]{4}$", "format": "email", "maxLength": 4, "x-hidden": true},
	  "code": {"type": "integer", "maximum": 10, "x-hidden": true},
	  "box": {"type": "object", "additionalProperties": false, "x-hidden": true}}}}`
	if err := s.SetSchemas([]CollectionSpec{{Path: "/users", Schema: mustSchema(t, stricter)}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Session().Patch("/users", "u1", Record{"name": "Ann B"}, AnyVersion)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Patch(name)=%v, want a ValidationError for the stored hidden fields", err)
	}
	var ptrs []string
	for _, f := range ve.Fields {
		ptrs = append(ptrs, f.Pointer)
	}
	if want := []string{"/box", "/code", "/pin"}; !slices.Equal(slices.Compact(ptrs), want) {
		t.Errorf("Patch(name) fails at %v, want %v", ptrs, want)
	}
	for _, leak := range []string{"Stored-Pin-4321", "98765", "98,765", "Stored-Member", "15"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("Patch(name)=%v, quotes the stored hidden value %q", err, leak)
		}
	}
	_, err = s.Session().Create("/users", Record{"name": "Bo", "password": plain})
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Pointer != "/password" ||
		strings.Contains(err.Error(), plain) || !strings.Contains(ve.Fields[0].Message, `"pattern"`) {
		t.Errorf("Create(password not matching)=%v, want the pattern named at /password without the password", err)
	}
	_, err = s.Session().Create("/users", Record{"name": "Bo", "password": plain, "code": "ten"})
	if !errors.As(err, &ve) || len(ve.Fields) != 2 || ve.Fields[0].Message != "got string, want integer" {
		t.Errorf("Create(code of the wrong type)=%v, want the type named", err)
	}
}
