package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/minimi-go/minimi/internal/access"
	"github.com/minimi-go/minimi/internal/metrics"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/problem"
	"github.com/minimi-go/minimi/internal/router"
)

// handler builds the HTTP handler of a site: built-ins under /_minimi/,
// then one route per URL of the endpoints tree. Its event streams end when
// streams does.
func (s *Server) handler(site *Site, streams context.Context) http.Handler {
	mux := chi.NewRouter()
	guard, err := access.New(access.FromConfig(site.Config))
	if err != nil { // config.Validate refuses whatever access.New refuses
		panic("server: access: " + err.Error())
	}
	rm := s.routeMetrics()
	mux.Use(requestID, s.logRequests(mux, routeURLs(site.Table), rm), s.recoverPanics, s.routePath, routeAnyMethod, guard.Handler)
	mux.NotFound(func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r, rm) })
	mux.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { // the built-ins only: endpoints answer 405 themselves
		routed(w, patternOf(mux, r))
		allow := routedMethods(mux, r)
		if access.AnswerPreflight(w, r, allow) { // a page on a listed origin may call the built-ins too
			return
		}
		s.writeError(w, r, &phases.Error{Status: http.StatusMethodNotAllowed, Title: http.StatusText(http.StatusMethodNotAllowed),
			Detail: r.Method + " is not allowed on " + r.URL.Path, Allow: allow})
	})
	mux.Route("/_minimi", func(r chi.Router) {
		getHead := func(pattern string, h http.HandlerFunc) { r.Get(pattern, h); r.Head(pattern, h) }
		getHead("/health", s.health)
		getHead("/ready", s.ready)
		getHead("/routes", s.routes)
		if s.opts.Events != nil {
			r.Get("/events", s.stream(streams, s.eventsGuard(site.Config, s.opts.Events))) // a stream: no HEAD
		}
		if s.opts.Metrics != nil {
			getHead("/metrics", s.opts.Metrics.Handler().ServeHTTP)
		}
	})
	router.Mount(mux, site.Table, site.Engine.Exists, func(f *router.Folder) http.Handler {
		return &endpoint{s: s, site: site, folder: f, rm: rm, requests: rm.route(f.URL)}
	})
	return mux
}

// routedMethods lists the methods mux routes r's path for, sorted, for the
// Allow header of a 405 chi decided.
func routedMethods(mux *chi.Mux, r *http.Request) []string {
	p, err := router.ParsePath(r.URL.EscapedPath())
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range [...]string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions,
		http.MethodPatch, http.MethodPost, http.MethodPut} {
		if mux.Match(chi.NewRouteContext(), m, p.Route) {
			out = append(out, m)
		}
	}
	return out
}

// notFound answers a request no endpoint serves.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, rm *routeMetrics) {
	rm.tag(w, rm.notFound())
	routed(w, metrics.NotFoundRoute)
	s.writeError(w, r, &phases.Error{Status: http.StatusNotFound, Title: http.StatusText(http.StatusNotFound),
		Detail: "no endpoint at " + r.URL.Path})
}

// endpoint serves one URL of the tree through the phase pipeline.
type endpoint struct {
	s        *Server
	site     *Site
	folder   *router.Folder
	rm       *routeMetrics     // nil without Options.Metrics
	requests *metrics.Requests // this URL's series, resolved once
}

var _ http.Handler = (*endpoint)(nil)

