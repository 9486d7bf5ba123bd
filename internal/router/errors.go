package router

import "errors"

var (
	// ErrUnknownFile is a file in endpoints/ that fits none of the naming conventions.
	ErrUnknownFile = errors.New("file fits no naming convention")
	// ErrUnknownPhase is a processor file for a phase that is not configured.
	ErrUnknownPhase = errors.New("phase is not configured")
	// ErrBadFolderName is a folder whose name cannot be turned into a URL segment.
	ErrBadFolderName = errors.New("bad folder name")
	// ErrDuplicateRoute is two folders that serve the same URL.
	ErrDuplicateRoute = errors.New("duplicate route")
	// ErrReserved is a folder at a path reserved for built-ins (/_minimi).
	ErrReserved = errors.New("path is reserved")
	// ErrCatchAllNotLast is a catch-all folder ([...name]) that has subfolders.
	ErrCatchAllNotLast = errors.New("catch-all folder has subfolders")
	// ErrParamConflict is two parameter (or two catch-all) folders that claim
	// the same place in the URL under different names, e.g. /users/[id] beside
	// /users/[slug].
	ErrParamConflict = errors.New("conflicting parameter folders")
	// ErrDuplicateParam is a parameter name bound twice along one path, e.g.
	// /users/[id]/posts/[id].
	ErrDuplicateParam = errors.New("parameter name bound twice")
	// ErrBadPath is a request path that cannot be served: an invalid
	// percent-escape, or a path parameter that is or holds a "." or ".."
	// segment once decoded.
	ErrBadPath = errors.New("bad request path")
	// ErrEmptyCatchAll is a request that reached a catch-all folder with no
	// segment to bind: "/" and the root's [...name]. A catch-all needs at
	// least one segment, so no folder serves such a request.
	ErrEmptyCatchAll = errors.New("catch-all without a segment")
	// ErrBadPhase is a configured phase name that cannot name processor files.
	ErrBadPhase = errors.New("bad phase name")
)

// PathError records a problem with a file or folder of the endpoints tree.
type PathError struct {
	Op   string // what was being done: "walk", "parse", "mount"
	Path string // the file or folder, relative to the endpoints root's parent ("endpoints/foo/foo.lod.lua")
	Err  error
}

func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

func (e *PathError) Unwrap() error { return e.Err }
