package router

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Mount registers handler(f) on r at the pattern of every folder for which
// exists(f) is true. Walk has already refused trees chi cannot route, so
// Mount does not panic on a tree Walk accepted.
func Mount(r chi.Router, t *Table, exists func(*Folder) bool, handler func(*Folder) http.Handler) {
	for _, f := range t.Folders {
		if f.Segment.Kind == Group || !exists(f) {
			continue
		}
		r.Handle(f.Pattern, handler(f))
	}
}

// Params returns the path parameters of f's URL bound in r's route context,
// each decoded once. r must have been routed on a Path's Route. A value that
// is or holds a "." or ".." segment once decoded is an error wrapping
// ErrBadPath. A catch-all binds at least one segment: chi routes "/" to the
// root's catch-all with nothing to bind, and that is ErrEmptyCatchAll, for
// a 404.
func Params(r *http.Request, f *Folder) (map[string]string, error) {
	if len(f.Params) == 0 {
		return nil, nil
	}
	rc := chi.RouteContext(r.Context())
	if f.Segment.Kind == CatchAll && rc.URLParam("*") == "" {
		return nil, ErrEmptyCatchAll
	}
	out := make(map[string]string, len(f.Params))
	for _, name := range f.Params {
		key := name
		if f.Segment.Kind == CatchAll && name == f.Segment.Name {
			key = "*"
		}
		v := decodeParam(rc.URLParam(key))
		if err := checkParam(name, v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}
