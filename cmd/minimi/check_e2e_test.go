package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// brokenNotes is the notes processor of docs/cli.md's check example: the
// ")" of res:json is missing.
const brokenNotes = "return {\n  GET = function(req, res)\n    res:json({ }\n  end,\n}\n"

// writeService writes files (path → content) into a new temp dir and
// returns it.
func writeService(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	data := make(map[string][]byte, len(files))
	for name, content := range files {
		data[name] = []byte(content)
	}
	if _, _, err := writeFiles(dir, data); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runCheck runs minimi check on dir, with args, and returns its output
// lines; it fails the test unless check exits with code.
func runCheck(t *testing.T, dir string, code int, args ...string) []string {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"check", "--dir", dir}, args...)...).Output()
	got := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if got != code {
		t.Errorf("check exit=%d, want %d; output:\n%s", got, code, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// docsCheckExample returns the output lines of the check example in
// docs/cli.md.
func docsCheckExample(t *testing.T) []string {
	t.Helper()
	return docsExample(t, "$ go run ./cmd/minimi check --dir broken\n")
}

// docsExample returns the output lines that follow the command line cmd
// in docs/cli.md, up to the end of its block.
func docsExample(t *testing.T, cmd string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), cmd)
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatalf("docs/cli.md has no example of %q", strings.TrimSpace(cmd))
	}
	return strings.Split(strings.TrimSpace(block), "\n")
}

// TestCheckReportsEveryProblem: one run of check lists the problems of
// every kind, sorted by file; serve refuses to start with the same list.
func TestCheckReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"docs/cli.md example", map[string]string{
			"endpoints/notes/notes.execute.lua": brokenNotes,
			"endpoints/foo/foo.lod.lua":         "return {}\n",
		}, docsCheckExample(t)},
		{"schema, stash and script", map[string]string{
			"endpoints/notes/notes.execute.lua": brokenNotes,
			"endpoints/notes/notes.stash.json":  `{"driver": "redis"}`,
			"endpoints/notes/notes.schema.json": `{"schema": {`,
			"lib/m.lua":                         "return {\n{",
		}, []string{
			`endpoints/notes/notes.execute.lua:4: syntax error near "end"`,
			`parse endpoints/notes/notes.schema.json: invalid schema: line 1:12: unexpected end of JSON`,
			`parse endpoints/notes/notes.stash.json: invalid store: unknown driver "redis" (want "bbolt" or "memory")`,
			`lib/m.lua:2: syntax error near "{"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeService(t, tc.files)
			if got := runCheck(t, dir, 1); !slices.Equal(got, tc.want) {
				t.Errorf("check printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			serve := exec.Command(binary, "serve", "--dir", dir, "--port", fmt.Sprint(freePort(t)))
			serve.Env = append(os.Environ(), "MINIMI_NATS_ENABLED=false")
			out, err := serve.CombinedOutput()
			if err == nil {
				t.Fatalf("serve started; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("serve output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCheckConfigProblems: check prints every problem of config.json on a
// line of its own, each naming the file, as docs/config.md shows.
func TestCheckConfigProblems(t *testing.T) {
	dir := writeService(t, map[string]string{
		"config.json":                       "{\"port\": \"3000\", \"nats\": {\"prt\": 1}, \"limits\": {\"script_ms\": 0}, \"dev\": true,\n  \"dev\": false}",
		"endpoints/notes/notes.execute.lua": brokenNotes,
	})
	file := filepath.Join(dir, "config.json")
	want := []string{
		fmt.Sprintf(`load %s: config: dev: given on lines 1 and 2; a JSON decoder keeps the last and drops the first`, file),
		fmt.Sprintf(`load %s: config: unknown key "nats.prt"; did you mean "nats.port"?`, file),
		fmt.Sprintf(`load %s: config: port: want integer, got string`, file),
		fmt.Sprintf(`load %s: config: limits.script_ms: must be positive, got 0`, file),
	}
	if got := runCheck(t, dir, 1); !slices.Equal(got, want) {
		t.Errorf("check printed %q, want %q", got, want)
	}
}

// TestCheckBadConfigFirst: a bad config.json is reported alone, as
// docs/cli.md says: the endpoints are checked against its phases.
func TestCheckBadConfigFirst(t *testing.T) {
	dir := writeService(t, map[string]string{
		"config.json":                       `{"prot": 3000}`,
		"endpoints/notes/notes.execute.lua": brokenNotes,
	})
	want := []string{fmt.Sprintf(`load %s: config: unknown key "prot"; did you mean "port"?`, filepath.Join(dir, "config.json"))}
	if got := runCheck(t, dir, 1); !slices.Equal(got, want) {
		t.Errorf("check printed %q, want %q", got, want)
	}
}

// usersSchema is the schema of docs/cli.md's check --stores example of a
// unique field, before (extra "") and after the edit that makes email unique.
func usersSchema(extra string) string {
	return `{ "schema": { "type": "object", "required": ["email"], "properties": { "email": { "type": "string" } } }` + extra + " }\n"
}

// TestCheckStoresUnique: once a schema edit makes a field unique that two
// stored records share, check --stores names both, as docs/cli.md shows,
// and exits 1 without writing to the store file; serve refuses to start
// with the same message. Under the old schema both pass.
func TestCheckStoresUnique(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "users")
	schema := filepath.Join(dir, "endpoints", "users", "users.schema.json")
	if _, _, err := writeFiles(dir, map[string][]byte{
		"endpoints/users/users.schema.json": []byte(usersSchema("")),
		"endpoints/users/users.execute.lua": []byte("return { POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end }\n"),
	}); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir)
	for _, id := range []string{"u1", "u2"} {
		if r := do(t, "POST", p.base+"/users", jsonType, `{"id": "`+id+`", "email": "ann@example.com"}`); r.status != 201 {
			t.Fatalf("POST /users %s: %d %s", id, r.status, r.body)
		}
	}
	p.stop(t)
	runCheck(t, dir, 0, "--stores")

	if err := os.WriteFile(schema, []byte(usersSchema(`,
  "unique": ["email"]`)), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "data", "minimi.db")
	before, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	check := exec.Command(binary, "check", "--dir", "users", "--stores")
	check.Dir = root // the paths it prints are relative, as in the docs
	out, err := check.Output()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 1 {
		t.Fatalf("check --stores: %v, want exit 1; output:\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if want := docsExample(t, "$ go run ./cmd/minimi check --dir users --stores\n"); !slices.Equal(got, want) {
		t.Errorf("check --stores printed\n%s\nwant, as docs/cli.md shows,\n%s", out, strings.Join(want, "\n"))
	}
	if after, err := os.ReadFile(store); err != nil || !bytes.Equal(after, before) {
		t.Errorf("minimi.db after check --stores: %v, changed=%v; want it as it was", err, !bytes.Equal(after, before))
	}

	serve := exec.Command(binary, "serve", "--dir", dir, "--port", fmt.Sprint(freePort(t)))
	serve.Env = append(os.Environ(), "MINIMI_NATS_ENABLED=false")
	served, err := serve.CombinedOutput()
	_, conflict, _ := strings.Cut(got[0], ": ") // what follows "check <file>: "
	if err == nil || conflict == "" || !strings.Contains(string(served), "open stash: "+conflict) {
		t.Fatalf("serve: %v\n%s\nwant it to refuse to start with %q", err, served, conflict)
	}

	if err := os.WriteFile(schema, []byte(usersSchema("")), 0o644); err != nil {
		t.Fatal(err)
	}
	runCheck(t, dir, 0, "--stores")
}
