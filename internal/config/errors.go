package config

import (
	"errors"
	"fmt"
	"strconv"
)

var (
	// ErrUnknownKey is a key that Config does not have (usually a typo).
	ErrUnknownKey = errors.New("unknown key")
	// ErrUnknownEnv is a MINIMI_* environment variable that is no key's and
	// that MiniMi does not read otherwise. It matches ErrUnknownKey too.
	ErrUnknownEnv = fmt.Errorf("%w: environment variable", ErrUnknownKey)
	// ErrWrongType is a value of the wrong JSON type, or an environment value that does not convert.
	ErrWrongType = errors.New("wrong type")
	// ErrBadValue is a value of the right type that breaks a rule (range, format, reference).
	ErrBadValue = errors.New("bad value")
	// ErrDuplicateKey is a key given twice in one object of the file, of
	// which a JSON decoder would keep the last without a word.
	ErrDuplicateKey = errors.New("duplicate key")
)

// KeyError is a problem with one key of the config, named in dotted form
// ("port", "nats.url", "clients.web.cidrs[0]", "endpoints./notes.clients").
// An empty Key is the document itself. For ErrUnknownEnv, Key is the variable's name.
type KeyError struct {
	Key string
	Err error // wraps ErrUnknownKey, ErrWrongType, ErrBadValue or ErrDuplicateKey
	// Hint is, for an unknown key, the known key it most likely meant.
	Hint string
	// From is the environment variable or the flag that gave the value,
	// when it was not the file ("MINIMI_PORT", "--port"); the text ends
	// with it.
	From string
}

func (e *KeyError) Error() string {
	var s string
	switch {
	case errors.Is(e.Err, ErrUnknownEnv):
		s = "config: unknown environment variable " + e.Key
	case errors.Is(e.Err, ErrUnknownKey) && e.Hint != "":
		s = "config: unknown key " + strconv.Quote(e.Key) + "; did you mean " + strconv.Quote(e.Hint) + "?"
	case errors.Is(e.Err, ErrUnknownKey):
		s = "config: unknown key " + strconv.Quote(e.Key)
	case e.Key == "":
		s = "config: " + e.Err.Error()
	default:
		s = "config: " + e.Key + ": " + e.Err.Error()
	}
	if e.From != "" {
		s += " (from " + e.From + ")"
	}
	return s
}

func (e *KeyError) Unwrap() error { return e.Err }

// SyntaxError is config text that is not one JSON object.
// Line and Column count from 1; Column counts bytes.
type SyntaxError struct {
	Line, Column int
	Err          error // the decoder's error, e.g. a *json.SyntaxError
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("config: line %d, column %d: %v", e.Line, e.Column, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// PathError is a problem with the config file at Path.
type PathError struct {
	Op   string // "open", "read" or "load"
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

func (e *PathError) Unwrap() error { return e.Err }

// reason is the text of a problem that matches one of the sentinels with errors.Is
// without repeating the sentinel's text.
type reason struct {
	kind error
	text string
}

func (r *reason) Error() string { return r.text }

func (r *reason) Unwrap() error { return r.kind }

// keyErr builds a KeyError for key whose Err matches kind and reads like format.
func keyErr(key string, kind error, format string, args ...any) error {
	return &KeyError{Key: key, Err: &reason{kind: kind, text: fmt.Sprintf(format, args...)}}
}
