package bus

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/minimi-go/minimi/internal/bus/bustest"
	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/syncbuf"
)

// runServer starts a plain nats-server for tests on port (-1: random).
func runServer(t *testing.T, port int) *server.Server {
	t.Helper()
	opts := bustest.Options(t)
	opts.Port = port
	return bustest.Server(t, opts)
}

// roundTrip publishes on conn and waits for the message on a second connection to url.
func roundTrip(t *testing.T, nc *nats.Conn, url string) {
	t.Helper()
	other, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("Connect(%s)=%v", url, err)
	}
	defer other.Close()
	sub, err := other.SubscribeSync("bus.test")
	if err != nil {
		t.Fatalf("SubscribeSync()=%v", err)
	}
	if err := other.Flush(); err != nil {
		t.Fatalf("Flush()=%v", err)
	}
	if err := nc.Publish("bus.test", []byte("hello")); err != nil {
		t.Fatalf("Publish()=%v", err)
	}
	msg, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("NextMsg()=%v", err)
	}
	if got := string(msg.Data); got != "hello" {
		t.Fatalf("NextMsg().Data=%q, want %q", got, "hello")
	}
}

func TestStartEmbedded(t *testing.T) {
	b, err := Start(Options{Enabled: true, Port: -1, Name: "svc", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Start()=%v", err)
	}
	defer b.Close()
	if b.Conn() == nil {
		t.Fatal("Conn()=nil, want a connection")
	}
	if !strings.HasPrefix(b.ClientURL(), "nats://127.0.0.1:") {
		t.Fatalf("ClientURL()=%q, want nats://127.0.0.1:<port>", b.ClientURL())
	}
	roundTrip(t, b.Conn(), b.ClientURL())
	if got := b.Conn().MaxPayload(); got != EmbeddedMaxPayload {
		t.Errorf("MaxPayload()=%d, want %d: events and replies of a few MiB go whole", got, EmbeddedMaxPayload)
	}
	if _, err := b.Conn().JetStream(); err != nil {
		t.Fatalf("JetStream()=%v", err)
	}
	b.Close()
	b.Close()
	if !b.Conn().IsClosed() {
		t.Fatal("Conn().IsClosed()=false after Close, want true")
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(b.ClientURL(), "nats://")); err == nil {
		t.Fatal("embedded server still accepts connections after Close")
	}
}

func TestStartDisabled(t *testing.T) {
	b, err := Start(Options{Enabled: false, Port: -1})
	if err != nil {
		t.Fatalf("Start()=%v", err)
	}
	if b.Conn() != nil || b.ClientURL() != "" {
		t.Fatalf("Conn()=%v ClientURL()=%q, want nil and empty", b.Conn(), b.ClientURL())
	}
	b.Close()
	b.Close()
}

func TestStartExternal(t *testing.T) {
	ns := runServer(t, -1)
	b, err := Start(Options{Enabled: true, URL: ns.ClientURL()})
	if err != nil {
		t.Fatalf("Start()=%v", err)
	}
	defer b.Close()
	if b.ClientURL() != ns.ClientURL() {
		t.Fatalf("ClientURL()=%q, want %q", b.ClientURL(), ns.ClientURL())
	}
	roundTrip(t, b.Conn(), ns.ClientURL())
	b.Close()
	if !ns.Running() {
		t.Fatal("Close shut down an external server")
	}
}

// TestStartExternalDown starts the bus while its server is down; it
// connects when the server comes up.
func TestStartExternalDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	var logs syncbuf.Buffer
	b, err := Start(Options{Enabled: true, URL: url, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Start() with the server down=%v, want nil", err)
	}
	defer b.Close()
	if b.Conn().IsConnected() {
		t.Fatal("IsConnected()=true before the server started")
	}
	// The log says so at once: a mistyped URL is not a silent bus.
	if want := `"level":"WARN","msg":"nats not reachable; connecting in the background","component":"bus","url":"` + url + `"`; !strings.Contains(logs.String(), want) {
		t.Errorf("log=%q, want %q", logs.String(), want)
	}
	connected := b.Conn().StatusChanged(nats.CONNECTED)
	runServer(t, port)
	if !b.Conn().IsConnected() {
		<-connected
	}
	roundTrip(t, b.Conn(), url)
}

func TestStartPortInUse(t *testing.T) {
	ns := runServer(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	_, err := Start(Options{Enabled: true, Port: port, ReadyTimeout: 5 * time.Second})
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "nats.port") {
		t.Fatalf("Start() on a busy port=%v, want ErrPortInUse naming nats.port", err)
	}
}

func TestEmbeddedLogs(t *testing.T) {
	var buf syncbuf.Buffer
	lg := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b, err := Start(Options{Enabled: true, Port: -1, Name: "logged", Logger: lg})
	if err != nil {
		t.Fatalf("Start()=%v", err)
	}
	b.Close()
	out := buf.String()
	for _, want := range []string{"Server is ready", "component=bus", "server=logged", "embedded nats server started"} {
		if !strings.Contains(out, want) {
			t.Errorf("log=%q, want it to contain %q", out, want)
		}
	}
}

func TestSlogAdapterLevels(t *testing.T) {
	tests := []struct {
		name string
		call func(a slogAdapter)
		want string
	}{
		{"notice", func(a slogAdapter) { a.Noticef("n %d", 1) }, "level=INFO msg=\"n 1\""},
		{"warn", func(a slogAdapter) { a.Warnf("w %d", 2) }, "level=WARN msg=\"w 2\""},
		{"error", func(a slogAdapter) { a.Errorf("e %d", 3) }, "level=ERROR msg=\"e 3\""},
		{"fatal", func(a slogAdapter) { a.Fatalf("f %d", 4) }, "level=ERROR msg=\"f 4\""},
		{"debug", func(a slogAdapter) { a.Debugf("d %d", 5) }, "level=DEBUG msg=\"d 5\""},
		{"trace", func(a slogAdapter) { a.Tracef("t %d", 6) }, "level=DEBUG-4 msg=\"t 6\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug - 4})
			tc.call(slogAdapter{l: slog.New(h)})
			if !strings.Contains(buf.String(), tc.want) {
				t.Fatalf("log=%q, want %q", buf.String(), tc.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"default", DefaultOptions(), nil},
		{"random port", Options{Enabled: true, Port: -1}, nil},
		{"port too low", Options{Port: -2}, ErrInvalidOptions},
		{"port too high", Options{Port: 65536}, ErrInvalidOptions},
		{"negative timeout", Options{ReadyTimeout: -time.Second}, ErrInvalidOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); !errors.Is(err, tc.want) {
				t.Fatalf("Validate()=%v, want %v", err, tc.want)
			}
			if tc.want == nil {
				return
			}
			if _, err := Start(tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("Start()=%v, want %v", err, tc.want)
			}
		})
	}
}

func TestRedactURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://ann:pw@bus:4222", "nats://ann:xxxxx@bus:4222"},
		{"nats://t0ken@bus:4222", "nats://xxxxx@bus:4222"},
		{"nats://a:pw1@b1:4222, tls://b:pw2@b2:4443", "nats://a:xxxxx@b1:4222, tls://b:xxxxx@b2:4443"},
		{"ann:pw@bus:4222", "ann:xxxxx@bus:4222"},
		{"nats://ann:p%zz@bus:4222", "nats://ann:xxxxx@bus:4222"},
		{"nats://ann:p,w0rd@bus:4222", "nats://ann:xxxxx@bus:4222"},     // a raw comma in the password
		{"nats://ann:p@ss@bus:4222", "nats://ann:xxxxx@bus:4222"},       // a raw @ in the password
		{"nats://ann:Zm9v/YmFy+@bus:4222", "nats://ann:xxxxx@bus:4222"}, // a raw / in the password
		{"nats://t0k/en@bus:4222", "nats://xxxxx@bus:4222"},
		{"nats://a:p/1@b1:4222,nats://t/2@b2:4222", "nats://a:xxxxx@b1:4222,nats://xxxxx@b2:4222"},
		{`parse "nats://ann:s3cret@bus:notaport": invalid port`, `parse "nats://ann:xxxxx@bus:notaport": invalid port`},
	}
	for _, tc := range tests {
		if got := config.RedactURLs(tc.in); got != tc.want {
			t.Errorf("RedactURLs(%q)=%q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStartHidesSecret: the error of a URL the NATS client cannot parse
// does not quote its password.
func TestStartHidesSecret(t *testing.T) {
	b, err := Start(Options{Enabled: true, URL: "nats://ann:s3cret@bus:notaport"})
	if err == nil {
		b.Close()
		t.Fatal("Start()=nil, want an error")
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "ann:xxxxx@bus:notaport") {
		t.Errorf("Start()=%v, want the URL without its password", err)
	}
}

// TestAsyncErrorLogged: an error the server reports on its own (here a
// publish its permissions refuse) is a WARN line of the bus's log, not
// plain text that nats.go writes to stderr between the JSON lines.
func TestAsyncErrorLogged(t *testing.T) {
	opts := bustest.Options(t)
	opts.Users = []*server.User{{Username: "u", Password: "p", Permissions: &server.Permissions{
		Publish: &server.SubjectPermission{Deny: []string{"denied.>"}}}}}
	ns := bustest.Server(t, opts)
	var logs syncbuf.Buffer
	url := "nats://u:p@" + strings.TrimPrefix(ns.ClientURL(), "nats://")
	b, err := Start(Options{Enabled: true, URL: url, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Start()=%v", err)
	}
	defer b.Close()
	if err := b.Conn().Publish("denied.x", nil); err != nil {
		t.Fatalf("Publish()=%v", err)
	}
	if err := b.Conn().Flush(); err != nil {
		t.Fatalf("Flush()=%v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if s := logs.String(); strings.Contains(s, `"level":"WARN","msg":"nats error"`) && strings.Contains(s, `denied.x`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no WARN line for the refused publish in the log:\n%s", logs.String())
		}
	}
}
