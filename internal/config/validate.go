package config

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/minimi-go/minimi/internal/auth"
)

var (
	serviceName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	phaseName   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	hexSHA256   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// reservedPhases are file-name words of the endpoints tree that cannot name a phase.
var reservedPhases = []string{"schema", "stash", "install", "endpoint"}

// natsSchemes are the URL schemes a NATS client connects with.
var natsSchemes = []string{"nats", "tls", "ws", "wss"}

// Validate reports every problem of c, errors.Join'ed; each is a *KeyError naming its key.
func (c *Config) Validate() error { return errors.Join(c.problems()...) }

func (c *Config) problems() []error {
	if c == nil {
		return []error{keyErr("", ErrBadValue, "no config")}
	}
	return slices.Concat(
		checkName(c.Name),
		checkRange("port", c.Port, 0, 65535),
		checkPhases(c.Phases),
		checkWhitelist(c.Whitelist),
		checkClients(c.Clients),
		checkEndpoints(c.Endpoints, c.Clients),
		checkNotEmpty("data_dir", c.DataDir),
		checkNATS(c.NATS),
		checkLimits(c.Limits),
		checkSecret(c.Auth.Secret),
	)
}

// checkSecret refuses a token secret too short to sign with. Empty is
// allowed: nothing needs one until a script signs a token, and dev mode
// makes its own.
func checkSecret(secret string) []error {
	if secret != "" && len(secret) < auth.MinSecretBytes {
		return []error{keyErr("auth.secret", ErrBadValue, "must be at least %d bytes, got %d", auth.MinSecretBytes, len(secret))}
	}
	return nil
}

func checkName(name string) []error {
	if name == "" {
		return []error{keyErr("name", ErrBadValue, "must not be empty")}
	}
	if !serviceName.MatchString(name) {
		return []error{keyErr("name", ErrBadValue, "must be letters, digits, '-' and '_', got %q", name)}
	}
	return nil
}

func checkRange(key string, n, lo, hi int) []error {
	if n < lo || n > hi {
		return []error{keyErr(key, ErrBadValue, "must be %d..%d, got %d", lo, hi, n)}
	}
	return nil
}

func checkNotEmpty(key, s string) []error {
	if s == "" {
		return []error{keyErr(key, ErrBadValue, "must not be empty")}
	}
	return nil
}

func checkPhases(phases []string) []error {
	if len(phases) == 0 {
		return []error{keyErr("phases", ErrBadValue, "must list at least one phase")}
	}
	var errs []error
	for i, p := range phases {
		key := fmt.Sprintf("phases[%d]", i)
		switch {
		case p == "":
			errs = append(errs, keyErr(key, ErrBadValue, "must not be empty"))
		case slices.Contains(reservedPhases, p):
			errs = append(errs, keyErr(key, ErrBadValue, "%q is reserved", p))
		case !phaseName.MatchString(p):
			errs = append(errs, keyErr(key, ErrBadValue, "%q must match %s", p, phaseName))
		case slices.Index(phases, p) < i:
			errs = append(errs, keyErr(key, ErrBadValue, "%q is listed twice", p))
		}
	}
	return errs
}

func checkWhitelist(origins []string) []error {
	var errs []error
	for i, o := range origins {
		if !isOrigin(o) {
			errs = append(errs, keyErr(fmt.Sprintf("whitelist[%d]", i), ErrBadValue,
				"want an origin like https://app.example.com (lowercase scheme://host[:port], no path), got %q", o))
		}
	}
	return errs
}

// isOrigin reports whether s is a browser origin as a browser sends it in the Origin header.
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" || strings.HasSuffix(u.Host, ":") {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return s == strings.ToLower(u.Scheme+"://"+u.Host)
}

