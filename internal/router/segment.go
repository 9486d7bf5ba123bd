package router

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// forbiddenStatic lists the characters a static folder name may not hold:
// path separators and the characters of chi patterns and MiniMi folder syntax.
const forbiddenStatic = "/{}*[]()"

// ParseSegment turns a folder name into a URL segment: "foo" is static,
// "[id]" a parameter, "[...rest]" a catch-all and "(group)" a group.
// Parameter and group names match [A-Za-z_][A-Za-z0-9_]*. A static name is
// any non-empty UTF-8 name that does not start with "." and holds none of
// / { } * [ ] ( ), whitespace or control characters.
//
// The error is a *PathError with Op "parse" and the name as Path; it wraps
// ErrBadFolderName.
func ParseSegment(name string) (Segment, error) {
	seg, err := parseSegment(name)
	if err != nil {
		return Segment{}, &PathError{Op: "parse", Path: name, Err: fmt.Errorf("%w: %s", ErrBadFolderName, err)}
	}
	return seg, nil
}

func parseSegment(name string) (Segment, error) {
	switch {
	case strings.HasPrefix(name, "[..."):
		return parseBracketed(name, CatchAll, "[...", "]")
	case strings.HasPrefix(name, "["):
		return parseBracketed(name, Param, "[", "]")
	case strings.HasPrefix(name, "("):
		return parseBracketed(name, Group, "(", ")")
	}
	if err := checkStatic(name); err != nil {
		return Segment{}, err
	}
	return Segment{Kind: Static, Name: name}, nil
}

func parseBracketed(name string, k Kind, open, closing string) (Segment, error) {
	inner, ok := strings.CutSuffix(name[len(open):], closing)
	if !ok {
		return Segment{}, fmt.Errorf("%q is not closed by %q", open, closing)
	}
	if !isIdent(inner) {
		return Segment{}, fmt.Errorf("%s name %q must match [A-Za-z_][A-Za-z0-9_]*", k, inner)
	}
	return Segment{Kind: k, Name: inner}, nil
}

func checkStatic(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty name")
	case !utf8.ValidString(name):
		return fmt.Errorf("name is not valid UTF-8")
	case name[0] == '.':
		return fmt.Errorf("name starts with %q", '.')
	}
	for _, r := range name {
		if strings.ContainsRune(forbiddenStatic, r) || isSpaceOrControl(r) {
			return fmt.Errorf("character %q is not allowed", r)
		}
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// isIdent reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// String renders the segment back as a folder name: "foo", "[id]",
// "[...rest]" or "(group)"; "" for Root.
func (s Segment) String() string {
	switch s.Kind {
	case Param:
		return "[" + s.Name + "]"
	case CatchAll:
		return "[..." + s.Name + "]"
	case Group:
		return "(" + s.Name + ")"
	}
	return s.Name
}

// url renders the segment in MiniMi URL notation; "" for Root and Group,
// which add no segment.
func (s Segment) url() string {
	if s.Kind == Group || s.Kind == Root {
		return ""
	}
	return s.String()
}

// pattern renders the segment as a chi pattern segment: "foo", "{id}" or "*";
// "" for Root and Group. A "%" in a static name is "%25", as in a route
// path (Path.Route).
func (s Segment) pattern() string {
	switch s.Kind {
	case Static:
		return strings.ReplaceAll(s.Name, "%", "%25")
	case Param:
		return "{" + s.Name + "}"
	case CatchAll:
		return "*"
	}
	return ""
}
