package config

import "strconv"

// Config is MiniMi's config.json. Start from DefaultConfig; the zero value is not valid.
type Config struct {
	// Name is the service name: the NATS service name and the <service> token of event subjects.
	// Letters, digits, '-' and '_'. Default "MiniMi".
	Name string `mapstructure:"name" json:"name"`
	// Port is the HTTP port. 0 picks a free port. Default 3000.
	Port int `mapstructure:"port" json:"port"`
	// Phases are the pipeline's phases, in order; the last one is the execute phase.
	// Default ["load", "access", "execute"].
	Phases []string `mapstructure:"phases" json:"phases"`
	// Whitelist lists the browser origins allowed by CORS ("https://app.example.com").
	// Empty allows no cross-origin request.
	Whitelist []string `mapstructure:"whitelist" json:"whitelist,omitempty"`
	// Clients are the known API clients by name. Empty means requests need no client key.
	Clients map[string]Client `mapstructure:"clients" json:"clients,omitempty"`
	// Endpoints are per-endpoint settings keyed by folder URL ("/notes", "/notes/[id]", "/").
	// See Config.Endpoint for how they apply to a subtree.
	Endpoints map[string]Endpoint `mapstructure:"endpoints" json:"endpoints,omitempty"`
	// DataDir holds the default store (data_dir/minimi.db) and relative stash files. Default "data".
	DataDir string `mapstructure:"data_dir" json:"data_dir"`
	// Dev shows Lua errors in 500 replies and reloads on change. Default false.
	Dev bool `mapstructure:"dev" json:"dev"`
	// NATS configures the message bus.
	NATS NATS `mapstructure:"nats" json:"nats"`
	// Limits bounds requests and scripts.
	Limits Limits `mapstructure:"limits" json:"limits"`
	// Auth configures signed tokens.
	Auth Auth `mapstructure:"auth" json:"auth"`
	// Events configures the event stream, GET /_minimi/events.
	Events Events `mapstructure:"events" json:"events"`
}

// Events configures GET /_minimi/events, whose stream carries the records of
// every command.
type Events struct {
	// Public serves the stream to callers on other machines while no client
	// keys are configured. Default false: then only the machine itself (a
	// loopback peer) may read it. With client keys, every known client may.
	Public bool `mapstructure:"public" json:"public"`
}

// Client is one API client. A request presents a key whose SHA-256 is KeySHA256.
type Client struct {
	// KeySHA256 is the hex SHA-256 of the client's key: 64 lowercase hex digits, as sha256sum prints.
	KeySHA256 string `mapstructure:"key_sha256" json:"key_sha256"`
	// CIDRs are the addresses the client may call from ("127.0.0.0/8"). Empty allows any address.
	CIDRs []string `mapstructure:"cidrs" json:"cidrs,omitempty"`
}

// NATS configures the bus.
type NATS struct {
	// Enabled turns the bus on. Default true.
	Enabled bool `mapstructure:"enabled" json:"enabled"`
	// URL is an external NATS server or cluster (comma-separated URLs).
	// Empty starts an embedded server on 127.0.0.1.
	URL string `mapstructure:"url" json:"url"`
	// Port is the embedded server's port: 1..65535, or -1 for a random free port. Default 4222.
	Port int `mapstructure:"port" json:"port"`
}

// Limits bounds requests and scripts. Every limit must be positive.
type Limits struct {
	// BodyBytes is the largest request body. Default 1048576 (1 MiB).
	BodyBytes int64 `mapstructure:"body_bytes" json:"body_bytes"`
	// ScriptMS is the Lua time budget of one request, in milliseconds. Default 1000.
	ScriptMS int `mapstructure:"script_ms" json:"script_ms"`
	// RequestMS is the time budget of one whole request, in milliseconds. Default 10000.
	RequestMS int `mapstructure:"request_ms" json:"request_ms"`
	// HeaderBytes is the largest request header block. Default 65536.
	HeaderBytes int `mapstructure:"header_bytes" json:"header_bytes"`
	// CallStack is the Lua call-stack size. Default 256.
	CallStack int `mapstructure:"call_stack" json:"call_stack"`
	// Registry is the Lua registry (value stack) maximum size. Default 65536.
	Registry int `mapstructure:"registry" json:"registry"`
}

// Auth configures signed tokens.
type Auth struct {
	// Secret signs tokens. Empty is allowed here; whatever signs tokens decides if it needs one.
	Secret string `mapstructure:"secret" json:"secret"`
}

// DefaultConfig returns the seed defaults that config.json and the environment override.
func DefaultConfig() *Config {
	return &Config{
		Name:    "MiniMi",
		Port:    3000,
		Phases:  []string{"load", "access", "execute"},
		DataDir: "data",
		NATS:    NATS{Enabled: true, Port: 4222},
		Limits: Limits{
			BodyBytes:   1 << 20,
			ScriptMS:    1000,
			RequestMS:   10000,
			HeaderBytes: 1 << 16,
			CallStack:   256,
			Registry:    1 << 16,
		},
	}
}

// Addr is the HTTP listen address, ":<port>".
func (c *Config) Addr() string { return ":" + strconv.Itoa(c.Port) }
