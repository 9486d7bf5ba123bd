package main

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// copyShowcase copies the showcase service (config.json, endpoints/ and lib/
// at the repository's root) into a fresh temp dir.
// startShowcase serves a copy of the showcase. Its scripts get 10 s instead
// of the default 1 s: the test binary is built with the race detector, which
// slows argon2id (sign-up and log-in) by an order of magnitude.
func startShowcase(t *testing.T, env ...string) *proc {
	t.Helper()
	return startServe(t, copyShowcase(t), append([]string{"MINIMI_LIMITS_SCRIPT_MS=10000"}, env...)...)
}

func copyShowcase(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range []string{"config.json", "endpoints", "lib"} {
		copyInto(t, filepath.Join(repoRoot, name), filepath.Join(dst, name))
	}
	return dst
}

// copyInto copies the file or tree src to dst.
func copyInto(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// showcaseUser is a signed-up user of the showcase and its token.
type showcaseUser struct {
	id, token string
}

// signUp creates an account and logs it in.
func signUp(t *testing.T, base, email, password string) showcaseUser {
	t.Helper()
	r := call(t, "POST", base+"/users", "", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password))
	if r.status != 201 {
		t.Fatalf("POST /users %s: %d %s, want 201", email, r.status, r.body)
	}
	id, _ := r.json(t)["id"].(string)
	return showcaseUser{id: id, token: logIn(t, base, email, password)}
}

func logIn(t *testing.T, base, email, password string) string {
	t.Helper()
	r := call(t, "POST", base+"/login", "", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password))
	tok, _ := r.json(t)["token"].(string)
	if r.status != 200 || strings.Count(tok, ".") != 2 {
		t.Fatalf("POST /login %s: %d %s, want 200 and a token", email, r.status, r.body)
	}
	return tok
}

// as sends a request with u's token.
func (u showcaseUser) as(t *testing.T, method, url, body string, headers ...string) reply {
	t.Helper()
	return call(t, method, url, "", body, append([]string{"Authorization", "Bearer " + u.token}, headers...)...)
}