func checkClients(clients map[string]Client) []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(clients)) {
		key, cl := "clients."+name, clients[name]
		if name == "" {
			errs = append(errs, keyErr("clients", ErrBadValue, "a client name must not be empty"))
		}
		switch {
		case strings.HasPrefix(cl.KeySHA256, ClientKeyPrefix):
			// The key itself, pasted where its hash goes: an error must not print it.
			errs = append(errs, keyErr(key+".key_sha256", ErrBadValue,
				"want the SHA-256 of the key, got the key itself (%s…): put the key_sha256 that minimi key printed "+
					"beside it, and make a new key, since this one is now in the config", ClientKeyPrefix))
		case !hexSHA256.MatchString(cl.KeySHA256):
			// Not printed: it may be a key, pasted where its hash goes.
			errs = append(errs, keyErr(key+".key_sha256", ErrBadValue,
				"want 64 lowercase hex digits (the SHA-256 of the key that minimi key printed), got %s", describeHash(cl.KeySHA256)))
		}
		for i, cidr := range cl.CIDRs {
			if _, err := ParseCIDR(cidr); err != nil {
				errs = append(errs, keyErr(fmt.Sprintf("%s.cidrs[%d]", key, i), ErrBadValue, "%v", err))
			}
		}
	}
	return errs
}

// ParseCIDR parses an address range of a client's cidrs ("10.0.0.0/8",
// "::1/128"). It refuses one with host bits set: "10.0.0.1/8" may mean the
// network 10.0.0.0/8 or the one address 10.0.0.1/32, and taking it as the
// network would let in a whole /8 where one address was meant.
func ParseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR like 10.0.0.0/8", s)
	}
	if m := p.Masked(); m != p {
		one := netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: write %s for the network, or %s for the one address", s, m, one)
	}
	return p, nil
}

func checkEndpoints(endpoints map[string]Endpoint, clients map[string]Client) []error {
	var errs []error
	for _, url := range slices.Sorted(maps.Keys(endpoints)) {
		key := "endpoints." + url
		if !isFolderURL(url) {
			errs = append(errs, keyErr(key, ErrBadValue, `want a folder URL like "/notes" or "/" (no trailing or double "/"), got %q`, url))
		}
		errs = append(errs, checkEndpoint(key, endpoints[url], clients)...)
	}
	return errs
}

// isFolderURL reports whether s is "/" or "/"-separated non-empty segments after a leading "/".
func isFolderURL(s string) bool {
	return s == "/" || (strings.HasPrefix(s, "/") && !slices.Contains(strings.Split(s[1:], "/"), ""))
}

// checkEndpoint checks the keys of an endpoint's settings that MiniMi reads itself.
func checkEndpoint(key string, e Endpoint, clients map[string]Client) []error {
	var errs []error
	if v, ok := e[keyLogBody]; ok {
		if _, isBool := v.(bool); !isBool {
			errs = append(errs, keyErr(key+"."+keyLogBody, ErrWrongType, "want boolean, got %s", jsonType(v)))
		}
	}
	v, ok := e[keyClients]
	if !ok {
		return errs
	}
	names, isList := stringList(v)
	if !isList {
		return append(errs, keyErr(key+"."+keyClients, ErrWrongType, "want array of strings, got %s", jsonType(v)))
	}
	for _, name := range names {
		if _, known := clients[name]; !known {
			errs = append(errs, keyErr(key+"."+keyClients, ErrBadValue, "unknown client %q", name))
		}
	}
	return errs
}

func checkNATS(n NATS) []error {
	var errs []error
	if n.Port != -1 && (n.Port < 1 || n.Port > 65535) {
		errs = append(errs, keyErr("nats.port", ErrBadValue, "must be -1 (random) or 1..65535, got %d", n.Port))
	}
	if n.URL == "" {
		return errs
	}
	for s := range strings.SplitSeq(n.URL, ",") {
		if !isNATSURL(strings.TrimSpace(s)) {
			got := RedactURLs(s)
			if !strings.Contains(s, "@") && strings.Contains(n.URL, "@") {
				got = RedactURLs(n.URL) // a comma in a password split it: s may hold part of it
			}
			errs = append(errs, keyErr("nats.url", ErrBadValue,
				"want nats://host:port (or tls, ws, wss; comma-separated for a cluster), got %q", got))
		}
	}
	return errs
}

