package router

import (
	"fmt"
	"net/url"
	"strings"
)

// Path is the path of a request as MiniMi routes it.
type Path struct {
	// Escaped is the path as the client sent it, percent-escapes kept.
	Escaped string
	// Decoded is Escaped with every escape decoded: what scripts see as
	// req.path.
	Decoded string
	// Route is what chi routes on: each segment of Escaped decoded, then
	// "%" and "/" escaped again (%25, %2F). A segment stays one segment, a
	// static folder name matches its decoded form whatever escapes the
	// client used, and Params can decode each value exactly once.
	Route string
}

// ParsePath decodes escaped, the path of a request as sent (url.URL's
// EscapedPath). It does not clean the path. The error wraps ErrBadPath when
// an escape is invalid.
func ParsePath(escaped string) (Path, error) {
	if escaped == "" || escaped[0] != '/' {
		escaped = "/" + escaped
	}
	if !strings.Contains(escaped, "%") {
		return Path{Escaped: escaped, Decoded: escaped, Route: escaped}, nil
	}
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return Path{}, fmt.Errorf("%w: %v", ErrBadPath, err)
	}
	var route strings.Builder
	route.Grow(len(escaped))
	for i, seg := range strings.Split(escaped, "/") {
		if i > 0 {
			route.WriteByte('/')
		}
		dec, _ := url.PathUnescape(seg) // the whole path decoded
		route.WriteString(routeEscaper.Replace(dec))
	}
	return Path{Escaped: escaped, Decoded: decoded, Route: route.String()}, nil
}

// routeEscaper escapes the two characters a decoded segment may not hold
// in a route path.
var routeEscaper = strings.NewReplacer("%", "%25", "/", "%2F")

// decodeParam decodes a value chi bound from a route path: the escapes of
// routeEscaper, and nothing else, which ParsePath guarantees.
func decodeParam(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	dec, err := url.PathUnescape(v)
	if err != nil { // not from a route path: keep the value as it came
		return v
	}
	return dec
}
