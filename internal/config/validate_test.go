package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{"defaults", func(c *Config) {}},
		{"name with dash and underscore", func(c *Config) { c.Name = "notes-service_2" }},
		{"port zero", func(c *Config) { c.Port = 0 }},
		{"port max", func(c *Config) { c.Port = 65535 }},
		{"one phase", func(c *Config) { c.Phases = []string{"execute"} }},
		{"phase with digits and underscore", func(c *Config) { c.Phases = []string{"pre_auth2", "execute"} }},
		{"origins", func(c *Config) {
			c.Whitelist = []string{"https://app.example.com", "http://localhost:5173", "http://[::1]:8080", "chrome-extension://abcdef"}
		}},
		{"clients", func(c *Config) {
			c.Clients = map[string]Client{
				"web":  {KeySHA256: testSHA, CIDRs: []string{"127.0.0.0/8", "::1/128", "10.1.2.3/32"}},
				"cron": {KeySHA256: testSHA},
			}
		}},
		{"endpoints", func(c *Config) {
			c.Clients = map[string]Client{"web": {KeySHA256: testSHA}}
			c.Endpoints = map[string]Endpoint{
				"/":            {"log_body": false, "anything": []any{1.0, "x", nil}},
				"/notes":       {"clients": []any{"web"}, "log_body": true},
				"/notes/[id]":  {"clients": []string{"web"}},
				"/files/[...]": {"clients": []any{}},
			}
		}},
		{"nats random port", func(c *Config) { c.NATS.Port = -1 }},
		{"nats cluster", func(c *Config) { c.NATS.URL = "nats://a.example:4222, tls://b.example:4443,localhost:4222" }},
		{"nats websocket", func(c *Config) { c.NATS.URL = "wss://bus.example" }},
		{"auth secret empty", func(c *Config) { c.Auth.Secret = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate()=%v, want nil", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	withClient := func(cl Client) func(c *Config) {
		return func(c *Config) { c.Clients = map[string]Client{"web": cl} }
	}
	withEndpoint := func(url string, e Endpoint) func(c *Config) {
		return func(c *Config) {
			c.Clients = map[string]Client{"web": {KeySHA256: testSHA}}
			c.Endpoints = map[string]Endpoint{url: e}
		}
	}
	withOrigin := func(o string) func(c *Config) {
		return func(c *Config) { c.Whitelist = []string{"https://ok.example", o} }
	}
	tests := []struct {
		name   string
		change func(c *Config)
		key    string
		kind   error
	}{
		{"empty name", func(c *Config) { c.Name = "" }, "name", ErrBadValue},
		{"name with space", func(c *Config) { c.Name = "my service" }, "name", ErrBadValue},
		{"name with dot", func(c *Config) { c.Name = "a.b" }, "name", ErrBadValue},
		{"negative port", func(c *Config) { c.Port = -1 }, "port", ErrBadValue},
		{"port too big", func(c *Config) { c.Port = 65536 }, "port", ErrBadValue},
		{"no phases", func(c *Config) { c.Phases = nil }, "phases", ErrBadValue},
		{"empty phase", func(c *Config) { c.Phases = []string{"load", ""} }, "phases[1]", ErrBadValue},
		{"duplicate phase", func(c *Config) { c.Phases = []string{"load", "execute", "load"} }, "phases[2]", ErrBadValue},
		{"reserved schema", func(c *Config) { c.Phases = []string{"schema"} }, "phases[0]", ErrBadValue},
		{"reserved stash", func(c *Config) { c.Phases = []string{"stash"} }, "phases[0]", ErrBadValue},
		{"reserved install", func(c *Config) { c.Phases = []string{"install"} }, "phases[0]", ErrBadValue},
		{"reserved endpoint", func(c *Config) { c.Phases = []string{"endpoint"} }, "phases[0]", ErrBadValue},
		{"phase upper case", func(c *Config) { c.Phases = []string{"Load"} }, "phases[0]", ErrBadValue},
		{"phase starts with digit", func(c *Config) { c.Phases = []string{"1st"} }, "phases[0]", ErrBadValue},
		{"phase with dash", func(c *Config) { c.Phases = []string{"pre-auth"} }, "phases[0]", ErrBadValue},
		{"phase with dot", func(c *Config) { c.Phases = []string{"a.b"} }, "phases[0]", ErrBadValue},
		{"origin with slash", withOrigin("https://a.example/"), "whitelist[1]", ErrBadValue},
		{"origin with path", withOrigin("https://a.example/app"), "whitelist[1]", ErrBadValue},
		{"origin without scheme", withOrigin("a.example"), "whitelist[1]", ErrBadValue},
		{"origin upper case", withOrigin("https://A.example"), "whitelist[1]", ErrBadValue},
		{"origin bad port", withOrigin("https://a.example:99999"), "whitelist[1]", ErrBadValue},
		{"origin empty port", withOrigin("https://a.example:"), "whitelist[1]", ErrBadValue},
		{"origin with user", withOrigin("https://u@a.example"), "whitelist[1]", ErrBadValue},
		{"origin with query", withOrigin("https://a.example?x=1"), "whitelist[1]", ErrBadValue},
		{"origin with fragment", withOrigin("https://a.example#top"), "whitelist[1]", ErrBadValue},
		{"origin wildcard", withOrigin("*"), "whitelist[1]", ErrBadValue},
		{"origin null", withOrigin("null"), "whitelist[1]", ErrBadValue},
		{"origin empty", withOrigin(""), "whitelist[1]", ErrBadValue},
		{"client key missing", withClient(Client{}), "clients.web.key_sha256", ErrBadValue},
		{"client key short", withClient(Client{KeySHA256: testSHA[1:]}), "clients.web.key_sha256", ErrBadValue},
		{"client key upper case", withClient(Client{KeySHA256: strings.ToUpper(testSHA)}), "clients.web.key_sha256", ErrBadValue},
		{"client key not hex", withClient(Client{KeySHA256: "g" + testSHA[1:]}), "clients.web.key_sha256", ErrBadValue},
		{"client bare address", withClient(Client{KeySHA256: testSHA, CIDRs: []string{"10.0.0.0/8", "10.0.0.1"}}), "clients.web.cidrs[1]", ErrBadValue},
		{"client prefix too long", withClient(Client{KeySHA256: testSHA, CIDRs: []string{"10.0.0.0/33"}}), "clients.web.cidrs[0]", ErrBadValue},
		{"client cidr host bits", withClient(Client{KeySHA256: testSHA, CIDRs: []string{"10.0.0.1/8"}}), "clients.web.cidrs[0]", ErrBadValue},
		{"client cidr garbage", withClient(Client{KeySHA256: testSHA, CIDRs: []string{"localhost"}}), "clients.web.cidrs[0]", ErrBadValue},
		{"client empty name", func(c *Config) { c.Clients = map[string]Client{"": {KeySHA256: testSHA}} }, "clients", ErrBadValue},
		{"endpoint without slash", withEndpoint("notes", Endpoint{}), "endpoints.notes", ErrBadValue},
		{"endpoint trailing slash", withEndpoint("/notes/", Endpoint{}), "endpoints./notes/", ErrBadValue},
		{"endpoint double slash", withEndpoint("/a//b", Endpoint{}), "endpoints./a//b", ErrBadValue},
		{"endpoint empty", withEndpoint("", Endpoint{}), "endpoints.", ErrBadValue},
		{"endpoint unknown client", withEndpoint("/notes", Endpoint{"clients": []any{"web", "app"}}), "endpoints./notes.clients", ErrBadValue},
		{"endpoint clients not a list", withEndpoint("/notes", Endpoint{"clients": "web"}), "endpoints./notes.clients", ErrWrongType},
		{"endpoint clients not strings", withEndpoint("/notes", Endpoint{"clients": []any{1.0}}), "endpoints./notes.clients", ErrWrongType},
		{"endpoint log_body string", withEndpoint("/notes", Endpoint{"log_body": "true"}), "endpoints./notes.log_body", ErrWrongType},
		{"endpoint log_body null", withEndpoint("/", Endpoint{"log_body": nil}), "endpoints./.log_body", ErrWrongType},
		{"endpoint clients without clients", func(c *Config) {
			c.Endpoints = map[string]Endpoint{"/": {"clients": []any{"web"}}}
		}, "endpoints./.clients", ErrBadValue},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "data_dir", ErrBadValue},
		{"nats port zero", func(c *Config) { c.NATS.Port = 0 }, "nats.port", ErrBadValue},
		{"nats port too big", func(c *Config) { c.NATS.Port = 65536 }, "nats.port", ErrBadValue},
		{"nats port below -1", func(c *Config) { c.NATS.Port = -2 }, "nats.port", ErrBadValue},
		{"nats url http", func(c *Config) { c.NATS.URL = "http://bus.example" }, "nats.url", ErrBadValue},
		{"nats url no host", func(c *Config) { c.NATS.URL = "nats://" }, "nats.url", ErrBadValue},
		{"nats url empty member", func(c *Config) { c.NATS.URL = "nats://a.example," }, "nats.url", ErrBadValue},
		{"nats url port too big", func(c *Config) { c.NATS.URL = "nats://a.example:99999" }, "nats.url", ErrBadValue},
		{"nats url port zero", func(c *Config) { c.NATS.URL = "a.example:0" }, "nats.url", ErrBadValue},
		{"body bytes zero", func(c *Config) { c.Limits.BodyBytes = 0 }, "limits.body_bytes", ErrBadValue},
		{"script ms negative", func(c *Config) { c.Limits.ScriptMS = -1 }, "limits.script_ms", ErrBadValue},
		{"request ms zero", func(c *Config) { c.Limits.RequestMS = 0 }, "limits.request_ms", ErrBadValue},
		{"header bytes zero", func(c *Config) { c.Limits.HeaderBytes = 0 }, "limits.header_bytes", ErrBadValue},
		{"header bytes within one read", func(c *Config) { c.Limits.HeaderBytes = 4096 }, "limits.header_bytes", ErrBadValue},
		{"call stack zero", func(c *Config) { c.Limits.CallStack = 0 }, "limits.call_stack", ErrBadValue},
		{"registry zero", func(c *Config) { c.Limits.Registry = 0 }, "limits.registry", ErrBadValue},
		{"script ms past a day", func(c *Config) { c.Limits.ScriptMS = math.MaxInt }, "limits.script_ms", ErrBadValue},
		{"request ms past a day", func(c *Config) { c.Limits.RequestMS = 86_400_001 }, "limits.request_ms", ErrBadValue},
		{"call stack too deep", func(c *Config) { c.Limits.CallStack = math.MaxInt }, "limits.call_stack", ErrBadValue},
		{"registry too large", func(c *Config) { c.Limits.Registry = 1<<24 + 1 }, "limits.registry", ErrBadValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(c)
			err := c.Validate()
			if got := keysOf(err); !reflect.DeepEqual(got, []string{tc.key}) {
				t.Fatalf("Validate()=%v (keys %q), want one problem at %q", err, got, tc.key)
			}
			if !hasKeyError(err, tc.key, tc.kind) {
				t.Errorf("Validate()=%v, want it to match %v", err, tc.kind)
			}
		})
	}
}

