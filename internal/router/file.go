package router

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/minimi-go/minimi/internal/suggest"
)

// ReadFile reads the file name of fsys, the folder dir of a service
// ("endpoints", whose Table.Folders name their files relative to it, or
// "lib"). Its error names the file as every other error of the service
// does, dir/name, once: "read endpoints/notes/notes.execute.lua:
// permission denied".
func ReadFile(fsys fs.FS, dir, name string) ([]byte, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = pe.Err
		}
		return nil, fmt.Errorf("read %s/%s: %w", dir, name, err)
	}
	return data, nil
}

// The suffixes of a folder's non-processor files, after "<base>.".
const (
	schemaSuffix  = "schema.json"
	stashSuffix   = "stash.json"
	installSuffix = "install.lua"
	luaExt        = ".lua"
)

// reservedPhases cannot be phase names: they would collide with the other
// files of a folder ("endpoint" is the root's base name).
var reservedPhases = []string{"schema", "stash", "install", "endpoint"}

// fileRole says what a file of a folder is for.
type fileRole int

const (
	roleIgnored fileRole = iota
	roleProcessor
	roleSchema
	roleStash
	roleInstall
)

// fileKind is a classified file: its role and, for a processor, its phase.
type fileKind struct {
	role  fileRole
	phase string
}

// classifyFile decides what the file name is in a folder whose files are
// named after base, given the configured phases. Markdown files are
// ignored; dotfiles must be filtered out before. The error wraps
// ErrUnknownPhase or ErrUnknownFile.
func classifyFile(base, name string, phases []string) (fileKind, error) {
	if strings.EqualFold(path.Ext(name), ".md") {
		return fileKind{role: roleIgnored}, nil
	}
	suffixes := fileSuffixes(phases)
	for _, s := range suffixes {
		owner, ok := strings.CutSuffix(name, "."+s.suffix)
		if !ok || owner == "" {
			continue
		}
		if owner == base {
			return s.kind, nil
		}
		return fileKind{}, fmt.Errorf("%w: named after %q, not after its folder: want %q",
			ErrUnknownFile, owner, base+"."+s.suffix)
	}
	if phase, ok := processorPhase(base, name); ok {
		return fileKind{}, fmt.Errorf("%w: %q (configured: %s)%s",
			ErrUnknownPhase, phase, strings.Join(phases, ", "), didYouMean(name, base, suffixes))
	}
	return fileKind{}, fmt.Errorf("%w: want %s.<phase>.lua, %s.%s, %s.%s or %s.%s%s",
		ErrUnknownFile, base, base, schemaSuffix, base, stashSuffix, base, installSuffix,
		didYouMean(name, base, suffixes))
}

// fileSuffix is one name ending a folder's file may have after "<base>.".
type fileSuffix struct {
	suffix string
	kind   fileKind
}

func fileSuffixes(phases []string) []fileSuffix {
	s := make([]fileSuffix, 0, len(phases)+3)
	for _, p := range phases {
		s = append(s, fileSuffix{p + luaExt, fileKind{role: roleProcessor, phase: p}})
	}
	return append(s,
		fileSuffix{schemaSuffix, fileKind{role: roleSchema}},
		fileSuffix{stashSuffix, fileKind{role: roleStash}},
		fileSuffix{installSuffix, fileKind{role: roleInstall}},
	)
}

// processorPhase reports whether name has the shape of a processor of the
// folder, "<base>.<phase>.lua" with a phase without dots, and returns the phase.
func processorPhase(base, name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, base+".")
	if !ok {
		return "", false
	}
	phase, ok := strings.CutSuffix(rest, luaExt)
	if !ok || phase == "" || strings.Contains(phase, ".") {
		return "", false
	}
	return phase, true
}

// didYouMean returns `; did you mean "x"?` for the valid file name closest to
// name, when one is within two edits; "" otherwise.
func didYouMean(name, base string, suffixes []fileSuffix) string {
	names := make([]string, len(suffixes))
	for i, s := range suffixes {
		names[i] = base + "." + s.suffix
	}
	best := suggest.Closest(name, names, 2)
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// checkPhases rejects phase names that cannot name processor files.
func checkPhases(phases []string) error {
	seen := make(map[string]bool, len(phases))
	for _, p := range phases {
		switch {
		case p == "" || strings.ContainsAny(p, "./\\") || strings.ContainsFunc(p, isSpaceOrControl):
			return fmt.Errorf("%w: %q", ErrBadPhase, p)
		case slices.Contains(reservedPhases, p):
			return fmt.Errorf("%w: %q is reserved", ErrBadPhase, p)
		case seen[p]:
			return fmt.Errorf("%w: %q is listed twice", ErrBadPhase, p)
		}
		seen[p] = true
	}
	return nil
}
