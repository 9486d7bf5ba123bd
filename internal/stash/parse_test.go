package stash

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSchema(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // substring of the error; "" for success
	}{
		{"design example", `{ "schema": { "type": "object", "required": ["title"],
              "properties": { "title": {"type": "string", "maxLength": 200},
                              "owner": {"type": "string"},
                              "password": {"type": "string", "minLength": 8, "x-hash": true, "x-hidden": true},
                              "email": {"type": "string", "format": "email", "x-lowercase": true} } },
  "indexes": ["owner"], "unique": ["email"] }`, ""},
		{"local ref", `{"schema": {"$ref": "#/$defs/note", "$defs": {"note": {"type": "object", "properties": {"a": {"type": "string"}}}}}}`, ""},
		{"draft 7", `{"schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}}`, ""},
		{"syntax", "{\n  \"schema\": {,\n}", "line 2:14"},
		{"truncated", "{\"schema\": {", "unexpected end"},
		{"empty", "", "empty file"},
		{"trailing", `{"schema": {}} {}`, "line 1:16: unexpected data"},
		{"unknown key", `{"schema": {}, "index": ["a"]}`, `invalid schema: unknown key "index" (want schema, indexes or unique)`},
		{"unknown key after a wrong type", `{"indexes": "a", "schema": {}, "uniq": []}`, `unknown key "uniq" (want schema, indexes or unique)`},
		{"a JSON Schema as the whole file", `{"type": "object", "properties": {"title": {"type": "string"}}}`,
			`unknown key "properties" (want schema, indexes or unique): the JSON Schema goes under "schema", as in {"schema": {"type": "object", …}}`},
		{"wrong type", `{"schema": {}, "indexes": "owner"}`, `key "indexes"`},
		{"not an object", `[]`, "want a JSON object"},
		{"no schema", `{"indexes": []}`, `"schema" is missing`},
		{"schema not object", `{"schema": true}`, "must be a JSON object"},
		{"bad type", `{"schema": {"type": "objectx"}}`, "invalid schema: /schema/type"},
		{"bad regex", `{"schema": {"properties": {"a": {"pattern": "("}}}}`, "invalid schema: /schema/properties/a/pattern"},
		{"remote ref", `{"schema": {"$ref": "other.json"}}`, "self-contained"},
		{"index not property", `{"schema": {"properties": {"a": {}}}, "indexes": ["b"]}`, `"b" is not a top-level property`},
		{"unique not property", `{"schema": {"properties": {"a": {}}}, "unique": ["b"]}`, `unique: "b"`},
		{"index id", `{"schema": {"properties": {"id": {}}}, "indexes": ["id"]}`, "kept by the stash"},
		{"index hashed", `{"schema": {"properties": {"p": {"type": "string", "x-hash": true}}}, "unique": ["p"]}`, "hashed"},
		{"index twice", `{"schema": {"properties": {"a": {}}}, "indexes": ["a", "a"]}`, "listed twice"},
		{"transform not bool", `{"schema": {"properties": {"a": {"x-hidden": "yes"}}}}`, "x-hidden must be true or false"},
		{"transform on id", `{"schema": {"properties": {"id": {"type": "string", "x-lowercase": true}}}}`, "/schema/properties/id: x-lowercase applies only to the record's own fields"},

		// Transform keywords apply to top-level properties only; anywhere
		// else they are errors naming their place.
		{"nested property", `{"schema": {"type": "object", "properties": {"creds": {"type": "object", "properties": {"pw": {"type": "string", "x-hash": true, "x-hidden": true}}}}}}`,
			"parse notes/notes.schema.json: invalid schema: /schema/properties/creds/properties/pw: x-hash applies to top-level properties only; " +
				"/schema/properties/creds/properties/pw: x-hidden applies to top-level properties only"},
		{"items", `{"schema": {"properties": {"tags": {"type": "array", "items": {"type": "string", "x-lowercase": true}}}}}`, "/schema/properties/tags/items: x-lowercase applies to top-level properties only"},
		{"prefixItems", `{"schema": {"properties": {"t": {"prefixItems": [{}, {"x-hash": true}]}}}}`, "/schema/properties/t/prefixItems/1: x-hash applies"},
		{"additionalProperties", `{"schema": {"additionalProperties": {"type": "string", "x-hash": true}}}`, "/schema/additionalProperties: x-hash applies"},
		{"patternProperties", `{"schema": {"patternProperties": {"^p": {"type": "string", "x-hidden": true}}}}`, "/schema/patternProperties/^p: x-hidden applies"},
		{"$defs", `{"schema": {"$defs": {"pw": {"type": "string", "x-hash": true}}, "properties": {"pw": {"$ref": "#/$defs/pw"}}}}`, "/schema/$defs/pw: x-hash applies"},
		{"definitions", `{"schema": {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"a/b": {"x-hidden": true}}}}`, "/schema/definitions/a~1b: x-hidden applies"},
		{"allOf", `{"schema": {"allOf": [{"properties": {"pw": {"type": "string", "x-hash": true}}}]}}`, "/schema/allOf/0/properties/pw: x-hash applies"},
		{"anyOf", `{"schema": {"properties": {"a": {"anyOf": [{"type": "string", "x-lowercase": true}]}}}}`, "/schema/properties/a/anyOf/0: x-lowercase applies"},
		{"oneOf", `{"schema": {"oneOf": [{"x-hidden": true}]}}`, "/schema/oneOf/0: x-hidden applies"},
		{"not", `{"schema": {"properties": {"a": {"not": {"x-hidden": true}}}}}`, "/schema/properties/a/not: x-hidden applies"},
		{"if then else", `{"schema": {"if": {"x-hash": false}, "then": {"x-hidden": true}, "else": {"x-lowercase": true}}}`,
			"/schema/else: x-lowercase applies to top-level properties only; /schema/if: x-hash applies to top-level properties only; /schema/then: x-hidden applies"},
		{"dependentSchemas", `{"schema": {"dependentSchemas": {"a": {"properties": {"b": {"x-hidden": true}}}}}}`, "/schema/dependentSchemas/a/properties/b: x-hidden applies"},
		{"dependencies", `{"schema": {"$schema": "http://json-schema.org/draft-07/schema#", "dependencies": {"a": {"properties": {"b": {"x-hidden": true}}}, "c": ["a"]}}}`, "/schema/dependencies/a/properties/b: x-hidden applies"},
		{"unknown keyword", `{"schema": {"properties": {"a": {"x-note": {"x-hash": true}}}}}`, "/schema/properties/a/x-note: x-hash applies"},
		{"top level", `{"schema": {"type": "object", "x-hidden": true}}`, "/schema: x-hidden applies to top-level properties only"},

		// A misspelt transform keyword would leave its field served or
		// stored in the clear: it is refused with the keyword meant. Other
		// x- keywords are annotations.
		{"misspelt hidden", `{"schema": {"properties": {"pw": {"type": "string", "x-hiden": true}}}}`,
			`/schema/properties/pw: unknown keyword "x-hiden"; did you mean "x-hidden"?`},
		{"misspelt hash", `{"schema": {"properties": {"pw": {"type": "string", "x_hash": true}}}}`, `unknown keyword "x_hash"; did you mean "x-hash"?`},
		{"capitalised", `{"schema": {"properties": {"pw": {"type": "string", "X-Hidden": true}}}}`, `unknown keyword "X-Hidden"; did you mean "x-hidden"?`},
		{"misspelt lowercase", `{"schema": {"properties": {"e": {"type": "string", "x-lowercse": true}}}}`, `did you mean "x-lowercase"?`},
		{"misspelt nested", `{"schema": {"properties": {"a": {"items": {"xhidden": true}}}}}`, `/schema/properties/a/items: unknown keyword "xhidden"`},
		{"annotations", `{"schema": {"x-order": 1, "properties": {"a": {"type": "string", "x-go-name": "A", "x-note": "n", "x-hidden": true}}}}`, ""},
		{"misspelt property name", `{"schema": {"properties": {"x-hiden": {"type": "string"}}, "required": ["x-hiden"]}}`, ""},
		{"keyword names", `{"schema": {"required": ["x-hash"], "dependentRequired": {"x-hidden": ["x-hash"]}, "default": {"x-hash": true},
			"properties": {"x-hash": {"type": "string", "const": {"x-hidden": true}, "enum": [{"x-lowercase": true}], "examples": [{"x-hash": 1}]}}}}`, ""},

		// x-hash and x-lowercase need a string property.
		{"hash integer", `{"schema": {"properties": {"pin": {"type": "integer", "x-hash": true}}}}`, `/schema/properties/pin: x-hash needs "type": "string"`},
		{"lowercase untyped", `{"schema": {"properties": {"e": {"format": "email", "x-lowercase": true}}}}`, `/schema/properties/e: x-lowercase needs "type": "string"`},
		{"hash string or number", `{"schema": {"properties": {"p": {"type": ["string", "number"], "x-hash": true}}}}`, `x-hash needs "type": "string"`},
		{"hash nullable string", `{"schema": {"properties": {"p": {"type": ["null", "string"], "x-hash": true, "x-lowercase": true}}}}`, ""},
		{"hash false on integer", `{"schema": {"properties": {"p": {"type": "integer", "x-hash": false}}}}`, ""},
		{"hidden object", `{"schema": {"properties": {"creds": {"type": "object", "x-hidden": true, "properties": {"pw": {"type": "string"}}}}}}`, ""},
		{"hash not bool", `{"schema": {"properties": {"p": {"type": "string", "x-hash": "argon2"}}}}`, "/schema/properties/p: x-hash must be true or false"},

		// A $ref to a schema that holds a transform reuses it where the
		// transform does not apply.
		{"ref to hashed property", `{"schema": {"properties": {"pw": {"type": "string", "x-hash": true}, "confirm": {"$ref": "#/properties/pw"}}}}`,
			"/schema/properties/confirm: $ref to /schema/properties/pw, which holds x-hash: transform keywords apply to top-level properties only"},
		{"ref to the root", `{"schema": {"properties": {"email": {"type": "string", "x-lowercase": true}, "pw": {"type": "string", "x-hash": true, "x-hidden": true}, "kids": {"type": "array", "items": {"$ref": "#"}}}}}`,
			"/schema/properties/kids/items: $ref to /schema, which holds x-hash, x-hidden, x-lowercase"},
		{"ref by anchor", `{"schema": {"properties": {"pw": {"$anchor": "pw", "x-hidden": true}, "old": {"$ref": "#pw"}}}}`, "/schema/properties/old: $ref to /schema/properties/pw"},
		{"dynamic ref", `{"schema": {"$dynamicAnchor": "node", "properties": {"pin": {"x-hidden": true}, "kids": {"items": {"$dynamicRef": "#node"}}}}}`, "/schema/properties/kids/items: $ref to /schema"},
		{"ref to the root without transforms", `{"schema": {"properties": {"name": {"type": "string"}, "kids": {"items": {"$ref": "#"}}}}}`, ""},
		{"ref to a plain property", `{"schema": {"properties": {"pw": {"type": "string", "x-hash": true}, "name": {"type": "string"}, "nick": {"$ref": "#/properties/name"}}}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := ParseSchema("notes/notes.schema.json", []byte(tc.src))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseSchema()=%v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSchema()=%v, want an error containing %q", err, tc.want)
			}
			var pe *PathError
			if !errors.As(err, &pe) || pe.Path != "notes/notes.schema.json" || !errors.Is(err, ErrInvalidSchema) {
				t.Errorf("ParseSchema()=%#v, want a *PathError naming the file and wrapping ErrInvalidSchema", err)
			}
			if sc != nil {
				t.Errorf("ParseSchema()=%v with an error, want nil", sc)
			}
		})
	}
}

func TestSchemaAccessors(t *testing.T) {
	sc := mustSchema(t, usersSchema)
	if !slices.Equal(sc.Hidden(), []string{"password", "pin"}) || !slices.Equal(sc.Hashed(), []string{"password"}) {
		t.Errorf("Hidden()=%v Hashed()=%v, want [password pin] and [password]", sc.Hidden(), sc.Hashed())
	}
	if !slices.Equal(sc.Unique(), []string{"email"}) || len(sc.Indexes()) != 0 {
		t.Errorf("Unique()=%v Indexes()=%v, want [email] and []", sc.Unique(), sc.Indexes())
	}
	var v map[string]any
	if err := json.Unmarshal(sc.JSON(), &v); err != nil || v["type"] != "object" {
		t.Errorf("JSON()=%s, %v, want the schema object", sc.JSON(), err)
	}
}

func TestFormatAsserted(t *testing.T) {
	s, _ := usersSet(t)
	_, err := s.Session().Create("/users", Record{"name": "a", "password": plain, "email": "not-an-email"})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Pointer != "/email" {
		t.Errorf("Create(bad email)=%v, want an error at /email", err)
	}
}

func TestParseStore(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want StoreSpec
		err  string
	}{
		{"bbolt", `{"driver": "bbolt", "file": "notes.db"}`, StoreSpec{Driver: DriverBbolt, File: "notes.db"}, ""},
		{"memory", `{"driver": "memory"}`, StoreSpec{Driver: DriverMemory}, ""},
		{"subdir", `{"driver": "bbolt", "file": "s/notes.db"}`, StoreSpec{Driver: DriverBbolt, File: "s/notes.db"}, ""},
		{"no driver", `{}`, StoreSpec{}, "driver is missing"},
		{"bbolt no file", `{"driver": "bbolt"}`, StoreSpec{}, "needs a file"},
		{"memory file", `{"driver": "memory", "file": "x.db"}`, StoreSpec{}, "takes no file"},
		{"dotdot", `{"driver": "bbolt", "file": "../x.db"}`, StoreSpec{}, "inside the data directory"},
		{"absolute", `{"driver": "bbolt", "file": "/x.db"}`, StoreSpec{}, "inside the data directory"},
		{"unknown key", `{"driver": "memory", "size": 1}`, StoreSpec{}, `invalid store: unknown key "size" (want driver or file)`},
		{"misspelt key", `{"drvier": "memory"}`, StoreSpec{}, `unknown key "drvier" (want driver or file)`},
		{"syntax", "{\"driver\":\n \"memory\" \"x\"}", StoreSpec{}, "line 2:11"},
		{"wrong type", `{"driver": 1}`, StoreSpec{}, `key "driver"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStore("notes/notes.stash.json", []byte(tc.src))
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Errorf("ParseStore()=%+v, %v, want %+v", got, err, tc.want)
				}
				return
			}
			var pe *PathError
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &pe) || !errors.Is(err, ErrInvalidStore) {
				t.Errorf("ParseStore()=%v, want a *PathError wrapping ErrInvalidStore containing %q", err, tc.err)
			}
		})
	}
}

