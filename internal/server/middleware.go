package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/minimi-go/minimi/internal/metrics"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/requestid"
	"github.com/minimi-go/minimi/internal/router"
)

// headerRequestID is the header of request ids, in canonical form.
const headerRequestID = requestid.Header

// requestID takes X-Request-Id from the request when it is sane, or makes
// one and sets it on the request, as a proxy would: handlers, scripts and
// the request log all read it from there. The reply echoes it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids := r.Header[headerRequestID]
		switch {
		case len(ids) == 0 || !requestid.Sane(ids[0]):
			ids = []string{requestid.New()}
			r.Header[headerRequestID] = ids
		case len(ids) > 1: // the first one counts
			ids = ids[:1:1]
			r.Header[headerRequestID] = ids
		}
		w.Header()[headerRequestID] = ids
		next.ServeHTTP(w, r)
	})
}

// requestIDOf returns the id that requestID gave r.
func requestIDOf(r *http.Request) string {
	if ids := r.Header[headerRequestID]; len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// statusWriter records the status and size of a reply, and the series of
// the route that answered it.
type statusWriter struct {
	http.ResponseWriter
	status   int
	bytes    int
	requests *metrics.Requests // set by the handler of the route; nil for others
	route    string            // the route for the request log, when the handler knows it (routed)
}

// routed names the route of the reply w in the request log as the metrics
// label it: its endpoint's URL in MiniMi's notation (/notes/[id]), a
// built-in's path, or metrics.NotFoundRoute for a path that no route serves.
func routed(w http.ResponseWriter, route string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.route = route
	}
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	n, err := sw.ResponseWriter.Write(b)
	sw.bytes += n
	return n, err
}

// Flush lets streaming replies (server-sent events) through the wrapper.
func (sw *statusWriter) Flush() {
	if f, ok := sw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// logRequests writes one structured line per request and, with rm, counts
// and times it.
func (s *Server) logRequests(mux *chi.Mux, urls map[string]string, rm *routeMetrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			now := time.Now()
			d := now.Sub(start)
			if sw.route == "" { // not an endpoint: found once, for the metrics and the log alike
				sw.route = unrouted(mux, urls, r)
			}
			rm.observe(sw, r, d)
			s.logRequest(now, sw, r, d)
		})
	}
}

// unrouted is the route of a request that no endpoint named: the path of a
// built-in that answered; for a request refused before routing (a missing
// client key), the URL of the route its path takes, routed again (urls maps
// chi's patterns to the endpoints' URLs); metrics.NotFoundRoute when there
// is none.
func unrouted(mux *chi.Mux, urls map[string]string, r *http.Request) string {
	p := ""
	if rc := chi.RouteContext(r.Context()); rc != nil {
		p = rc.RoutePattern()
	}
	if p == "" {
		p = patternOf(mux, r)
	}
	if p == "" {
		return metrics.NotFoundRoute
	}
	if u, ok := urls[p]; ok {
		return u
	}
	return p // a built-in: its pattern is its path
}

// routeURLs maps the chi pattern of each folder of t to its URL.
func routeURLs(t *router.Table) map[string]string {
	urls := make(map[string]string, len(t.Folders))
	for _, f := range t.Folders {
		urls[f.Pattern] = f.URL
	}
	return urls
}

func (s *Server) logRequest(now time.Time, sw *statusWriter, r *http.Request, d time.Duration) {
	if s.access.w == nil {
		return
	}
	s.access.write(now, line{id: requestIDOf(r), method: r.Method, path: r.URL.EscapedPath(), route: sw.route,
		remote: r.RemoteAddr, status: statusOr(sw.status), bytes: sw.bytes, d: d})
}

// routeMetrics gives each request of one site the series of its route. A
// nil *routeMetrics measures nothing.
type routeMetrics struct {
	m       *metrics.Metrics
	byURL   map[string]*metrics.Requests // URL → series; written only while the handler is built
	missing *metrics.Requests            // metrics.NotFoundRoute
}

// builtins are the paths of the built-ins, counted under their own route.
var builtins = []string{"/_minimi/health", "/_minimi/ready", "/_minimi/routes", "/_minimi/events", "/_minimi/metrics"}

// routeMetrics returns the route metrics of a site, or nil without
// Options.Metrics.
func (s *Server) routeMetrics() *routeMetrics {
	m := s.opts.Metrics
	if m == nil {
		return nil
	}
	rm := &routeMetrics{m: m, byURL: map[string]*metrics.Requests{},
		missing: m.Requests(metrics.NotFoundRoute)}
	for _, p := range builtins {
		rm.route(p)
	}
	return rm
}

// route returns the series of the route at url.
func (rm *routeMetrics) route(url string) *metrics.Requests {
	if rm == nil {
		return nil
	}
	rq := rm.m.Requests(url)
	rm.byURL[url] = rq
	return rq
}