// TestValidateHidesSecrets: an error about a value that holds a secret
// (the password of a NATS URL, a client key pasted where its hash goes)
// names the key and the mistake without printing the secret, since errors
// go to the log.
func TestValidateHidesSecrets(t *testing.T) {
	tests := []struct {
		name, secret, want string
		change             func(c *Config, secret string)
	}{
		{"nats url password", "pw-s3cret", `got " http://ann:xxxxx@bus.example:4222"`,
			func(c *Config, s string) { c.NATS.URL = "nats://a.example, http://ann:" + s + "@bus.example:4222" }},
		{"nats url token", "t0ken-s3cret", `got "nats://xxxxx@"`,
			func(c *Config, s string) { c.NATS.URL = "nats://" + s + "@" }},
		{"client key", "k3y-s3cret", "got the key itself (mk_…)",
			func(c *Config, s string) { c.Clients = map[string]Client{"web": {KeySHA256: "mk_" + s}} }},
		{"client key with a space", "k3y-s3cret", "got 14 characters",
			func(c *Config, s string) { c.Clients = map[string]Client{"web": {KeySHA256: " mk_" + s}} }},
		{"nats url with a slash in the password", "Zm9v/YmFy+", `got "nats://ann:xxxxx@bus.example:notaport"`,
			func(c *Config, s string) { c.NATS.URL = "nats://ann:" + s + "@bus.example:notaport" }},
		{"nats url with a comma in the password", "pw,s3cret", `got "nats://ann:xxxxx@bus.example:4222"`,
			func(c *Config, s string) { c.NATS.URL = "nats://ann:" + s + "@bus.example:4222" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(c, tc.secret)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.secret) {
				t.Errorf("Validate()=%v, want an error saying %q, without %q", err, tc.want, tc.secret)
			}
		})
	}
}

