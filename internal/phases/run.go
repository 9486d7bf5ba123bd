package phases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"

	"github.com/minimi-go/minimi/internal/problem"
	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

// Call is one request as the pipeline sees it, whether it came over HTTP or
// the bus.
type Call struct {
	Folder   *router.Folder // the target folder
	Method   string
	Path     string
	Params   map[string]string
	RawQuery string      // the query string, without '?'
	Header   http.Header // canonical keys
	Host     string      // the Host header, which net/http keeps out of Header; "" for none
	Body     []byte
	ID       string        // request id
	Client   string        // client name, "" for none
	Timeout  time.Duration // the whole request's time budget, from now; zero for none
}

// Response is what the pipeline answers when no error stopped it.
type Response struct {
	Status int
	Header http.Header // set by the scripts; nil for none
	// ContentType is Body's Content-Type when Header sets none, "" for none.
	ContentType string
	Body        []byte
}

// callState is the state of one request while it runs on a vm.
type callState struct {
	call      *Call
	resp      Response
	finished  bool
	err       error  // set by res:error
	phase     string // the phase running now
	where     string // file:line of the last error raised
	last      bool   // a handler of the last phase ran
	session   *stash.Session
	emits     []Emit
	emitBytes int         // the size of the emits' types and data
	tooLarge  *Error      // set once the command's event passed MaxEventBytes: it must not commit
	built     uint16      // the req fields built so far, by index in reqFieldNames
	reqTable  *lua.LTable // the req table of this call
}

// Run runs the pipeline of c (DESIGN §3). It returns the response, or an
// *Error that says which status to answer. ctx carries the caller's
// cancellation; c.Timeout bounds the scripts and the commit.
func (e *Engine) Run(ctx context.Context, c *Call) (*Response, error) {
	r := e.routes[c.Folder]
	if r == nil {
		return nil, newError(http.StatusNotFound, "no endpoint at "+c.Path, nil)
	}
	method := c.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	steps, ok := r.plans[method]
	if !ok {
		return nil, &Error{Status: http.StatusMethodNotAllowed, Title: http.StatusText(http.StatusMethodNotAllowed),
			Detail: method + " is not allowed on " + c.Path, Allow: r.allow}
	}
	v := e.get()
	cs := &callState{call: c}
	v.call = cs
	start := v.budget.begin(ctx, c.scriptTime(e.opts.ScriptTimeout), e.heapLimit())
	err := v.runSteps(steps, r.obs, start)
	v.budget.end()
	if ctxErr := v.budget.Err(); ctxErr != nil && err != nil {
		// A state stopped mid-script may hold half-built values: drop it.
		v.close()
		if merr := memoryError(v.budget, cs.where); merr != nil {
			r.fail(FailMemory)
			return nil, merr
		}
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			r.fail(FailTimeout)
			return nil, &Error{Status: http.StatusServiceUnavailable, Title: "Script Timeout",
				Detail: "the request's scripts were stopped: " + ErrScriptTimeout.Error(), Source: cs.where, Err: ErrScriptTimeout}
		}
		return nil, newError(http.StatusServiceUnavailable, "the request was canceled", ctxErr)
	}
	e.put(v)
	if err != nil {
		if pe, ok := err.(*Error); !ok || pe.Status >= 500 {
			r.fail(FailError)
		}
		return nil, err
	}
	if cs.err != nil {
		return nil, cs.err
	}
	if !cs.finished && cs.resp.Status == 0 {
		cs.resp.Status = http.StatusNoContent
	}
	if cs.resp.Status == 0 {
		cs.resp.Status = http.StatusOK
	}
	if !isQuery(c.Method) && cs.last && cs.resp.Status < 400 {
		if cs.tooLarge != nil {
			return nil, cs.tooLarge
		}
		if err := e.commit(ctx, cs, start); err != nil {
			return nil, err
		}
	}
	return &cs.resp, nil
}

// scriptTime is the time budget of c's scripts: limit, or less when the
// request's whole budget is less. (Both count from about the same moment:
// reading the body is bounded by the server's read timeout.)
func (c *Call) scriptTime(limit time.Duration) time.Duration {
	if c.Timeout > 0 && c.Timeout < limit {
		return c.Timeout
	}
	return limit
}

