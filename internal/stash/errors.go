package stash

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound is a record that does not exist.
	ErrNotFound = errors.New("record not found")
	// ErrConflict is a write based on a version that is no longer current, a
	// create of an id that exists, or a duplicate value of a unique field.
	ErrConflict = errors.New("conflict")
	// ErrInUse is a data file locked by another process.
	ErrInUse = errors.New("data file is in use by another process")
	// ErrClosed is a call on a closed Set.
	ErrClosed = errors.New("stash is closed")
	// ErrNoCollection is a collection path that no schema declares.
	ErrNoCollection = errors.New("no such collection")
	// ErrReadOnly is a write through a read-only session.
	ErrReadOnly = errors.New("stash is read-only")
	// ErrInvalid is a record that fails its collection's schema; see ValidationError.
	ErrInvalid = errors.New("invalid record")
	// ErrInvalidQuery is a List call whose options cannot be served.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrInvalidSchema is a schema file that cannot be used.
	ErrInvalidSchema = errors.New("invalid schema")
	// ErrSchemaShape is a new schema that changes what the stored data
	// depends on: indexes, unique fields, x-hash or x-lowercase fields.
	ErrSchemaShape = errors.New("the schema's indexes, unique, x-hash or x-lowercase fields changed")
	// ErrInvalidStore is a stash file (or StoreSpec) that cannot be used.
	ErrInvalidStore = errors.New("invalid store")
	// ErrUnknownKey is a key of a schema or stash file that MiniMi does not take.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalidOptions is an Options value that fails Validate.
	ErrInvalidOptions = errors.New("invalid options")
	// ErrBadChange is a Change that could not have come from a Session.
	ErrBadChange = errors.New("malformed change")
	// ErrBehind is a write to a store that failed to commit a group the log
	// holds; it takes no new changes until it is reopened and caught up by Replay.
	ErrBehind = errors.New("store is behind the event log")
	// ErrAhead is a store that has applied events past the last one of the
	// event log beside it (AheadError).
	ErrAhead = errors.New("store is ahead of the event log")
	// ErrMoved is a collection moved into a store that has applied events
	// since it lived elsewhere; see MovedError.
	ErrMoved = errors.New("collection moved to a store that has applied events")
)

// FieldError is one failing field of a record.
type FieldError struct {
	Pointer string `json:"pointer"` // JSON pointer into the record ("" for the record itself)
	Message string `json:"message"`
}

// ValidationError lists every failing field of a record that does not fit its
// collection. It matches ErrInvalid with errors.Is.
type ValidationError struct {
	Collection string
	Fields     []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ValidationDetail(e.Collection))
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if f.Pointer != "" {
			b.WriteString(f.Pointer)
			b.WriteString(" ")
		}
		b.WriteString(f.Message)
	}
	return b.String()
}

// ValidationDetail is what a ValidationError of collection says before its fields.
func ValidationDetail(collection string) string {
	return "the record does not match the schema of " + collection
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// ConflictError is a write that lost to another one: the record changed since
// it was read, the id is taken, or Field holds a value that must be unique.
// It matches ErrConflict with errors.Is.
type ConflictError struct {
	Collection string
	ID         string
	Field      string // the unique field, or "" for a version or id conflict
	Holder     string // for a write that a unique field refused, the id of the record holding the value
	Err        error  // what was found, wrapping ErrConflict
}

func (e *ConflictError) Error() string {
	if e.Holder != "" {
		return e.Detail() + " (" + e.Holder + " holds it; " + e.ID + " was written)"
	}
	s := "conflict on " + e.Collection + " " + e.ID
	if e.Field != "" {
		s += " field " + e.Field
	}
	if e.Err != nil {
		// "conflict on …" already says what the wrapped ErrConflict says.
		s += ": " + strings.TrimPrefix(e.Err.Error(), ErrConflict.Error()+": ")
	}
	return s
}

// Detail is the conflict as a client may read it. For a unique field it
// names neither record: not the one written, whose id may have been
// generated for this very call, nor the one that holds the value, which the
// client may not be allowed to know of (an account's id found by its
// email). Error, for the log, names both.
func (e *ConflictError) Detail() string {
	if e.Holder == "" {
		return e.Error()
	}
	return "conflict on " + e.Collection + " field " + e.Field + ": another record holds the same value"
}

// Unwrap returns the underlying error.
func (e *ConflictError) Unwrap() error { return e.Err }

// Is reports whether target is ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// MovedError is a collection whose stash file moved it into a store that
// has applied events: catching up from the store's applied seq would miss
// the writes made while the collection lived elsewhere. It matches ErrMoved
// with errors.Is.
type MovedError struct {
	Collection string
	From, To   string // the homes: a store file, or "(memory)"
	Applied    uint64 // the applied seq of the store moved into
}

func (e *MovedError) Error() string {
	return fmt.Sprintf("collection %s moved from %s to %s, which has applied events up to seq %d: it would serve "+
		"the records it held there before, without the writes made since; run \"minimi replay\" with the service "+
		"stopped to rebuild the stores from the log (docs/events.md)", e.Collection, e.From, e.To, e.Applied)
}

// Is reports whether target is ErrMoved.
func (e *MovedError) Is(target error) bool { return target == ErrMoved }

// PathError is a problem with a schema or stash file; Path names the file.
type PathError struct {
	Op   string // "parse"
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

// AheadError is the error of a store, in file, that has applied events up to
// seq applied while the event log ends at seq head: minimi.db restored alone
// from an older copy, or lost. The store holds writes the log does not, and
// the seqs after head, given again to new events, would be taken as
// applied. It wraps ErrAhead.
func AheadError(file string, applied, head uint64) error {
	return &aheadError{file: file, applied: applied, head: head}
}

type aheadError struct {
	file          string
	applied, head uint64
}

func (e *aheadError) Error() string {
	return fmt.Sprintf("store %s has applied events up to seq %d, but the event log in %s ends at seq %d: "+
		"it holds writes the log does not; restore the files of one backup together, or run \"minimi replay\" "+
		"with the service stopped to rebuild the stores from the log (docs/operations.md)",
		e.file, e.applied, DefaultFile, e.head)
}

func (e *aheadError) Unwrap() error { return ErrAhead }