// tamper changes one character in the middle of a token's signature.
func tamper(tok string) string {
	i := len(tok) - 10
	c := byte('A')
	if tok[i] == c {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// TestShowcaseWalkthrough runs the README's walkthrough against the
// showcase in endpoints/: sign up, log in, notes with versions, ownership,
// 401s, 409s and the event stream.
func TestShowcaseWalkthrough(t *testing.T) {
	p := startShowcase(t)
	u := p.base

	t.Run("index", func(t *testing.T) {
		if r := do(t, "GET", u+"/", "", ""); r.status != 200 || r.json(t)["service"] != "showcase" {
			t.Errorf("GET /=%d %s, want 200 and the route list", r.status, r.body)
		}
	})
	var ada showcaseUser
	t.Run("sign up", func(t *testing.T) {
		r := call(t, "POST", u+"/users", "", `{"email": "Ada@Example.com", "password": "correct horse", "name": "Ada"}`)
		m := r.json(t)
		if r.status != 201 || m["email"] != "ada@example.com" || m["name"] != "Ada" {
			t.Fatalf("sign up=%d %s, want 201 with the email lowercased", r.status, r.body)
		}
		if _, ok := m["password"]; ok {
			t.Errorf("sign up reply shows the password field: %s", r.body)
		}
		ada = showcaseUser{id: m["id"].(string), token: logIn(t, u, "ADA@example.com", "correct horse")}
	})
	if ada.token == "" {
		t.FailNow()
	}
	signUpTests := []struct {
		name, body string
		status     int
	}{
		{"same email in other case", `{"email": "ada@EXAMPLE.com", "password": "another password"}`, 409},
		{"short password", `{"email": "b@example.com", "password": "short"}`, 422},
		{"bad email", `{"email": "not an email", "password": "long enough"}`, 422},
		{"no body", ``, 422},
	}
	for _, tc := range signUpTests {
		t.Run("sign up "+tc.name, func(t *testing.T) {
			r := call(t, "POST", u+"/users", "", tc.body)
			if r.status != tc.status {
				t.Fatalf("POST /users %s=%d %s, want %d", tc.body, r.status, r.body, tc.status)
			}
			isProblem(tc.status)(t, r)
		})
	}
	loginTests := []struct {
		name, body string
		status     int
	}{
		{"wrong password", `{"email": "ada@example.com", "password": "wrong horse"}`, 401},
		{"unknown email", `{"email": "nobody@example.com", "password": "correct horse"}`, 401},
		{"no password", `{"email": "ada@example.com"}`, 400},
	}
	for _, tc := range loginTests {
		t.Run("login "+tc.name, func(t *testing.T) {
			r := call(t, "POST", u+"/login", "", tc.body)
			if r.status != tc.status || strings.Contains(string(r.body), "token\"") {
				t.Fatalf("POST /login %s=%d %s, want %d and no token", tc.body, r.status, r.body, tc.status)
			}
			isProblem(tc.status)(t, r)
		})
	}
	unauthorized := []struct {
		name, auth, detail string
	}{
		{"no token", "", "no token"},
		{"garbage token", "Bearer not-a-token", "token invalid"},
		{"tampered token", "Bearer " + tamper(ada.token), "token invalid"},
	}
	for _, tc := range unauthorized {
		t.Run("401 "+tc.name, func(t *testing.T) {
			for _, path := range []string{"/notes", "/notes/x", "/me"} {
				r := call(t, "GET", u+path, "", "", "Authorization", tc.auth)
				if r.status != 401 {
					t.Fatalf("GET %s with %q=%d %s, want 401", path, tc.auth, r.status, r.body)
				}
				isProblem(401)(t, r)
				if d := r.json(t)["detail"]; d != tc.detail {
					t.Errorf("GET %s detail=%v, want %q", path, d, tc.detail)
				}
			}
		})
	}
	t.Run("me", func(t *testing.T) {
		r := ada.as(t, "GET", u+"/me", "")
		if m := r.json(t); r.status != 200 || m["id"] != ada.id || m["password"] != nil {
			t.Errorf("GET /me=%d %s, want ada without a password", r.status, r.body)
		}
	})

	// A new note's owner comes from the token, whatever the body says.
	r := ada.as(t, "POST", u+"/notes", `{"title": "first note", "body": "hello", "owner": "mallory", "id": "chosen"}`)
	note := r.json(t)
	id, _ := note["id"].(string)
	if r.status != 201 || note["owner"] != ada.id || id == "" || id == "chosen" || note["_version"] != 1.0 {
		t.Fatalf("POST /notes=%d %s, want 201 owned by %s with a generated id", r.status, r.body, ada.id)
	}
	wantHeader(t, r, "ETag", `"1"`)
	wantHeader(t, r, "Location", "/notes/"+id)
	if r := ada.as(t, "POST", u+"/notes", `{"title": ""}`); r.status != 422 {
		t.Errorf("POST /notes with an empty title=%d %s, want 422", r.status, r.body)
	}

	t.Run("list and get", func(t *testing.T) {
		r := ada.as(t, "GET", u+"/notes", "")
		var list []map[string]any
		if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 || len(list) != 1 || list[0]["id"] != id {
			t.Fatalf("GET /notes=%d %s, want the one note %s", r.status, r.body, id)
		}
		r = ada.as(t, "GET", u+"/notes/"+id, "")
		if r.status != 200 || r.json(t)["title"] != "first note" {
			t.Fatalf("GET /notes/%s=%d %s", id, r.status, r.body)
		}
		wantHeader(t, r, "ETag", `"1"`)
	})
	t.Run("patch with If-Match", func(t *testing.T) {
		r := ada.as(t, "PATCH", u+"/notes/"+id, `{"title": "edited", "owner": "mallory"}`, "If-Match", `"1"`)
		m := r.json(t)
		if r.status != 200 || m["title"] != "edited" || m["body"] != "hello" || m["owner"] != ada.id || m["_version"] != 2.0 {
			t.Fatalf("PATCH If-Match 1=%d %s, want version 2, edited, still ada's", r.status, r.body)
		}
		wantHeader(t, r, "ETag", `"2"`)
		r = ada.as(t, "PATCH", u+"/notes/"+id, `{"title": "stale"}`, "If-Match", `"1"`)
		if r.status != 409 {
			t.Fatalf("PATCH with a stale If-Match=%d %s, want 409", r.status, r.body)
		}
		isProblem(409)(t, r)
		for _, tc := range []struct {
			body, ifMatch string
			status        int
		}{
			{`{"title": "x"}`, "soon", 412},
			{`{"title": "x"}`, `W/"2"`, 412},
			{`{"title": "x"}`, `"2`, 412},
			{`{"title": "x"}`, `2"`, 412},
			{`{"title": "x"}`, "99999999999999999999", 409}, // a version no record is at: never read as no header
			{`{"title": "x"}`, "0", 409},
			{`42`, `"2"`, 422},
			{`["x"]`, `"2"`, 422},
		} {
			if r := ada.as(t, "PATCH", u+"/notes/"+id, tc.body, "If-Match", tc.ifMatch); r.status != tc.status {
				t.Errorf("PATCH %s If-Match %s=%d %s, want %d", tc.body, tc.ifMatch, r.status, r.body, tc.status)
			}
		}
		if r := ada.as(t, "POST", u+"/notes", `"a note"`); r.status != 422 {
			t.Errorf("POST /notes \"a note\"=%d %s, want 422", r.status, r.body)
		}
		if r := ada.as(t, "GET", u+"/notes/"+id, ""); r.json(t)["title"] != "edited" {
			t.Errorf("after the 409 the note is %s, want it unchanged", r.body)
		}
	})
	t.Run("other users see nothing", func(t *testing.T) {
		bob := signUp(t, u, "bob@example.com", "bob's password")
		r := bob.as(t, "GET", u+"/notes", "")
		if r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("bob's GET /notes=%d %s, want []", r.status, r.body)
		}
		for _, method := range []string{"GET", "PATCH", "DELETE"} {
			r := bob.as(t, method, u+"/notes/"+id, `{"title": "mine now"}`)
			if r.status != 404 {
				t.Errorf("bob's %s /notes/%s=%d %s, want 404", method, id, r.status, r.body)
			}
		}
		if r := ada.as(t, "GET", u+"/notes/"+id, ""); r.json(t)["title"] != "edited" {
			t.Errorf("after bob's attempts the note is %s", r.body)
		}
	})
	t.Run("event stream", func(t *testing.T) {
		ev := waitEvent(t, u, "note.created")
		if ev.Service != "showcase" || ev.Command.Route != "/notes" || ev.Command.Method != "POST" || ev.Status != 201 {
			t.Errorf("note.created event=%+v, want service showcase, POST /notes, 201", ev)
		}
		if len(ev.Changes) != 1 || ev.Changes[0].ID != id || ev.Changes[0].Stash != "/notes" {
			t.Errorf("note.created changes=%+v, want the create of %s", ev.Changes, id)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if r := ada.as(t, "DELETE", u+"/notes/"+id, "", "If-Match", `"1"`); r.status != 409 {
			t.Errorf("DELETE with a stale If-Match=%d %s, want 409", r.status, r.body)
		}
		if r := ada.as(t, "DELETE", u+"/notes/"+id, "", "If-Match", "0"); r.status != 409 {
			t.Errorf("DELETE with If-Match 0=%d %s, want 409", r.status, r.body)
		}
		if r := ada.as(t, "DELETE", u+"/notes/"+id, "", "If-Match", `"2"`); r.status != 204 {
			t.Fatalf("DELETE=%d %s, want 204", r.status, r.body)
		}
		if r := ada.as(t, "GET", u+"/notes/"+id, ""); r.status != 404 {
			t.Errorf("GET after DELETE=%d, want 404", r.status)
		}
		waitEvent(t, u, "note.deleted")
	})
}

// streamEvent is what the walkthrough reads of an event on /_minimi/events.
type streamEvent struct {
	Seq     uint64
	Service string
	Command struct{ Method, Path, Route string }
	Status  int
	Changes []struct{ Op, Stash, ID string }
	Events  []struct {
		Type string
		Data map[string]any
	}
}

// waitEvent reads /_minimi/events from the start until an event emits typ.
func waitEvent(t *testing.T, base, typ string) streamEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/_minimi/events?after=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET /_minimi/events=%d %s, want 200 text/event-stream", resp.StatusCode, ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var last uint64
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev streamEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		if ev.Seq != last+1 {
			t.Errorf("event seq=%d after %d, want %d", ev.Seq, last, last+1)
		}
		last = ev.Seq
		for _, e := range ev.Events {
			if e.Type == typ {
				return ev
			}
		}
	}
	t.Fatalf("no %s event in the stream (read %d events): %v", typ, last, sc.Err())
	return streamEvent{}
}