// TestValidateCIDRHostBits: a cidr with host bits set is refused with both
// of its readings, not widened to its network; one without still loads.
func TestValidateCIDRHostBits(t *testing.T) {
	tests := []struct{ cidr, want string }{
		{"10.0.0.1/8", `config: clients.web.cidrs[0]: "10.0.0.1/8" has host bits set: ` +
			`write 10.0.0.0/8 for the network, or 10.0.0.1/32 for the one address`},
		{"2001:db8::1/64", `config: clients.web.cidrs[0]: "2001:db8::1/64" has host bits set: ` +
			`write 2001:db8::/64 for the network, or 2001:db8::1/128 for the one address`},
		{"10.0.0.0/8", ""},
		{"10.0.0.1/32", ""},
		{"2001:db8::/64", ""},
	}
	for _, tc := range tests {
		t.Run(tc.cidr, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(`{"clients": {"web": {"key_sha256": "` + testSHA + `", "cidrs": ["` + tc.cidr + `"]}}}`))
			if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
				t.Errorf("ParseConfig()=%v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := DefaultConfig()
	c.Name, c.Port, c.Phases, c.DataDir = "", 70000, []string{"stash"}, ""
	c.Limits = Limits{}
	want := []string{
		"name", "port", "phases[0]", "data_dir",
		"limits.body_bytes", "limits.script_ms", "limits.request_ms",
		"limits.header_bytes", "limits.call_stack", "limits.registry",
	}
	if got := keysOf(c.Validate()); !reflect.DeepEqual(got, want) {
		t.Errorf("Validate() keys=%q, want %q", got, want)
	}
}

func TestValidateNil(t *testing.T) {
	var c *Config
	if err := c.Validate(); err == nil {
		t.Error("(*Config)(nil).Validate()=nil, want an error")
	}
}
