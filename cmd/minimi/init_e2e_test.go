package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/minimi-go/minimi/internal/config"
)

// runInit runs `minimi init` in-process and returns its output.
func runInit(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"init"}, args...), &out, io.Discard)
	return out.String(), err
}

// TestInitScaffoldServes scaffolds a service, serves it as a process and
// drives its collection with create, list, get, patch and delete.
func TestInitScaffoldServes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "todo api")
	out, err := exec.Command(binary, "init", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	for _, want := range []string{`created service "todo-api"`, "endpoints/todos/todos.schema.json",
		"minimi serve --dir '" + dir + "' --watch", "curl localhost:3000/todos"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	if out, err := exec.Command(binary, "check", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("check of the scaffold: %v\n%s", err, out)
	}
	u := startServe(t, dir).base + "/todos"

	r := do(t, "POST", u, jsonType, `{"title": "write a todo app", "id": "mine", "_version": 7}`)
	todo := r.json(t)
	id, _ := todo["id"].(string)
	if r.status != 201 || todo["title"] != "write a todo app" || todo["done"] != false || todo["_version"] != 1.0 || id == "mine" {
		t.Fatalf("POST /todos=%d %s, want 201 with version 1 and a generated id", r.status, r.body)
	}
	wantHeader(t, r, "Location", "/todos/"+id)
	tests := []struct {
		name, method, path, body, ifMatch string
		status                            int
		check                             func(t *testing.T, r reply)
	}{
		{"list", "GET", "", "", "", 200, func(t *testing.T, r reply) {
			if !bytes.HasPrefix(r.body, []byte(`[{`)) || !bytes.Contains(r.body, []byte(id)) || bytes.Count(r.body, []byte(`"id"`)) != 1 {
				t.Errorf("list=%s, want the one todo", r.body)
			}
		}},
		{"get", "GET", "/" + id, "", "", 200, func(t *testing.T, r reply) { wantHeader(t, r, "ETag", `"1"`) }},
		{"get missing", "GET", "/nope", "", "", 404, isProblem(404)},
		{"invalid", "POST", "", `{"title": ""}`, "", 422, isProblem(422)},
		{"patch", "PATCH", "/" + id, `{"done": true}`, "1", 200, func(t *testing.T, r reply) {
			if m := r.json(t); m["done"] != true || m["title"] != "write a todo app" || m["_version"] != 2.0 {
				t.Errorf("patch=%s, want done, same title, version 2", r.body)
			}
			wantHeader(t, r, "ETag", `"2"`)
		}},
		{"patch stale", "PATCH", "/" + id, `{"done": false}`, `"1"`, 409, isProblem(409)},
		{"patch If-Match 0", "PATCH", "/" + id, `{"done": false}`, "0", 409, isProblem(409)},
		{"patch long If-Match", "PATCH", "/" + id, `{"done": false}`, "99999999999999999999", 409, isProblem(409)}, // a version no record is at
		{"patch bad If-Match", "PATCH", "/" + id, `{"done": false}`, "latest", 412, isProblem(412)},
		{"patch weak If-Match", "PATCH", "/" + id, `{"done": false}`, `W/"2"`, 412, isProblem(412)},
		{"patch empty If-Match", "PATCH", "/" + id, `{"done": false}`, `""`, 412, isProblem(412)},
		{"patch scalar body", "PATCH", "/" + id, `42`, "", 422, isProblem(422)},
		{"patch array body", "PATCH", "/" + id, `[1]`, "", 422, isProblem(422)},
		{"create scalar body", "POST", "", `"str"`, "", 422, isProblem(422)},
		{"create true body", "POST", "", `true`, "", 422, isProblem(422)},
		{"create array body", "POST", "", `[{"title": "x"}]`, "", 422, isProblem(422)},
		{"patch any version", "PATCH", "/" + id, `{"done": true}`, "*", 200, func(t *testing.T, r reply) {
			wantHeader(t, r, "ETag", `"3"`)
		}},
		{"patch missing", "PATCH", "/nope", `{"done": false}`, "", 404, isProblem(404)},
		{"delete stale", "DELETE", "/" + id, "", "1", 409, isProblem(409)},
		{"delete If-Match 0", "DELETE", "/" + id, "", "0", 409, isProblem(409)},
		{"delete bad If-Match", "DELETE", "/" + id, "", "latest", 412, isProblem(412)},
		{"delete", "DELETE", "/" + id, "", `"3"`, 204, nil},
		{"gone", "GET", "/" + id, "", "", 404, isProblem(404)},
		{"delete again", "DELETE", "/" + id, "", "", 404, isProblem(404)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.ifMatch != "" {
				headers = []string{"If-Match", tc.ifMatch}
			}
			r := call(t, tc.method, u+tc.path, "", tc.body, headers...)
			if r.status != tc.status {
				t.Fatalf("%s /todos%s=%d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestInitReadmeNamesEveryFile keeps the scaffold's README in step with the
// files it describes.
func TestInitReadmeNamesEveryFile(t *testing.T) {
	files, err := renderTemplate(templateData{Name: "x"})
	if err != nil {
		t.Fatalf("renderTemplate()=%v", err)
	}
	readme := string(files["README.md"])
	for p := range files {
		if strings.HasPrefix(p, "endpoints/") && !strings.Contains(readme, p) {
			t.Errorf("README.md does not mention %s", p)
		}
	}
	if !strings.HasPrefix(readme, "# x\n") {
		t.Errorf("README.md starts %q, want the service name as its title", readme[:min(len(readme), 20)])
	}
}

func TestInitTargets(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // makes dir before init
		args    []string
		wantErr error  // nil: init succeeds
		errText string // in the error
		name2   string // the service name in config.json on success
	}{
		{name: "new dir", name2: "svc"},
		{name: "empty dir", prepare: mkdir, name2: "svc"},
		{name: "non-empty dir", prepare: withFile, wantErr: errNotEmpty},
		{name: "non-empty dir with --force", prepare: withFile, args: []string{"--force"}, name2: "svc"},
		{name: "only a dotfile", prepare: withDotfile, wantErr: errNotEmpty},
		{name: "a file", prepare: asFile, errText: "not a directory"},
		{name: "a file with --force", prepare: asFile, args: []string{"--force"}, errText: "not a directory"},
		{name: "--name", args: []string{"--name", "notes_v2"}, name2: "notes_v2"},
		{name: "bad --name", args: []string{"--name", "my notes"}, errText: "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "svc")
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			out, err := runInit(t, append([]string{dir}, tc.args...)...)
			if tc.wantErr != nil || tc.errText != "" {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("init=%v, want %v %q", err, tc.wantErr, tc.errText)
				}
				if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
					t.Errorf("a refused init wrote config.json")
				}
				return
			}
			if err != nil {
				t.Fatalf("init=%v\n%s", err, out)
			}
			cfg, err := config.ReadConfigFile(filepath.Join(dir, "config.json"), true)
			if err != nil {
				t.Fatalf("config.json: %v", err)
			}
			if cfg.Name != tc.name2 {
				t.Errorf("config.json name=%q, want %q", cfg.Name, tc.name2)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "keep.txt")); err == nil && string(b) != "mine" {
				t.Errorf("--force changed a file that is not the template's: %q", b)
			}
			for _, p := range []string{".gitignore", "README.md", "endpoints/todos/[id]/[id].execute.lua"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					t.Errorf("scaffold lacks %s: %v", p, err)
				}
			}
		})
	}
}