func (ep *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep.rm.tag(w, ep.requests)
	routed(w, ep.folder.URL)
	params, err := router.Params(r, ep.folder)
	if errors.Is(err, router.ErrEmptyCatchAll) {
		ep.s.notFound(w, r, ep.rm)
		return
	}
	if err != nil {
		ep.s.writeError(w, r, &phases.Error{Status: http.StatusBadRequest, Title: http.StatusText(http.StatusBadRequest),
			Detail: err.Error(), Err: err})
		return
	}
	allow := ep.site.Engine.Allow(ep.folder)
	if !access.CheckEndpoint(w, r, ep.folder.URL, ep, allow) {
		return
	}
	if r.Method == http.MethodOptions {
		ep.options(w)
		return
	}
	if !contains(allow, r.Method) {
		ep.s.writeError(w, r, &phases.Error{Status: http.StatusMethodNotAllowed, Title: http.StatusText(http.StatusMethodNotAllowed),
			Detail: r.Method + " is not allowed on " + r.URL.Path, Allow: allow})
		return
	}
	body, err := readBody(w, r, ep.site.Config.Limits.BodyBytes)
	if err != nil {
		ep.s.writeError(w, r, err)
		return
	}
	if err := phases.CheckBody(r.Header, body); err != nil {
		ep.s.writeError(w, r, err)
		return
	}
	resp, err := ep.site.Engine.Run(r.Context(), &phases.Call{
		Folder:   ep.folder,
		Method:   r.Method,
		Path:     r.URL.Path,
		Params:   params,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header,
		Host:     r.Host,
		Body:     body,
		ID:       requestIDOf(r),
		Client:   access.ClientOf(r.Context()),
		Timeout:  time.Duration(ep.site.Config.Limits.RequestMS) * time.Millisecond,
	})
	if err != nil {
		ep.s.writeError(w, r, err)
		return
	}
	writeResponse(w, r, resp)
}

// PathFolders calls allowed with the URL of each folder other than ep's
// that r's decoded path lies in or below (router.Table.Within): a
// catch-all, or a parameter folder, serves the path of a folder without a
// handler, and the endpoints settings of /admin hold for /admin/x/y and
// /admin%2Fx%2Fy whoever serves them. It returns the first URL allowed
// refuses, or "". (access.Locator)
func (ep *endpoint) PathFolders(r *http.Request, allowed func(url string) bool) string {
	for _, f := range ep.site.Table.Within(r.URL.Path) {
		if f != ep.folder && !allowed(f.URL) {
			return f.URL
		}
	}
	return ""
}

// options answers OPTIONS: Allow, and the schema of the folder's collection
// when it has one (DESIGN §5).
func (ep *endpoint) options(w http.ResponseWriter) {
	w.Header().Set("Allow", strings.Join(ep.site.Engine.Allow(ep.folder), ", "))
	schema := ep.site.Schema(ep.folder)
	if schema == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, _ := json.Marshal(map[string]any{"collection": ep.site.collectionOf[ep.folder], "schema": schema})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// readBody reads the request body, refusing more than limit bytes with a
// 413, a body still arriving when the server's read deadline
// (limits.request_ms) passes with a 408, and a compressed one with a 415.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	coding := contentCoding(r.Header)
	if coding != "" && r.ContentLength > 0 { // refused before its bytes are waited for
		return nil, unsupportedCoding(coding)
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	if r.ContentLength >= 0 {
		body, err := readLength(r.Body, r.ContentLength)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		return body, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, bodyError(err, limit)
	}
	if coding != "" && len(body) > 0 { // chunked: a coding on no body is no matter
		return nil, unsupportedCoding(coding)
	}
	return body, nil
}

// unsupportedCoding is the 415 of a body in a content coding; RFC 9110,
// 15.5.16: Accept-Encoding names the codings that would do.
func unsupportedCoding(c string) error {
	return &phases.Error{Status: http.StatusUnsupportedMediaType, Title: http.StatusText(http.StatusUnsupportedMediaType),
		Detail: "content coding " + c + " is not supported: send the body uncompressed, without Content-Encoding",
		Header: http.Header{"Accept-Encoding": {"identity"}}}
}

// contentCoding is the first content coding of a request other than
// identity, "" when there is none: MiniMi reads bodies as they are sent
// and decodes none, so a gzip body would reach the script compressed.
func contentCoding(h http.Header) string {
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return c
			}
		}
	}
	return ""
}

// bodyChunk is how much of a body of known length is allocated before its
// bytes arrive: a client that announces limits.body_bytes and sends little
// holds no more than this.
const bodyChunk = 64 << 10

