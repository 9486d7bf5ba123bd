package service

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/minimi-go/minimi/internal/router"
)

// SubjectPrefix starts the subject of every request a service answers:
// minimi.rpc.<service>.<segment>...
const SubjectPrefix = "minimi.rpc"

// DefaultName is the service name used for an empty one.
const DefaultName = "minimi"

// Name makes s a service name for the NATS services API and a subject
// token: every character other than A-Z, a-z, 0-9, "-" and "_" becomes "_",
// and "" is DefaultName. Case is kept ("MiniMi" stays "MiniMi").
func Name(s string) string {
	if s == "" {
		return DefaultName
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// Prefix is the subject of the root URL of service name; the subjects of
// its other URLs are below it.
func Prefix(name string) string { return SubjectPrefix + "." + Name(name) }

// Subject returns the subject of a request for path on service name. path
// is a URL path as sent over HTTP (percent-escapes allowed, no query),
// cleaned as over HTTP (router.ParsePath: "//", "." and ".." resolved, a
// trailing slash dropped); each of its segments becomes one token: the
// segment, unescaped, then escaped with url.PathEscape and with "." escaped
// as %2E, so that no token holds ".", "*", ">" or whitespace.
func Subject(name, path string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("%w: %q does not start with /", ErrBadPath, path)
	}
	p, err := router.ParsePath(path)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrBadPath, path, err)
	}
	var b strings.Builder
	b.WriteString(Prefix(name))
	if p.Escaped == "/" {
		return b.String(), nil
	}
	for seg := range strings.SplitSeq(p.Escaped[1:], "/") {
		dec, _ := url.PathUnescape(seg) // ParsePath decoded the whole path
		b.WriteByte('.')
		b.WriteString(token(dec))
	}
	return b.String(), nil
}

// token escapes one decoded path segment into a subject token.
func token(seg string) string {
	return strings.ReplaceAll(url.PathEscape(seg), ".", "%2E")
}

// pathOf returns the URL path (escaped as a client would send it) of a
// subject below prefix: the inverse of Subject.
func pathOf(prefix, subject string) (string, error) {
	if subject == prefix {
		return "/", nil
	}
	rest, ok := strings.CutPrefix(subject, prefix+".")
	if !ok || rest == "" {
		return "", fmt.Errorf("%w: %q is not below %s", ErrBadSubject, subject, prefix)
	}
	var b strings.Builder
	for tok := range strings.SplitSeq(rest, ".") {
		seg, err := url.PathUnescape(tok)
		if tok == "" || err != nil {
			return "", fmt.Errorf("%w: token %q of %q", ErrBadSubject, tok, subject)
		}
		b.WriteByte('/')
		if seg == "." || seg == ".." { // stays an escaped dot segment, as over HTTP: never resolved
			b.WriteString(token(seg))
			continue
		}
		b.WriteString(url.PathEscape(seg))
	}
	return b.String(), nil
}

// routeSubject is the subject a folder's URL is served on: a static folder
// is its token, a [param] folder "*", a [...catch-all] folder ">", and a
// (group) folder adds nothing.
func routeSubject(prefix string, f *router.Folder) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, c := range f.Chain() {
		switch c.Segment.Kind {
		case router.Static:
			b.WriteString("." + token(c.Segment.Name))
		case router.Param:
			b.WriteString(".*")
		case router.CatchAll:
			b.WriteString(".>")
		}
	}
	return b.String()
}

// endpointName is the NATS services API name of a folder's endpoint: its
// URL's segments joined by "_", each made safe as Name does; "root" for "/".
func endpointName(f *router.Folder) string {
	var parts []string
	for _, c := range f.Chain() {
		switch c.Segment.Kind {
		case router.Static, router.Param, router.CatchAll:
			parts = append(parts, Name(c.Segment.Name))
		}
	}
	if len(parts) == 0 {
		return "root"
	}
	return strings.Join(parts, "_")
}
