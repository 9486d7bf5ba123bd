package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/minimi-go/minimi/internal/problem"
)

// KeyHeader is the request header that carries a client key.
const KeyHeader = "X-Client-Key"

// openPaths need no client key: load balancers and orchestrators probe them.
var openPaths = []string{"/_minimi/health", "/_minimi/ready"}

func isOpen(path string) bool {
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	return slices.Contains(openPaths, path)
}

// state is what the Guard learned about a request, for CheckEndpoint and ClientOf.
type state struct {
	guard     *Guard
	client    string // the client's name, "" when keys are not required
	preflight bool
}

type contextKey struct{ name string }

var stateKey = &contextKey{"access"}

func withState(ctx context.Context, st *state) context.Context {
	return context.WithValue(ctx, stateKey, st)
}

func stateOf(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey).(*state)
	return st
}

// ClientOf returns the name of the client that sent the request of ctx, or
// "" when client keys are not configured (or for an open path).
func ClientOf(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.client
	}
	return ""
}

// checkClient finds the client whose key the request presents and checks its
// address. It answers 401 (no or unknown key) or 403 (address) itself.
func (g *Guard) checkClient(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.Header.Get(KeyHeader)
	if key == "" {
		w.Header().Set("WWW-Authenticate", `ClientKey header="`+KeyHeader+`"`)
		g.refuse(w, r, http.StatusUnauthorized, "send a client key in the "+KeyHeader+" header")
		return "", false
	}
	c := g.match(key)
	if c == nil {
		w.Header().Set("WWW-Authenticate", `ClientKey header="`+KeyHeader+`"`)
		g.refuse(w, r, http.StatusUnauthorized, "the client key is not known")
		return "", false
	}
	if !c.allows(r.RemoteAddr) {
		g.refuse(w, r, http.StatusForbidden, "the client may not call from this address")
		return "", false
	}
	return c.name, true
}

// match returns the client whose key hashes to the SHA-256 of key, or nil.
// Every client is compared, in constant time, whatever matches.
func (g *Guard) match(key string) *client {
	sum := sha256.Sum256([]byte(key))
	found := -1
	for i := range g.clients {
		if subtle.ConstantTimeCompare(sum[:], g.clients[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil
	}
	return &g.clients[found]
}

// allows reports whether the client may call from remoteAddr (an
// http.Request.RemoteAddr: the peer of the connection, never a forwarded-for
// header).
func (c *client) allows(remoteAddr string) bool {
	if len(c.prefixes) == 0 {
		return true
	}
	addr, ok := parseRemote(remoteAddr)
	if !ok {
		return false
	}
	for _, p := range c.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseRemote reads the IP of "ip:port" or "ip", without zone, with IPv4
// mapped into IPv6 unmapped.
func parseRemote(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	return netip.Addr{}, false
}

// A Locator knows the folders a request's path lies in, whichever folder
// serves it. PathFolders calls allowed with the URL of each one other than
// the folder serving the request, and returns the first URL refused, or "".
type Locator interface {
	PathFolders(r *http.Request, allowed func(url string) bool) string
}

// CheckEndpoint finishes the Guard's work where the folder of a request is
// known: it answers a preflight with the URL's methods (allow), and refuses
// with a 403 a client that the endpoints config keeps out of folderURL, or
// out of a folder that at (which may be nil) says the request's path lies
// in: "/admin" keeps a client out of /admin/x/y and /admin%2Fx%2Fy, also
// when a catch-all or a parameter folder above it serves them. It reports whether the request may go on; when false, the
// reply is written. A request the Guard did not see (or had nothing to say
// about) goes on.
func CheckEndpoint(w http.ResponseWriter, r *http.Request, folderURL string, at Locator, allow []string) bool {
	if AnswerPreflight(w, r, allow) {
		return false
	}
	st := stateOf(r.Context())
	if st == nil || st.client == "" || st.guard.opts.EndpointClients == nil {
		return true
	}
	refused := ""
	if !st.guard.endpointAllows(folderURL, st.client) {
		refused = folderURL
	} else if at != nil {
		refused = at.PathFolders(r, func(url string) bool { return st.guard.endpointAllows(url, st.client) })
	}
	if refused != "" {
		st.guard.refuse(w, r, http.StatusForbidden, "the client may not call "+refused)
		return false
	}
	return true
}

// AnswerPreflight answers r with the methods allow when the Guard found it
// to be a preflight from a listed origin, as CheckEndpoint does for a
// folder; the built-ins, which serve no folder, call it. It reports whether
// it answered.
func AnswerPreflight(w http.ResponseWriter, r *http.Request, allow []string) bool {
	st := stateOf(r.Context())
	if st == nil || !st.preflight {
		return false
	}
	st.guard.answerPreflight(w, r, allow)
	return true
}

// endpointClients is the set of clients allowed on one folder URL.
type endpointClients struct {
	all   bool
	names map[string]bool
}

// endpointAllows reports whether the client name may call folderURL,
// caching the endpoints config per URL.
func (g *Guard) endpointAllows(folderURL, name string) bool {
	if g.opts.EndpointClients == nil {
		return true
	}
	v, ok := g.allowed.Load(folderURL)
	if !ok {
		names := g.opts.EndpointClients(folderURL)
		ec := &endpointClients{all: names == nil, names: map[string]bool{}}
		for _, n := range names {
			ec.names[n] = true
		}
		v, _ = g.allowed.LoadOrStore(folderURL, ec)
	}
	ec := v.(*endpointClients)
	return ec.all || ec.names[name]
}

// refuse writes a problem reply.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, status int, detail string) {
	d := problem.New(status, detail)
	d.Instance = r.URL.EscapedPath()
	if g.opts.RequestID != nil {
		d.RequestID = g.opts.RequestID(r)
	} else {
		d.RequestID = w.Header().Get("X-Request-Id")
	}
	problem.Write(w, d)
}
