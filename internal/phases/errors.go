package phases

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// ErrScriptTimeout is a request whose scripts ran past limits.script_ms.
	ErrScriptTimeout = errors.New("script time budget exceeded")
	// ErrBadBody is a request body that cannot be decoded.
	ErrBadBody = errors.New("bad request body")
	// ErrWrongPhase is a stash write or emit outside the last phase.
	ErrWrongPhase = errors.New("not allowed in this phase")
	// ErrQuery is a stash write in a GET or HEAD request.
	ErrQuery = errors.New("stash writes are not allowed in a query")
	// ErrFinished is a second attempt to finish one response.
	ErrFinished = errors.New("response already finished")
)

// Error is a failed request as the pipeline reports it: an HTTP status, a
// title and a detail safe to show the client, and the underlying cause for
// the log.
type Error struct {
	Status int
	Title  string
	// Detail is shown to the client. For a 500 it is shown only in dev mode.
	Detail string
	// Fields lists the failing fields of a 422 (JSON pointer → message).
	Fields []FieldError
	// Allow lists the methods of the URL, for a 405.
	Allow []string
	// Header holds headers a script set before res:error; the problem
	// reply carries them (but its own Content-Type and Content-Length).
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

func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// newError builds an Error with the standard title for status.
func newError(status int, detail string, err error) *Error {
	return &Error{Status: status, Title: http.StatusText(status), Detail: detail, Err: err}
}