// readmeWalkthrough returns the first sh block after the README's heading
// "## The showcase".
func readmeWalkthrough(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## The showcase")
	if !ok {
		t.Fatal(`README.md has no "## The showcase" section`)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("the showcase section of README.md has no sh block")
	}
	return block
}

// TestReadmeWalkthrough runs the README's walkthrough, as written, with curl
// against the showcase; only the address changes, and the endless event
// stream gets a time limit.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s: %v", tool, err)
		}
	}
	p := startShowcase(t)
	script := readmeWalkthrough(t)
	script = strings.ReplaceAll(script, "localhost:3000", strings.TrimPrefix(p.base, "http://"))
	if !strings.Contains(script, "curl -N ") {
		t.Fatal("the walkthrough does not follow the event stream with curl -N")
	}
	script = strings.ReplaceAll(script, "curl -N ", "curl -sN --max-time 2 ")
	out, _ := exec.CommandContext(t.Context(), "bash", "-c", script).CombinedOutput()
	for _, want := range []string{
		`"email":"ada@example.com"`,
		`"title":"first note"`,
		`"_version":2`,
		`"title":"edited"`,
		`"status":409`,
		`"status":401`,
		`"type":"note.created"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walkthrough's output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"title":"lost update"`) {
		t.Errorf("the stale PATCH was written:\n%s", out)
	}
}