// init writes files and reads nothing from the environment: a bad or
// unknown MINIMI_* variable, which would stop serve, does not stop it, nor
// change the config.json it writes.
func TestInitIgnoresEnv(t *testing.T) {
	for _, env := range []string{"MINIMI_PORT=abc", "MINIMI_PORT=70000", "MINIMI_NAME=my notes", "MINIMI_NATS_ENABLE=false"} {
		t.Run(env, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "svc")
			cmd := exec.Command(binary, "init", dir)
			cmd.Env = append(os.Environ(), env)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), `created service "svc"`) {
				t.Fatalf("init with %s=%v, want it to write the service; output:\n%s", env, err, out)
			}
			b, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "{\n  \"name\": \"svc\",\n  \"port\": 3000\n}\n"; string(b) != want {
				t.Errorf("config.json=%q, want %q", b, want)
			}
		})
	}
	// The environment cannot hide a bad --name either.
	dir := filepath.Join(t.TempDir(), "svc")
	cmd := exec.Command(binary, "init", "--name", "bad name", dir)
	cmd.Env = append(os.Environ(), "MINIMI_NAME=ok")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "name") {
		t.Errorf("init --name 'bad name' with MINIMI_NAME=ok=%v, want it refused; output:\n%s", err, out)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func withFile(t *testing.T, dir string) {
	t.Helper()
	mkdir(t, dir)
	write(t, filepath.Join(dir, "keep.txt"), "mine")
}

func withDotfile(t *testing.T, dir string) {
	t.Helper()
	mkdir(t, dir)
	write(t, filepath.Join(dir, ".git"), "gitdir: elsewhere")
}

func asFile(t *testing.T, dir string) {
	t.Helper()
	write(t, dir, "a file, not a directory")
}

func TestServiceName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"notes", "notes"},
		{"todo api", "todo-api"},
		{"My Service!", "My-Service"},
		{"a..b__c--d", "a-b__c--d"},
		{"---", "service"},
		{"", "service"},
		{"/", "service"},
		{"été", "t"},
		{"日本", "service"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := serviceName(tc.in); got != tc.want {
				t.Errorf("serviceName(%q)=%q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// validName is the rule config.json holds a service name to.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// FuzzServiceName checks that every directory name gives a service name
// that config.json accepts.
func FuzzServiceName(f *testing.F) {
	for _, s := range []string{"notes", "todo api", "", "-", "日本", "a\x00b", "\xff", strings.Repeat("x-", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, base string) {
		name := serviceName(base)
		if !validName.MatchString(name) {
			t.Fatalf("serviceName(%q)=%q, not a valid service name", base, name)
		}
		if _, err := renderTemplate(templateData{Name: name}); err != nil {
			t.Fatalf("renderTemplate(%q)=%v", name, err)
		}
	})
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"svc", "svc"},
		{"../a/b-c_d.e", "../a/b-c_d.e"},
		{"my todo", "'my todo'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"", "''"},
	}
	for _, tc := range tests {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q)=%q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestInitForceSaysWhatItOverwrote: init --force lists the files of the
// template that it replaced, and only those.
func TestInitForceSaysWhatItOverwrote(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "svc")
	withFile(t, dir)
	write(t, filepath.Join(dir, "config.json"), `{"name": "mine", "port": 1234}`)
	out, err := runInit(t, dir, "--force")
	if err != nil {
		t.Fatalf("init --force=%v\n%s", err, out)
	}
	if !strings.Contains(out, "  config.json (overwritten)\n") || strings.Contains(out, "README.md (overwritten)") {
		t.Errorf("init --force said\n%s\nwant config.json, and only it, marked overwritten", out)
	}
	if again, err := runInit(t, dir, "--force"); err != nil || strings.Contains(again, "(overwritten)") {
		t.Errorf("a second init --force=%v said\n%s\nwant nothing overwritten: the files are the template's", err, again)
	}
}
