package eventsource

import (
	"strings"
	"unicode"
)

// SubjectPrefix starts the subject of every event the outbox publishes.
const SubjectPrefix = "minimi.events"

// maxSubject bounds a subject's length; tokens past it are dropped.
const maxSubject = 512

// Subject returns the NATS subject of a command of service on path:
// minimi.events.<service>.<segment>..., each token made safe for NATS (".",
// "*", ">", whitespace and control characters become "_"; an empty token is
// "_"), and the root path "/" is minimi.events.<service>._ . Trailing tokens
// that would make the subject longer than 512 bytes are dropped.
func Subject(service, path string) string {
	var b strings.Builder
	b.WriteString(SubjectPrefix)
	b.WriteByte('.')
	b.WriteString(token(service))
	path = strings.TrimPrefix(path, "/")
	path = strings.TrimSuffix(path, "/")
	for seg := range strings.SplitSeq(path, "/") {
		t := token(seg)
		if b.Len()+1+len(t) > maxSubject {
			break
		}
		b.WriteByte('.')
		b.WriteString(t)
	}
	return b.String()
}

// token makes s one NATS subject token.
func token(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '_'
		}
		return r
	}, s)
}