// TestShowcaseEventsOnNATS checks what docs/events.md says of the bus: each
// event goes to minimi.events.<service>.<path segments> with the headers
// Nats-Msg-Id and Minimi-Seq.
func TestShowcaseEventsOnNATS(t *testing.T) {
	ns, env := natsForServe(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("minimi.events.showcase.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	p := startShowcase(t, env...)
	ada := signUp(t, p.base, "ada@example.com", "correct horse")
	note := ada.as(t, "POST", p.base+"/notes", `{"title": "on the bus"}`).json(t)
	ada.as(t, "PATCH", p.base+"/notes/"+note["id"].(string), `{"title": "moved"}`, "If-Match", `"1"`)

	want := []struct{ subject, event string }{
		{"minimi.events.showcase.users", "user.signed_up"},
		{"minimi.events.showcase.login", "user.logged_in"},
		{"minimi.events.showcase.notes", "note.created"},
		{"minimi.events.showcase.notes." + note["id"].(string), ""},
	}
	for i, w := range want {
		msg, err := sub.NextMsg(20 * time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		var ev struct {
			Seq    uint64
			ID     string
			Events []struct{ Type string }
		}
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if msg.Subject != w.subject {
			t.Errorf("message %d subject=%q, want %q", i, msg.Subject, w.subject)
		}
		if got := msg.Header.Get("Nats-Msg-Id"); got != ev.ID || got == "" {
			t.Errorf("message %d Nats-Msg-Id=%q, want the event id %q", i, got, ev.ID)
		}
		if got := msg.Header.Get("Minimi-Seq"); got != fmt.Sprint(ev.Seq) || ev.Seq != uint64(i+1) {
			t.Errorf("message %d Minimi-Seq=%q seq=%d, want %d", i, got, ev.Seq, i+1)
		}
		if w.event != "" && (len(ev.Events) != 1 || ev.Events[0].Type != w.event) {
			t.Errorf("message %d events=%+v, want %s", i, ev.Events, w.event)
		}
	}
}

// dockerBuildLine finds the Dockerfile's `RUN … go build …` step.
func dockerBuildLine(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines, then find the one RUN step that builds.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var found []string
	for line := range strings.SplitSeq(text, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "RUN "); ok && strings.Contains(cmd, "go build") {
			found = append(found, cmd)
		}
	}
	if len(found) != 1 {
		t.Fatalf("Dockerfile has %d RUN steps with go build, want 1: %q", len(found), found)
	}
	return found[0]
}

// TestDockerfileBuildStep runs the Dockerfile's build step as a shell
// command, without Docker: it must give a static binary that knows its
// version.
func TestDockerfileBuildStep(t *testing.T) {
	step := dockerBuildLine(t)
	for _, want := range []string{"CGO_ENABLED=0", "-X main.version=${VERSION}", "-o /out/minimi", "./cmd/minimi"} {
		if !strings.Contains(step, want) {
			t.Errorf("the build step lacks %q: %s", want, step)
		}
	}
	out := filepath.Join(t.TempDir(), "minimi")
	cmd := exec.CommandContext(t.Context(), "sh", "-c", strings.ReplaceAll(step, "/out/minimi", out))
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-test", "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build step: %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is not static", p.Type)
		}
	}
	b, err := exec.Command(out, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "minimi v0.0.0-test" {
		t.Errorf("version=%q %v, want minimi v0.0.0-test", b, err)
	}
}

// TestDockerImage builds the image and serves the showcase from it. It
// needs a Docker engine and skips without one.
func TestDockerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Docker image")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("no Docker engine (docker info: %v)", err)
	}
	tag := fmt.Sprintf("minimi-test:%d", time.Now().UnixNano())
	build := exec.CommandContext(t.Context(), "docker", "build", "--build-arg", "VERSION=v0.0.0-docker", "-t", tag, ".")
	build.Dir = repoRoot
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, b)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "image", "rm", "-f", tag).Run() })
	b, err := exec.Command("docker", "run", "--rm", tag, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "minimi v0.0.0-docker" {
		t.Errorf("docker run version=%q %v, want minimi v0.0.0-docker", b, err)
	}
	b, err = exec.Command("docker", "image", "inspect", "--format", "{{.Config.User}} {{json .Config.ExposedPorts}} {{json .Config.Volumes}}", tag).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{`"3000/tcp"`, `"4222/tcp"`, `"/data"`} {
		if !strings.Contains(got, want) {
			t.Errorf("image config %s lacks %s", got, want)
		}
	}
	if user := strings.Fields(got)[0]; user == "" || user == "root" || user == "0" {
		t.Errorf("image user=%q, want a non-root user", user)
	}
	port := freePort(t)
	name := strings.ReplaceAll(tag, ":", "-")
	run := exec.Command("docker", "run", "--rm", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:3000", port),
		"-e", "MINIMI_AUTH_SECRET=a-test-secret-of-at-least-32-bytes!!", tag)
	if b, err := run.CombinedOutput(); err != nil {
		t.Fatalf("docker run: %v\n%s", err, b)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "stop", name).Run() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	eventually(t, "the container never answered /_minimi/health", func() string {
		resp, err := http.Get(base + "/_minimi/health")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		return ""
	})
	ada := signUp(t, base, "ada@example.com", "correct horse")
	if r := ada.as(t, "POST", base+"/notes", `{"title": "in a container"}`); r.status != 201 {
		t.Errorf("POST /notes in the container=%d %s, want 201", r.status, r.body)
	}
}

// TestDockerfileShape checks what the image promises without building it:
// stages, a non-root user, the data volume and ports.
func TestDockerfileShape(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	tests := []struct {
		name string
		re   string
	}{
		{"builder stage", `(?m)^FROM golang:\S+ AS build$`},
		{"small final stage", `(?m)^FROM (gcr\.io/distroless/static\S*|scratch|alpine\S*)$`},
		{"non-root user", `(?m)^USER (nonroot|[1-9][0-9]*)(:[0-9a-z]+)?$`},
		{"data volume", `(?m)^VOLUME \["?/data"?\]$`},
		{"ports", `(?m)^EXPOSE 3000 4222$`},
		{"serves /srv", `(?m)^CMD \["serve", "--dir", "/srv"\]$`},
		{"data_dir on the volume", `(?m)^ENV .*MINIMI_DATA_DIR=/data`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !regexp.MustCompile(tc.re).MatchString(text) {
				t.Errorf("Dockerfile does not match %s", tc.re)
			}
		})
	}
	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", "data", "minimi"} {
		if !strings.Contains(string(ignore), want) {
			t.Errorf(".dockerignore does not leave out %s", want)
		}
	}
}