func (rm *routeMetrics) notFound() *metrics.Requests {
	if rm == nil {
		return nil
	}
	return rm.missing
}

// tag marks the reply w as one of the route whose series are rq.
func (rm *routeMetrics) tag(w http.ResponseWriter, rq *metrics.Requests) {
	if sw, ok := w.(*statusWriter); ok && rm != nil {
		sw.requests = rq
	}
}

// observe counts and times one request.
func (rm *routeMetrics) observe(sw *statusWriter, r *http.Request, d time.Duration) {
	if rm == nil {
		return
	}
	rq := sw.requests
	if rq == nil { // a built-in, or a request refused before routing
		if rq = rm.byURL[sw.route]; rq == nil {
			rq = rm.missing
		}
	}
	rq.Observe(r.Method, sw.status, d)
}

// patternOf returns the chi pattern of the route at r's path for r's
// method or, failing that, for GET (the built-ins answer GET only, and
// chi's 405 for another method names none), or "" when no route is there.
func patternOf(mux *chi.Mux, r *http.Request) string {
	p, err := router.ParsePath(r.URL.EscapedPath())
	if err != nil {
		return ""
	}
	for _, method := range [...]string{r.Method, http.MethodGet} {
		if pattern := mux.Find(chi.NewRouteContext(), method, p.Route); pattern != "" {
			return pattern
		}
	}
	return ""
}

// recoverPanics turns a panic in a handler into a 500 problem.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				s.writeError(w, r, &phases.Error{Status: 500, Title: http.StatusText(500), Internal: true,
					Err: fmt.Errorf("panic: %v", rec)})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// routePath serves r on its cleaned path and routes it on its router.Path,
// so that /a//b/../c/ is /a/c and every path parameter is decoded exactly
// once whatever the client escaped. A path that does not decode is a 400.
func (s *Server) routePath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent := r.URL.EscapedPath()
		p, err := router.ParsePath(sent)
		if err == nil {
			err = checkQuery(r.URL.RawQuery)
		}
		if err != nil {
			s.writeError(w, r, &phases.Error{Status: http.StatusBadRequest, Title: http.StatusText(http.StatusBadRequest),
				Detail: err.Error(), Err: err})
			return
		}
		if rc := chi.RouteContext(r.Context()); rc != nil {
			rc.RoutePath = p.Route
		}
		if p.Escaped != sent {
			u := *r.URL
			u.Path, u.RawPath = p.Decoded, p.Escaped
			r = r.WithContext(r.Context()) // a shallow copy: the request log keeps the path as sent
			r.URL = &u
		}
		next.ServeHTTP(w, r)
	})
}

// maxQueryPairs is the most pairs url.ParseQuery reads: past it, it reads
// none at all (Go's urlmaxqueryparams).
const maxQueryPairs = 10000

// checkQuery refuses a query string that url.ParseQuery would read only in
// part: a malformed percent-escape, a ';' (not a separator since Go 1.17),
// or more than maxQueryPairs pairs. Left alone, req.query would silently
// lack those pairs, or all of them.
func checkQuery(q string) error {
	if q == "" {
		return nil
	}
	pairs := 1
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '&':
			if pairs++; pairs > maxQueryPairs {
				return fmt.Errorf("more than %d pairs in the query", maxQueryPairs)
			}
		case ';':
			return errors.New("a ';' in the query: pairs are separated by '&'")
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return fmt.Errorf("a malformed escape in the query at byte %d", i)
			}
			i += 2
		}
	}
	return nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// chiMethods are the methods chi routes: the standard ones, as MiniMi
// never calls chi.RegisterMethod. chi answers any other method with its
// method-not-allowed handler before it looks at the path.
var chiMethods = map[string]bool{
	http.MethodConnect: true, http.MethodDelete: true, http.MethodGet: true, http.MethodHead: true,
	http.MethodOptions: true, http.MethodPatch: true, http.MethodPost: true, http.MethodPut: true, http.MethodTrace: true,
}

// routeAnyMethod routes a request whose method chi does not know (PURGE,
// PROPFIND, a lower-case get) as if it were an OPTIONS request, so that it
// gets MiniMi's own 404 or 405 (DESIGN §3): every endpoint is mounted for
// all methods and answers a method it does not handle with 405 and its
// real Allow list, a path no endpoint serves is 404, and the built-ins,
// which do not answer OPTIONS, are 405. The request keeps its method.
func routeAnyMethod(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !chiMethods[r.Method] {
			if rc := chi.RouteContext(r.Context()); rc != nil {
				rc.RouteMethod = http.MethodOptions
			}
		}
		next.ServeHTTP(w, r)
	})
}