// ClientKeyPrefix starts every key that minimi key makes, so that secret
// scanners and people recognise one.
const ClientKeyPrefix = "mk_"

// describeHash says what is wrong with a key_sha256 without printing it.
func describeHash(v string) string {
	switch {
	case v == "":
		return "nothing"
	case hexSHA256.MatchString(strings.ToLower(v)):
		return "upper-case hex digits"
	case len(v) == 64:
		return "64 characters that are not all hex digits"
	}
	return strconv.Itoa(len(v)) + " characters"
}

// urlStart is where the next URL of a list starts: a comma, spaces and a
// scheme.
var urlStart = regexp.MustCompile(`,\s*[a-zA-Z][a-zA-Z0-9+.-]*://`)

// RedactURLs writes the user information of each URL in s, a NATS URL or a
// comma-separated list of them, as xxxxx, so that an error or a log line
// does not show a password or a token: ann:xxxxx@host for a user and a
// password, xxxxx@host for a token. It reads s as text, not as URLs, so
// that a URL no parser takes (a bad port, a raw comma, "/" or "@" in a
// password) does not show its secret either; text without an "@" is
// returned as is.
func RedactURLs(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range urlStart.FindAllStringIndex(s, -1) {
		b.WriteString(redactURL(s[last:loc[0]]))
		last = loc[0]
	}
	b.WriteString(redactURL(s[last:]))
	return b.String()
}

// redactURL redacts one URL of a list, or a text that quotes one: all
// between its "://" (or its start) and its last "@", since a host holds no
// "@" and a password may hold anything else.
func redactURL(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	from := len(s) - len(strings.TrimLeft(s, ", \t"))
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		from = i + len("://")
	}
	if user, _, ok := strings.Cut(s[from:at], ":"); ok && !strings.ContainsAny(user, ",/@ \"") {
		return s[:from] + user + ":xxxxx" + s[at:]
	}
	return s[:from] + "xxxxx" + s[at:]
}

// isNATSURL reports whether s is a server URL the NATS client accepts, with
// a port, if it has one, that can be connected to; like the client, it reads
// a bare host:port as nats://host:port.
func isNATSURL(s string) bool {
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil || !slices.Contains(natsSchemes, u.Scheme) || u.Hostname() == "" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return true
}

// Upper bounds of limits, where a larger value breaks something rather
// than only allowing more: a time past a day overflows the durations built
// from it (request_ms plus the write timeout's 5 s), and every Lua state
// allocates its whole call stack when it is created.
const (
	maxLimitMS    = 24 * 60 * 60 * 1000 // a day
	maxCallStack  = 100_000
	maxRegistry   = 1 << 24
	noUpperLimits = 0
	// The HTTP server reads a request's headers 4 KiB at a time and can
	// hold a header block only to more than that.
	headerReadBytes = 4096
)

func checkLimits(l Limits) []error {
	limits := []struct {
		key  string
		n    int64
		over int64 // the value must be more than this; 0: any positive value
		max  int64 // noUpperLimits: none
	}{
		{"limits.body_bytes", l.BodyBytes, 0, noUpperLimits},
		{"limits.script_ms", int64(l.ScriptMS), 0, maxLimitMS},
		{"limits.request_ms", int64(l.RequestMS), 0, maxLimitMS},
		{"limits.header_bytes", int64(l.HeaderBytes), headerReadBytes, noUpperLimits},
		{"limits.call_stack", int64(l.CallStack), 0, maxCallStack},
		{"limits.registry", int64(l.Registry), 0, maxRegistry},
	}
	var errs []error
	for _, lim := range limits {
		switch {
		case lim.n <= 0:
			errs = append(errs, keyErr(lim.key, ErrBadValue, "must be positive, got %d", lim.n))
		case lim.n <= lim.over:
			errs = append(errs, keyErr(lim.key, ErrBadValue, "must be more than %d, got %d", lim.over, lim.n))
		case lim.max != noUpperLimits && lim.n > lim.max:
			errs = append(errs, keyErr(lim.key, ErrBadValue, "must be at most %d, got %d", lim.max, lim.n))
		}
	}
	return errs
}
