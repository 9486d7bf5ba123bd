package phases

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/minimi-go/minimi/internal/problem"
)

var (
	// ErrScriptTimeout is a request whose scripts ran past limits.script_ms.
	ErrScriptTimeout = errors.New("script time budget exceeded")
	// ErrBadBody is a request body that cannot be decoded.
	ErrBadBody = errors.New("bad request body")
	// ErrWrongPhase is a stash write or emit outside the last phase.
	ErrWrongPhase = errors.New("allowed only in the last phase")
	// ErrQuery is a stash write or emit in a GET or HEAD request.
	ErrQuery = errors.New("not allowed in a query")
	// ErrFinished is a second attempt to finish one response.
	ErrFinished = errors.New("response already finished")
	// ErrEventSize is a command whose event would pass MaxEventBytes.
	ErrEventSize = errors.New("the command's event is too large")
)

// Error is a failed request as the pipeline reports it: an HTTP status, a
// title and a detail safe to show the client, and the underlying cause for
// the log.
type Error struct {
	Status int
	// Type is a URI reference naming the kind of problem (RFC 9457's
	// "type"); "" is about:blank.
	Type  string
	Title string
	// Detail is shown to the client. For a 500 it is shown only in dev mode.
	Detail string
	// Fields lists the failing fields of a 422 (JSON pointer → message).
	Fields []FieldError
	// Extensions are the problem's members beyond the standard ones, as
	// JSON, from the error table of a script (RFC 9457 §3.2).
	Extensions map[string]json.RawMessage
	// Allow lists the methods of the URL, for a 405.
	Allow []string
	// Header holds headers a script set before res:error; the problem
	// reply carries them (but its own Content-Type, and none of the headers
	// that frame the body or manage the connection: Content-Length,
	// Transfer-Encoding…).
	Header http.Header
	// Internal marks a Detail that comes from a script's error message or a Go
	// error: only the log and dev mode show it.
	Internal bool
	// Source is file:line of the script that raised it, when known.
	Source string
	Err    error
}

// FieldError is one failing field of a rejected record.
type FieldError struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// Error is what a script that catches the error sees: the status, the
// title and the Message.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
	if m := e.Message(); m != "" {
		msg += ": " + m
	}
	return msg
}

// Message is the detail and the cause, each said once: a cause that the
// detail already tells (or that tells the detail) is not repeated. The log
// writes it under "error".
func (e *Error) Message() string {
	if e.Err == nil {
		return e.Detail
	}
	cause := e.Err.Error()
	switch {
	case e.Detail == "" || strings.Contains(cause, e.Detail):
		return cause
	case strings.Contains(e.Detail, cause):
		return e.Detail
	}
	return e.Detail + ": " + cause
}

func (e *Error) Unwrap() error { return e.Err }

// misuse is a binding called where it is not allowed: a 500 whose message
// names the call and the rule.
func misuse(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Title: http.StatusText(http.StatusInternalServerError),
		Internal: true, Detail: err.Error(), Err: err}
}

// newError builds an Error with the title of status (problem.Title).
func newError(status int, detail string, err error) *Error {
	return &Error{Status: status, Title: problem.Title(status), Detail: detail, Err: err}
}
