package router

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Path is the path of a request as MiniMi routes it.
type Path struct {
	// Escaped is the cleaned path as the client sent it, percent-escapes
	// kept.
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

// ParsePath cleans and decodes escaped, the path of a request as sent
// (url.URL's EscapedPath). Cleaning is path.Clean's, on the path as sent:
// "//" is "/", "." and ".." segments are resolved ("/a/../b" is "/b", "/.."
// is "/"), and a trailing slash is dropped. Escaped dots (%2E) are no dot
// segments: they are left for Params to refuse. The error wraps ErrBadPath
// when an escape is invalid.
func ParsePath(escaped string) (Path, error) {
	if escaped == "" || escaped[0] != '/' {
		escaped = "/" + escaped
	}
	escaped = path.Clean(escaped)
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

// checkParam refuses a decoded parameter value that is, or holds, a dot
// segment ("." or "..", "../x", "a/../b") or an empty one (a leading,
// trailing or doubled slash: "/etc/passwd", "a//b"). Such a value can only
// come from escaped dots or slashes (ParsePath resolves the plain ones), and
// passed on it could walk out of the folder a script joins it to.
func checkParam(name, v string) error {
	if !strings.ContainsAny(v, "./") {
		return nil
	}
	for seg := range strings.SplitSeq(v, "/") {
		switch seg {
		case ".", "..":
			return fmt.Errorf("%w: parameter %s holds the segment %q", ErrBadPath, name, seg)
		case "":
			return fmt.Errorf("%w: parameter %s holds an empty segment (a leading, trailing or doubled /)", ErrBadPath, name)
		}
	}
	return nil
}

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
