package phases

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
	"github.com/minimi-go/minimi/third_party/gopher-lua/ast"
	"github.com/minimi-go/minimi/third_party/gopher-lua/parse"

	"github.com/minimi-go/minimi/internal/router"
)

// Methods are the HTTP methods a processor may name as handler keys, in the
// order they are listed in Allow headers.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

const anyMethod = "ANY"

// ScriptError is a processor or library file that does not load, with the
// line where that is known.
type ScriptError struct {
	File string // relative to the service directory: "endpoints/foo/foo.load.lua"
	Line int    // 0 when unknown
	Err  error
}

func (e *ScriptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ScriptError) Unwrap() error { return e.Err }

// processor is one compiled processor file and the handlers it declares.
type processor struct {
	id      int
	file    string // as shown to users: endpoints/…
	phase   string
	folder  *router.Folder
	proto   *lua.FunctionProto
	entries []entry
	lines   chunkLines // where the chunk returns its handlers, for errors
}

// entry is one handler of a processor: a method ("" for any) and whether it
// covers descendants (pattern "/*") or only the folder itself ("/").
type entry struct {
	method   string
	wildcard bool
}

func (en entry) String() string {
	m := en.method
	if m == "" {
		m = anyMethod
	}
	if en.wildcard {
		return m + " /*"
	}
	return m + " /"
}

// compile parses and compiles one Lua file.
func compile(name string, src []byte) (*lua.FunctionProto, error) {
	_, proto, err := compileChunk(name, src)
	return proto, err
}

// compileChunk is compile that also returns the parsed chunk.
func compileChunk(name string, src []byte) ([]ast.Stmt, *lua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		se := syntaxError(name, err)
		if se.Line < 1 { // at end of file
			se.Line = bytes.Count(src, []byte("\n")) + 1
		}
		return nil, nil, se
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, nil, &ScriptError{File: name, Err: err}
	}
	return chunk, proto, nil
}

var lineRE = regexp.MustCompile(`line:(\d+)`)

// syntaxError turns a gopher-lua parse error into a ScriptError with a line.
func syntaxError(name string, err error) *ScriptError {
	se := &ScriptError{File: name, Err: err}
	var perr *parse.Error
	if errors.As(err, &perr) {
		se.Line = perr.Pos.Line
		se.Err = errors.New(perr.Message + " near " + strconv.Quote(perr.Token))
		return se
	}
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		se.Line, _ = strconv.Atoi(m[1])
	}
	return se
}