// readLength reads a body of n bytes (net/http's body ends there). One of at
// most bodyChunk is read into one buffer of its size; a larger one starts
// with bodyChunk and doubles, up to n, as its bytes arrive.
func readLength(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, min(n, bodyChunk))
	read := 0
	for {
		m, err := io.ReadFull(r, buf[read:])
		read += m
		if err != nil {
			return nil, err
		}
		if int64(read) == n {
			return buf, nil
		}
		grown := make([]byte, min(2*int64(len(buf)), n))
		copy(grown, buf)
		buf = grown
	}
}

// bodyError is the problem of a body that could not be read.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &phases.Error{Status: http.StatusRequestTimeout, Title: http.StatusText(http.StatusRequestTimeout),
			Detail: "the body did not arrive within the request time limit", Header: http.Header{"Connection": {"close"}}, Err: err}
	}
	return &phases.Error{Status: http.StatusBadRequest, Title: http.StatusText(http.StatusBadRequest),
		Detail: "reading the body failed", Err: err}
}

func tooLarge(limit int64) error {
	return &phases.Error{Status: http.StatusRequestEntityTooLarge, Title: http.StatusText(http.StatusRequestEntityTooLarge),
		Detail: "the body is larger than " + strconv.FormatInt(limit, 10) + " bytes"}
}

// smallBody is the size below which net/http sets Content-Length itself: it
// buffers that much before it sends the header.
const smallBody = 2048

// jsonType is the Content-Type of res:json replies, shared by all of them:
// header values are never modified in place.
var jsonType = []string{"application/json"}

// serverHeader says whether k is a header that the server writes itself,
// whose value a script's must not stand for, so it is dropped: one that
// frames the reply's body or manages the connection, which net/http writes
// (a Transfer-Encoding of gzip went out beside net/http's chunked, and no
// client could read the reply), and X-Request-Id, the request's id, which
// the log line and a problem's request_id carry too. Connection is not
// among them: net/http reads a handler's Connection: close, and closes the
// connection after the reply.
func serverHeader(k string) bool {
	switch k {
	case "Content-Length", "Transfer-Encoding", "Trailer", "Te", "Upgrade", "Keep-Alive", "Proxy-Connection",
		headerRequestID:
		return true
	}
	return false
}

// setHeader sets the header k of a reply to the values v a script gave it.
// Vary and Access-Control-Expose-Headers keep what the whitelist put there
// (Origin, X-Request-Id) and get v beside it: a script naming what else its
// reply varies on, or another header a page may read, must not take away
// the Vary: Origin that keeps a cache from serving one origin's reply to
// another.
func setHeader(h http.Header, k string, v []string) {
	if k != "Vary" && k != "Access-Control-Expose-Headers" || len(h[k]) == 0 {
		h[k] = v
		return
	}
	merged := slices.Clone(h[k])
	for _, x := range v {
		if !slices.ContainsFunc(merged, func(y string) bool { return strings.EqualFold(x, y) }) {
			merged = append(merged, x)
		}
	}
	h[k] = merged
}