// commit makes a command durable, after its Lua state went back to the pool.
// The wait ends when the request's budget, counted from start, runs out.
func (e *Engine) commit(ctx context.Context, cs *callState, start time.Time) error {
	cmd := &Command{Call: cs.call, Status: cs.resp.Status, Emits: cs.emits}
	if d := cs.call.Timeout; d > 0 {
		cmd.Deadline = start.Add(d)
	}
	if cs.session != nil {
		cmd.Changes = cs.session.Changes()
	}
	var err error
	switch {
	case e.opts.Commit != nil:
		err = e.opts.Commit(ctx, cmd)
	case cs.session != nil:
		_, err = e.opts.Stash.Commit(cs.session)
	}
	if err != nil {
		return stashError(err)
	}
	return nil
}

// fail tells the route's observer, if any, that a request's scripts failed.
func (r *route) fail(f Failure) {
	if r.obs != nil {
		r.obs.Fail(f)
	}
}

// phaseClock times the phases of one request for a RouteObserver.
type phaseClock struct {
	obs   RouteObserver // nil: nothing is timed
	phase int           // the phase running, -1 for none
	start time.Time
}

// enter starts timing phase, ending the phase before it. The first phase
// starts at the clock's start, when it has one.
func (pc *phaseClock) enter(phase int) {
	if pc.obs == nil || phase == pc.phase {
		return
	}
	if pc.phase < 0 && !pc.start.IsZero() {
		pc.phase = phase
		return
	}
	now := time.Now()
	if pc.phase >= 0 {
		pc.obs.Phase(pc.phase, now.Sub(pc.start))
	}
	pc.phase, pc.start = phase, now
}

// stop ends the phase running.
func (pc *phaseClock) stop() {
	if pc.obs != nil && pc.phase >= 0 {
		pc.obs.Phase(pc.phase, time.Since(pc.start))
		pc.phase = -1
	}
}

// runSteps calls each handler in turn until one finishes the response,
// telling obs (when not nil) how long each phase took from start on.
func (v *vm) runSteps(steps []step, obs RouteObserver, start time.Time) error {
	L := v.L
	var req *lua.LTable
	clock := phaseClock{obs: obs, phase: -1, start: start}
	defer clock.stop()
	for _, s := range steps {
		clock.enter(s.phase)
		fn, err := v.fn(s)
		if err != nil {
			return &Error{Status: 500, Title: http.StatusText(500), Internal: true, Err: err}
		}
		if req == nil {
			req = v.newReq()
		}
		v.call.phase = s.proc.phase
		if s.proc.phase == v.e.opts.Phases[len(v.e.opts.Phases)-1] {
			v.call.last = true
		}
		L.Push(fn)
		L.Push(req)
		L.Push(v.res)
		if err := L.PCall(2, 0, v.onErr); err != nil {
			return v.handlerError(s.proc, err)
		}
		if v.call.finished {
			return nil
		}
	}
	return nil
}

// handlerError maps an error raised by a handler to an *Error: error{status=…}
// tables keep their status, errors raised by bindings keep theirs, anything
// else is a 500 whose message only the log and dev mode see.
func (v *vm) handlerError(p *processor, err error) error {
	where := v.call.where
	if where == "" {
		where = p.file
	}
	var api *lua.ApiError
	if !errors.As(err, &api) {
		return &Error{Status: 500, Title: http.StatusText(500), Source: where, Internal: true, Err: err}
	}
	switch obj := api.Object.(type) {
	case *lua.LTable:
		return tableError(v.L, obj, where)
	case *lua.LUserData:
		if e, ok := obj.Value.(*Error); ok {
			if e.Source == "" {
				e.Source = where
			}
			return e
		}
		if e, ok := obj.Value.(error); ok {
			return &Error{Status: 500, Title: http.StatusText(500), Source: where, Internal: true, Err: e}
		}
	}
	msg := api.Object.String()
	if _, _, rest, ok := splitPosition(msg); ok {
		msg = rest
	}
	return &Error{Status: 500, Title: http.StatusText(500), Detail: msg, Source: where, Internal: true, Err: errors.New(api.Object.String())}
}