func FuzzParseSchema(f *testing.F) {
	f.Add([]byte(notesSchema))
	f.Add([]byte(usersSchema))
	f.Add([]byte(`{"schema": {"type": "objectx"}}`))
	f.Add([]byte(`{"schema": {"$ref": "#/$defs/a", "$defs": {"a": {"type": "object"}}}}`))
	f.Add([]byte("{\n\"schema\": {,}"))
	f.Add([]byte(`{"schema": {"properties": {"a": {"x-hash": 1}}}, "unique": ["a"]}`))
	f.Add([]byte(`{"schema": {"properties": {"a": {"properties": {"b": {"type": "string", "x-hash": true}}}}}}`))
	f.Add([]byte(`{"schema": {"properties": {"a": {"type": "string", "x-lowercase": true}, "b": {"items": {"$ref": "#"}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseSchema("f.schema.json", data)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) || pe.Path != "f.schema.json" {
				t.Fatalf("ParseSchema()=%v, want a *PathError naming the file", err)
			}
			return
		}
		for _, f := range append(sc.Indexes(), sc.Unique()...) {
			if f == "id" || strings.HasPrefix(f, "_") || sc.hash[f] {
				t.Fatalf("ParseSchema() accepted index field %q", f)
			}
		}
		sc.validate(map[string]any{"a": 1.0, "b": "x"}, nil)
	})
}

func FuzzParseStore(f *testing.F) {
	f.Add([]byte(`{"driver": "bbolt", "file": "notes.db"}`))
	f.Add([]byte(`{"driver": "memory"}`))
	f.Add([]byte(`{"driver": "bbolt", "file": "../../etc/passwd"}`))
	f.Add([]byte(`{"driver": "bbolt", "file": "a/../../b"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := ParseStore("f.stash.json", data)
		if err != nil {
			return
		}
		if sp.Driver == DriverBbolt {
			p := filepath.Join("/data", sp.File)
			if !strings.HasPrefix(p, "/data/") || p == "/data/"+DefaultFile {
				t.Fatalf("ParseStore() accepted file %q, which lands at %s", sp.File, p)
			}
		}
		if err := sp.Validate(); err != nil {
			t.Fatalf("ParseStore()=%+v that fails Validate: %v", sp, err)
		}
	})
}