func writeResponse(w http.ResponseWriter, r *http.Request, resp *phases.Response) {
	if etag := resp.Header.Get("ETag"); etag != "" && resp.Status == http.StatusOK &&
		(r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("If-Match") == "" && r.Header.Get("If-Unmodified-Since") == "" &&
		noneMatch(r.Header.Values("If-None-Match"), etag) {
		// RFC 9110, 13.1.2: the client has this representation. A request
		// with If-Match or If-Unmodified-Since, which come first (13.2.2),
		// is the script's to answer.
		resp.Status = http.StatusNotModified
	}
	// A 204, 205 or 304 has no content (RFC 9110, 15.3.5, 15.3.6 and
	// 15.4.5): a body a script gave it is dropped, and so is the type that
	// would describe it, whether res:json, res:send or res:header set it.
	noContent := resp.Status == http.StatusNoContent || resp.Status == http.StatusResetContent ||
		resp.Status == http.StatusNotModified
	h := w.Header()
	for k, v := range resp.Header {
		if !serverHeader(k) && !(noContent && k == "Content-Type") {
			setHeader(h, k, v)
		}
	}
	switch {
	case resp.ContentType == "" || noContent:
	case resp.ContentType == jsonType[0]:
		h["Content-Type"] = jsonType
	default:
		h["Content-Type"] = []string{resp.ContentType}
	}
	if resp.Body != nil && !noContent && (len(resp.Body) >= smallBody || r.Method == http.MethodHead) {
		h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	}
	w.WriteHeader(resp.Status)
	if r.Method != http.MethodHead && len(resp.Body) > 0 && !noContent {
		_, _ = w.Write(resp.Body)
	}
}

// noneMatch reports whether an If-None-Match header (its values) matches
// etag, the ETag of the reply: "*" as the whole header, or one of its
// entity tags by the weak comparison of RFC 9110, 8.8.3.2, which ignores
// W/. The header's tags must be quoted, and a list that is not well formed
// matches nothing: a wrong 304 would leave the client with stale data. The
// reply's own tag is read leniently: one a script wrote without its quotes
// (ETag: 3) is taken whole, and matches "3".
func noneMatch(values []string, etag string) bool {
	own := strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	if len(own) >= 2 && own[0] == '"' && own[len(own)-1] == '"' {
		own = own[1 : len(own)-1]
	}
	if own == "" {
		return false
	}
	if len(values) == 1 && strings.TrimSpace(values[0]) == "*" {
		return true
	}
	matched := false
	for _, v := range values {
		for {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				break
			}
			tag, rest, ok := scanTag(v)
			if !ok {
				return false
			}
			matched = matched || tag == own
			v = rest
		}
	}
	return matched
}

// scanTag reads the entity tag at the start of s (W/ optional, then a
// quoted opaque tag, then spaces up to a comma or the end) and returns its
// opaque tag without the quotes, and what follows it.
func scanTag(s string) (tag, rest string, ok bool) {
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	tag, rest = s[1:1+end], strings.TrimLeft(s[2+end:], " \t")
	if rest != "" && rest[0] != ',' {
		return "", "", false
	}
	return tag, rest, true
}

// writeError answers err as a problem. Only this function maps errors to
// statuses; 5xx errors are logged here with their file:line.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *phases.Error
	if !errors.As(err, &pe) {
		pe = &phases.Error{Status: http.StatusInternalServerError, Title: http.StatusText(500), Internal: true, Err: err}
	}
	d := problem.New(pe.Status, pe.Detail)
	if pe.Title != "" {
		d.Title = pe.Title
	}
	if pe.Type != "" {
		d.Type = pe.Type
	}
	d.Extensions = pe.Extensions
	d.RequestID = requestIDOf(r)
	d.Instance = r.URL.EscapedPath()
	for _, f := range pe.Fields {
		d.Errors = append(d.Errors, problem.Field{Pointer: f.Pointer, Message: f.Message})
	}
	if pe.Internal && !s.dev() {
		d.Detail = "an internal error occurred; the server log has the details under request_id " + d.RequestID
	}
	if pe.Status >= 500 {
		s.log.Error("request failed", keyRequestID, d.RequestID, keySource, pe.Source, keyError, pe.Message())
	}
	for k, v := range pe.Header {
		if k != "Content-Type" && !serverHeader(k) {
			setHeader(w.Header(), k, v)
		}
	}
	if len(pe.Allow) > 0 {
		w.Header().Set("Allow", strings.Join(pe.Allow, ", "))
	}
	problem.Write(w, d)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if !s.isReady() {
		s.writeError(w, r, &phases.Error{Status: http.StatusServiceUnavailable, Title: "Not Ready", Detail: "the service is starting or stopping"})
		return
	}
	if set := s.site().Stash(); set != nil {
		if behind := set.Behind(); len(behind) > 0 {
			s.writeError(w, r, &phases.Error{Status: http.StatusServiceUnavailable, Title: "Not Ready",
				Detail: fmt.Sprintf("store %q failed to commit after the event log did: it misses acknowledged writes "+
					"until the service restarts and catches it up", behind[0])})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) routes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Routes(s.site()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, problem.New(500, "").JSON()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
