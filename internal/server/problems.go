package server

import (
	"cmp"
	"errors"
	"slices"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

// Problems lists the problems in err, a tree of joined errors, sorted by the
// file each names and then by line: config.json, endpoints/…, lib/….
// Problems that name no file come first; problems of one file and line keep
// their order.
func Problems(err error) []error {
	list := leaves(err)
	slices.SortStableFunc(list, func(a, b error) int {
		fa, la := problemFile(a)
		fb, lb := problemFile(b)
		return cmp.Or(cmp.Compare(fa, fb), cmp.Compare(la, lb))
	})
	return list
}

// leaves lists the errors of a tree of joined errors.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, leaves(e)...)
	}
	return out
}

// problemFile is the file, relative to the service directory, and the line
// (0 for none) that a problem names; "" when it names none.
func problemFile(err error) (string, int) {
	if se, ok := errors.AsType[*phases.ScriptError](err); ok {
		return se.File, se.Line
	}
	if pe, ok := errors.AsType[*router.PathError](err); ok {
		return pe.Path, 0
	}
	if pe, ok := errors.AsType[*stash.PathError](err); ok {
		return pe.Path, 0
	}
	if _, ok := errors.AsType[*config.KeyError](err); ok {
		return "config.json", 0
	}
	return "", 0
}
