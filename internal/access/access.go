package access

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minimi-go/minimi/internal/config"
)

// Options configures a Guard.
type Options struct {
	// Whitelist lists the browser origins allowed, as browsers send them
	// ("https://app.example.com"). Empty allows no cross-origin request.
	Whitelist []string
	// Clients are the API clients by name. Empty means requests need no key.
	Clients map[string]Client
	// EndpointClients returns the names of the clients allowed on a folder
	// URL, nil when every client is. Nil means no endpoint restricts clients.
	EndpointClients func(folderURL string) []string
	// MaxAge is how long a browser may cache a preflight answer; zero means 10 minutes.
	MaxAge time.Duration
	// RequestID returns a request's id for problem bodies; nil reads the
	// X-Request-Id header already set on the reply.
	RequestID func(*http.Request) string
}

// Client is one API client.
type Client struct {
	// KeySHA256 is the hex SHA-256 of the client's key. Required.
	KeySHA256 string
	// CIDRs are the address ranges the client may call from; empty allows any.
	CIDRs []string
}

// DefaultOptions returns options that allow no cross-origin request and
// require no client key.
func DefaultOptions() Options {
	return Options{MaxAge: 10 * time.Minute}
}

// FromConfig returns the options of a service's config: its whitelist, its
// clients and the endpoints' "clients" lists.
func FromConfig(cfg *config.Config) Options {
	opts := DefaultOptions()
	opts.Whitelist = cfg.Whitelist
	opts.Clients = make(map[string]Client, len(cfg.Clients))
	for name, c := range cfg.Clients {
		opts.Clients[name] = Client{KeySHA256: c.KeySHA256, CIDRs: c.CIDRs}
	}
	if cfg.EndpointsListClients() { // else every client may call every endpoint: nothing to look up
		opts.EndpointClients = func(url string) []string { return cfg.Endpoint(url).Clients() }
	}
	return opts
}

// Validate reports every malformed origin, key hash and CIDR.
func (o Options) Validate() error {
	var errs []error
	for _, origin := range o.Whitelist {
		if !isOrigin(origin) {
			errs = append(errs, fmt.Errorf("whitelist %q: %w", origin, ErrBadOrigin))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(o.Clients)) {
		if _, err := parseClient(name, o.Clients[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// isOrigin reports whether s is scheme://host[:port] with nothing else.
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != "" && s == u.Scheme+"://"+u.Host
}

// Guard checks origins and client keys (DESIGN §3 step 1). It is safe for
// concurrent use.
type Guard struct {
	opts    Options
	origins map[string]bool
	clients []client // sorted by name
	allowed sync.Map // folder URL → *endpointClients
}

// client is a Client parsed for matching.
type client struct {
	name     string
	sum      [sha256.Size]byte
	prefixes []netip.Prefix
}

// New returns a Guard for opts.
func New(opts Options) (*Guard, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultOptions().MaxAge
	}
	g := &Guard{opts: opts, origins: map[string]bool{}}
	for _, o := range opts.Whitelist {
		g.origins[o] = true
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Clients)) {
		c, _ := parseClient(name, opts.Clients[name]) // Validate accepted it
		g.clients = append(g.clients, c)
	}
	return g, nil
}

func parseClient(name string, c Client) (client, error) {
	out := client{name: name}
	sum, err := hex.DecodeString(c.KeySHA256)
	if err != nil || len(sum) != sha256.Size {
		return out, fmt.Errorf("client %q: key_sha256: %w", name, ErrBadKeyHash)
	}
	copy(out.sum[:], sum)
	for _, cidr := range c.CIDRs {
		p, err := config.ParseCIDR(strings.TrimSpace(cidr))
		if err != nil {
			return out, fmt.Errorf("client %q: %w: %w", name, ErrBadCIDR, err)
		}
		out.prefixes = append(out.prefixes, p)
	}
	return out, nil
}

// Handler checks every request before next sees it: the Origin against the
// whitelist, then (outside the open paths) the client key and address.
// Refusals are RFC 9457 problems; a preflight is passed on, marked, for
// [CheckEndpoint] to answer with the URL's methods.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, ok := g.check(w, r)
		if !ok {
			return
		}
		if st != nil {
			r = r.WithContext(withState(r.Context(), st))
		}
		next.ServeHTTP(w, r)
	})
}

// check runs the origin and client checks. It returns the state to carry
// (nil when there is none) and false when it answered the request.
func (g *Guard) check(w http.ResponseWriter, r *http.Request) (*state, bool) {
	preflight, ok := g.checkOrigin(w, r)
	if !ok {
		return nil, false
	}
	if preflight {
		return &state{guard: g, preflight: true}, true
	}
	// The open paths are matched as sent, escapes kept: /_minimi%2Fhealth
	// is not /_minimi/health, and routes elsewhere.
	if len(g.clients) == 0 || isOpen(r.URL.EscapedPath()) {
		return nil, true
	}
	name, ok := g.checkClient(w, r)
	if !ok {
		return nil, false
	}
	return &state{guard: g, client: name}, true
}