// handlers runs a processor's chunk in L and returns its handler entries and
// their functions, in a stable order: method keys first (in Methods order,
// then ANY), then the routes() entries sorted by key.
func (v *vm) handlers(p *processor) ([]entry, []*lua.LFunction, error) {
	L := v.L
	fn := L.NewFunctionFromProto(p.proto)
	fn.Env = v.env()
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return nil, nil, runError(p.file, err)
	}
	ret := L.Get(-1)
	L.Pop(1)
	t, ok := ret.(*lua.LTable)
	if !ok {
		return nil, nil, &ScriptError{File: p.file, Line: p.lines.ret, Err: fmt.Errorf("must return a table of handlers, returned %s", ret.Type())}
	}
	var (
		entries []entry
		fns     []*lua.LFunction
		errs    []error
		seen    = map[entry]bool{}
	)
	// fail notes a problem with the handler of key, at the line that key
	// is given on when the chunk shows it (a route key: the line of routes).
	fail := func(key string, err error) {
		if se := (*ScriptError)(nil); errors.As(err, &se) && se.File == p.file {
			errs = append(errs, err) // raised while routes() ran: it has its line
			return
		}
		errs = append(errs, &ScriptError{File: p.file, Line: p.lines.keys[key], Err: err})
	}
	group := p.folder.Segment.Kind == router.Group
	add := func(key string, en entry, val lua.LValue) {
		at := key
		if !isMethodKey(key) {
			at = "routes"
		}
		f, ok := val.(*lua.LFunction)
		switch {
		case !ok:
			fail(at, fmt.Errorf("handler %q is a %s, want a function", key, val.Type()))
		case group && !en.wildcard:
			fail(at, fmt.Errorf("handler %q would never run: a group folder is never the target of a URL; "+
				`handle its descendants with a "/*" route`, key))
		case seen[en]:
			fail(at, fmt.Errorf("handler %q is declared twice (as %s)", key, en))
		default:
			seen[en] = true
			entries = append(entries, en)
			fns = append(fns, f)
		}
	}
	for _, m := range append(Methods, anyMethod) {
		if val := t.RawGetString(m); val != lua.LNil {
			add(m, entry{method: strings.TrimPrefix(m, anyMethod)}, val)
		}
	}
	t.ForEach(func(k, _ lua.LValue) {
		ks, isStr := k.(lua.LString)
		if !isStr || (!isMethodKey(string(ks)) && ks != "routes") {
			fail(string(ks), fmt.Errorf("unknown key %s in the returned table (want GET, POST, PUT, PATCH, DELETE, ANY or routes)", luaQuote(k)))
		}
	})
	if r := t.RawGetString("routes"); r != lua.LNil {
		for _, err := range v.routes(p, r, add) {
			fail("routes", err)
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return entries, fns, nil
}

// chunkLines is where a processor's chunk returns its handlers: the line of
// its last top-level return, and the line each string key of the returned
// table is given on, found in the chunk's text. A line the text does not
// show (a table built by a function, a key set in a loop) is 0.
type chunkLines struct {
	ret  int
	keys map[string]int
}

// returnLines finds chunkLines in a parsed chunk. It follows the usual
// shapes: return { GET = … }, and return M after local M = { … }, M.GET =
// …, function M.GET() … end or function M:GET() … end at the top level.
func returnLines(chunk []ast.Stmt) chunkLines {
	var cl chunkLines
	var ret *ast.ReturnStmt
	at := -1
	for i, st := range chunk {
		if r, ok := st.(*ast.ReturnStmt); ok {
			ret, at = r, i
		}
	}
	if ret == nil {
		return cl
	}
	cl.ret = ret.Line()
	if len(ret.Exprs) == 0 {
		return cl
	}
	cl.keys = map[string]int{}
	switch x := ret.Exprs[0].(type) {
	case *ast.TableExpr:
		fieldLines(cl.keys, x)
	case *ast.IdentExpr:
		for _, st := range chunk[:at] {
			assignedLines(cl.keys, x.Value, st)
		}
	}
	return cl
}

// fieldLines notes the line of each string key of a table constructor.
func fieldLines(keys map[string]int, t *ast.TableExpr) {
	for _, f := range t.Fields {
		if k, ok := f.Key.(*ast.StringExpr); ok {
			keys[k.Value] = cmp.Or(k.Line(), f.Value.Line())
		}
	}
}

// assignedLines notes the keys a top-level statement gives the table in
// the variable name.
func assignedLines(keys map[string]int, name string, st ast.Stmt) {
	field := func(e ast.Expr) (string, bool) { // name.key
		a, ok := e.(*ast.AttrGetExpr)
		if !ok {
			return "", false
		}
		obj, ok := a.Object.(*ast.IdentExpr)
		k, isStr := a.Key.(*ast.StringExpr)
		if !ok || !isStr || obj.Value != name {
			return "", false
		}
		return k.Value, true
	}
	switch st := st.(type) {
	case *ast.LocalAssignStmt:
		for i, n := range st.Names {
			if n != name || i >= len(st.Exprs) {
				continue
			}
			clear(keys)
			if t, ok := st.Exprs[i].(*ast.TableExpr); ok {
				fieldLines(keys, t)
			}
		}
	case *ast.AssignStmt:
		for _, lhs := range st.Lhs {
			if k, ok := field(lhs); ok {
				keys[k] = cmp.Or(lhs.Line(), st.Line())
			}
		}
	case *ast.FuncDefStmt:
		if k, ok := field(st.Name.Func); ok {
			keys[k] = cmp.Or(st.Name.Func.Line(), st.Line())
		} else if obj, ok := st.Name.Receiver.(*ast.IdentExpr); ok && obj.Value == name {
			keys[st.Name.Method] = st.Line()
		}
	}
}

// routes calls a processor's routes() and adds its entries.
func (v *vm) routes(p *processor, r lua.LValue, add func(string, entry, lua.LValue)) []error {
	L := v.L
	rf, ok := r.(*lua.LFunction)
	if !ok {
		return []error{fmt.Errorf("routes is a %s, want a function", r.Type())}
	}
	L.Push(rf)
	if err := L.PCall(0, 1, nil); err != nil {
		err = runError(p.file, err)
		if se := (*ScriptError)(nil); errors.As(err, &se) {
			se.Err = fmt.Errorf("routes(): %w", se.Err)
			return []error{se}
		}
		return []error{fmt.Errorf("routes(): %w", err)}
	}
	rt, ok := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	if !ok {
		return []error{errors.New("routes() must return a table")}
	}
	var keys []string
	var errs []error
	rt.ForEach(func(k, _ lua.LValue) {
		if ks, ok := k.(lua.LString); ok {
			keys = append(keys, string(ks))
		} else {
			errs = append(errs, fmt.Errorf("routes() key %s is not a string", luaQuote(k)))
		}
	})
	sort.Strings(keys)
	for _, k := range keys {
		en, err := parseRouteKey(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		add(k, en, rt.RawGetString(k))
	}
	return errs
}

// parseRouteKey parses a routes() key: "[METHOD ]PATTERN", PATTERN "/" or "/*".
func parseRouteKey(k string) (entry, error) {
	method, pattern, found := strings.Cut(strings.TrimSpace(k), " ")
	if !found {
		method, pattern = "", method
	}
	pattern = strings.TrimSpace(pattern)
	var en entry
	switch pattern {
	case "/":
	case "/*":
		en.wildcard = true
	default:
		return en, fmt.Errorf("routes() key %q: pattern must be / or /*", k)
	}
	if method != "" {
		if !isMethodKey(method) {
			return en, fmt.Errorf("routes() key %q: unknown method %q", k, method)
		}
		if method != anyMethod {
			en.method = method
		}
	}
	return en, nil
}

func isMethodKey(s string) bool {
	if s == anyMethod {
		return true
	}
	for _, m := range Methods {
		if s == m {
			return true
		}
	}
	return false
}

func luaQuote(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return strconv.Quote(string(s))
	}
	return v.String()
}

// runError turns an error raised while running a chunk into a ScriptError
// with the file and line found in its message.
func runError(file string, err error) error {
	var api *lua.ApiError
	msg := err.Error()
	if errors.As(err, &api) {
		msg = api.Object.String()
	}
	se := &ScriptError{File: file, Err: errors.New(msg)}
	if f, line, rest, ok := splitPosition(msg); ok {
		se.File, se.Line, se.Err = f, line, errors.New(rest)
	}
	return se
}

// splitPosition splits "file:line: message" as Lua formats error positions.
func splitPosition(msg string) (file string, line int, rest string, ok bool) {
	i := strings.Index(msg, ": ")
	if i < 0 {
		return "", 0, msg, false
	}
	head := msg[:i]
	j := strings.LastIndexByte(head, ':')
	if j < 0 {
		return "", 0, msg, false
	}
	n, err := strconv.Atoi(head[j+1:])
	if err != nil {
		return "", 0, msg, false
	}
	return head[:j], n, msg[i+2:], true
}