// tableError reads error{status=…, type=…, title=…, detail=…, …}: any
// other string key is an extension member of the problem (RFC 9457 §3.2),
// its value as JSON. A status that is not an integer from 400 to 599, a
// type that is not a URI reference, a title or detail that is neither a
// string nor a number, a key that is not a string or that the server sets
// (instance, request_id), or a value JSON cannot hold makes it a 500 whose
// log line says so.
func tableError(L *lua.LState, t *lua.LTable, where string) *Error {
	status, err := tableStatus(t.RawGetString("status"))
	var typ, title, detail string
	if err == nil {
		typ, err = tableText(t, "type")
	}
	if err == nil && typ != "" {
		err = checkProblemType(typ)
	}
	if err == nil {
		title, err = tableText(t, "title")
	}
	if err == nil {
		detail, err = tableText(t, "detail")
	}
	var ext map[string]json.RawMessage
	if err == nil {
		ext, err = tableExtensions(L, t)
	}
	if err != nil {
		return &Error{Status: 500, Title: http.StatusText(500), Source: where, Internal: true, Err: err}
	}
	e := newError(status, detail, nil)
	e.Type, e.Extensions = typ, ext
	if title != "" {
		e.Title = title
	}
	if e.Detail == "" && status >= 500 { // logged: say where it came from
		if t.RawGetString("status") == lua.LNil {
			e.Err = errors.New("error({}) with neither a status nor a detail")
		} else {
			e.Err = fmt.Errorf("error({status=%d}) without a detail", status)
		}
	}
	e.Source = where
	return e
}

// tableExtensions encodes the members of an error table other than
// status, type, title and detail; nil when there are none.
func tableExtensions(L *lua.LState, t *lua.LTable) (map[string]json.RawMessage, error) {
	var ext map[string]json.RawMessage
	var err error
	t.ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		switch {
		case err != nil:
		case !ok:
			err = fmt.Errorf("error({[%s]=…}): a key must be a string, the name of a problem member", k)
		case ks == "status" || ks == "type" || ks == "title" || ks == "detail":
		case ks == "instance" || ks == "request_id":
			err = fmt.Errorf("error({%s=…}): %s is the server's to set", ks, ks)
		case ks != "errors" && !utf8.ValidString(string(ks)):
			err = fmt.Errorf("error({%q=…}): a member's name must be UTF-8", string(ks))
		case ks != "errors" && problem.IsMember(string(ks)):
			// Status = 200 would read as the status to a decoder that
			// matches names in any case, as Go's encoding/json does.
			err = fmt.Errorf("error({%s=…}): a member's name must differ from %s in more than case", ks, strings.ToLower(string(ks)))
		default:
			b, jerr := encodeJSON(L, nil, v)
			if jerr != nil {
				err = fmt.Errorf("error({%s=…}): %w", ks, jerr)
				return
			}
			if ext == nil {
				ext = map[string]json.RawMessage{}
			}
			ext[string(ks)] = b
		}
	})
	return ext, err
}

// tableText is the text of an error table's field: a string, or a number
// as Lua writes it; "" when the field is nil.
func tableText(t *lua.LTable, field string) (string, error) {
	switch v := t.RawGetString(field).(type) {
	case *lua.LNilType:
		return "", nil
	case lua.LString:
		return string(v), nil
	case lua.LNumber:
		return v.String(), nil
	default:
		return "", fmt.Errorf("error({%s=<%s>}): %s must be a string", field, v.Type(), field)
	}
}

// checkProblemType checks the type of an error table: a URI reference
// (RFC 9457 §3.1.1), so a client can tell the kind of problem without
// parsing the title: RFC 3986's characters only, with each % starting an
// escape of two hex digits.
func checkProblemType(typ string) error {
	bad := strings.ContainsFunc(typ, func(r rune) bool {
		return r > 0x7e || !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune("-._~:/?#[]@!$&'()*+,;=%", r))
	})
	for i := 0; i < len(typ) && !bad; i++ {
		if typ[i] == '%' {
			bad = i+2 >= len(typ) || !isHex(typ[i+1]) || !isHex(typ[i+2])
		}
	}
	if _, err := url.Parse(typ); err != nil || bad {
		return fmt.Errorf("error({type=%s}): type must be a URI reference", strconv.Quote(typ))
	}
	return nil
}

// tableStatus is the status of an error table: 500 when it has none.
func tableStatus(v lua.LValue) (int, error) {
	var shown string
	switch n := v.(type) {
	case *lua.LNilType:
		return 500, nil
	case lua.LNumber:
		if n >= 400 && n <= 599 && n == lua.LNumber(int(n)) {
			return int(n), nil
		}
		shown = n.String()
	case lua.LString:
		shown = strconv.Quote(string(n))
	default:
		shown = "<" + n.Type().String() + ">"
	}
	return 0, fmt.Errorf("error({status=%s}): status must be an integer from 400 to 599", shown)
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
