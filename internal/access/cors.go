package access

import (
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// defaultAllowHeaders are the request headers a preflight allows when it
// names none.
const defaultAllowHeaders = "Content-Type, X-Client-Key, Authorization, If-Match, X-Request-Id"

// exposeHeaders are the reply headers a page may read beyond the safelisted ones.
const exposeHeaders = "X-Request-Id"

// maxRequestHeaders bounds how many names of Access-Control-Request-Headers
// are echoed back.
const maxRequestHeaders = 32

// checkOrigin applies the whitelist. A request without Origin is not CORS and
// passes. A listed origin gets its CORS headers; any other is refused with a
// 403. It reports whether r is a preflight and whether it may go on.
func (g *Guard) checkOrigin(w http.ResponseWriter, r *http.Request) (preflight, ok bool) {
	origin := r.Header.Get("Origin")
	if len(g.origins) > 0 {
		w.Header().Add("Vary", "Origin")
	}
	if origin == "" {
		return false, true
	}
	if !g.origins[origin] {
		g.refuse(w, r, http.StatusForbidden, "origin "+strconv.Quote(origin)+" is not allowed")
		return false, false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	if isPreflight(r) {
		return true, true
	}
	h.Set("Access-Control-Expose-Headers", exposeHeaders)
	return false, true
}

// isPreflight reports whether r is a CORS preflight: OPTIONS naming the
// method of the request to come.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" && r.Header.Get("Origin") != ""
}

// answerPreflight answers a preflight for a URL that allows the methods allow.
func (g *Guard) answerPreflight(w http.ResponseWriter, r *http.Request, allow []string) {
	h := w.Header()
	methods := strings.Join(allow, ", ")
	h.Set("Allow", methods)
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", allowHeaders(r.Header.Values("Access-Control-Request-Headers")))
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(g.opts.MaxAge.Seconds())))
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

// allowHeaders is the requested header names that are well-formed tokens, or
// the default list when none are.
func allowHeaders(requested []string) string {
	var names []string
	for _, line := range requested {
		for name := range strings.SplitSeq(line, ",") {
			name = strings.TrimSpace(name)
			if isToken(name) && len(names) < maxRequestHeaders {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return defaultAllowHeaders
	}
	return strings.Join(names, ", ")
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2) of sane length.
func isToken(s string) bool {
	return len(s) <= 64 && httpguts.ValidHeaderFieldName(s)
}
