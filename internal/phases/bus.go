package phases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
	"golang.org/x/net/http/httpguts"

	"github.com/minimi-go/minimi/internal/service"
)

// Bus is the message bus the nats and service modules use (a
// *service.Client). Options.Bus nil means the bus is off: their functions
// raise a 503.
type Bus interface {
	// Publish sends data on subject, hops deep (service.HeaderHops).
	Publish(subject string, data []byte, hops int) error
	// Request sends data on subject, hops deep, and returns the reply's
	// data; ctx bounds the wait.
	Request(ctx context.Context, subject string, data []byte, hops int) ([]byte, error)
	// Call sends a request to a MiniMi service and returns its reply.
	Call(ctx context.Context, c service.Call) (*service.Reply, error)
}

// reservedSubject is the start of the subjects scripts may not send on:
// the event log's, which only the outbox publishes.
const reservedSubject = "minimi.events."

// natsPublish is nats.publish(subject, v): v is sent as is when it is a
// string, as JSON otherwise.
func (v *vm) natsPublish(L *lua.LState) int {
	bus := v.bus(L, "nats.publish")
	subject := checkSubject(L, 1, false)
	data := payload(L, 2)
	if err := bus.Publish(subject, data, v.hops()); err != nil {
		return v.raise(v.busError("nats.publish", "publishing on "+subject, err))
	}
	return 0
}

// natsRequest is nats.request(subject, v[, ms]): the reply, decoded when it
// is JSON, else a string. It waits ms milliseconds at most, and never past
// the request's script budget.
func (v *vm) natsRequest(L *lua.LState) int {
	bus := v.bus(L, "nats.request")
	subject := checkSubject(L, 1, true)
	data := payload(L, 2)
	ctx, cancel := busContext(L, float64(L.OptNumber(3, 0)))
	defer cancel()
	reply, err := bus.Request(ctx, subject, data, v.hops())
	if err != nil {
		return v.raise(v.busError("nats.request", "the request on "+subject, err))
	}
	L.Push(v.decodeBusBody(reply, json.Valid(reply)))
	return 1
}

// serviceCall is service.call(name, method, path[, body[, opts]]): a request
// to another MiniMi service over the bus, answered by that service's
// pipeline. It returns {status=, headers=, body=} whatever the status;
// opts.headers adds request headers and opts.ms bounds the wait.
func (v *vm) serviceCall(L *lua.LState) int {
	bus := v.bus(L, "service.call")
	call := service.Call{Service: L.CheckString(1), Method: strings.ToUpper(L.CheckString(2)),
		Path: L.CheckString(3), Header: http.Header{}}
	opts := L.OptTable(5, nil)
	ms := 0.0
	if opts != nil {
		ms = float64(lua.LVAsNumber(opts.RawGetString("ms")))
		setHeaders(L, call.Header, opts.RawGetString("headers"))
	}
	body, contentType := callBody(L, 4)
	call.Body = body
	if contentType != "" && call.Header.Get("Content-Type") == "" {
		call.Header.Set("Content-Type", contentType)
	}
	if call.Header.Get("X-Request-Id") == "" {
		call.Header.Set("X-Request-Id", v.call.call.ID)
	}
	call.Hops = v.hops()
	ctx, cancel := busContext(L, ms)
	defer cancel()
	rep, err := bus.Call(ctx, call)
	if err != nil {
		return v.raise(v.busError("service.call", fmt.Sprintf("%s %s on service %s", call.Method, call.Path, call.Service), err))
	}
	L.Push(v.replyTable(rep))
	return 1
}

// hops is how deep a message the running request sends is: one more than
// the services the request has passed through (service.HeaderHops).
func (v *vm) hops() int {
	n, err := strconv.Atoi(v.call.call.Header.Get(service.HeaderHops))
	if err != nil || n < 0 {
		n = 0
	}
	return min(n, service.MaxHops) + 1
}

// bus returns the engine's bus, raising when there is none or no request runs.
func (v *vm) bus(L *lua.LState, fn string) Bus {
	if v.call == nil {
		L.RaiseError("%s outside a request", fn)
	}
	if v.e.opts.Bus == nil {
		v.raise(busOff(fn))
	}
	return v.e.opts.Bus
}

func busOff(fn string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Title: "Bus Off",
		Detail: fn + ": the bus is off (nats.enabled is false)", Err: service.ErrBusOff}
}

// busContext bounds a wait on the bus by the script budget and, when ms > 0,
// by ms milliseconds. An ms longer than a time.Duration holds adds no bound
// of its own: the budget ends first.
func busContext(L *lua.LState, ms float64) (context.Context, context.CancelFunc) {
	parent := L.Context()
	if parent == nil {
		parent = context.Background()
	}
	if !(ms >= 0) {
		L.ArgError(3, "ms must be a number of milliseconds, 0 or more")
	}
	if ms == 0 || ms >= float64(math.MaxInt64/int64(time.Millisecond)) {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, time.Duration(ms*float64(time.Millisecond)))
}

// busError maps an error of the bus to the status the client sees: 503
// when the bus is off or no one answers, 504 on a time-out. When the
// script budget ran out meanwhile the pipeline answers 503 for it.
func (v *vm) busError(fn, what string, err error) *Error {
	switch {
	case errors.Is(err, service.ErrBusOff):
		return busOff(fn)
	case errors.Is(err, service.ErrNoResponders):
		return &Error{Status: http.StatusServiceUnavailable, Title: "No Responder",
			Detail: fn + ": no one answered " + what, Err: err}
	case errors.Is(err, service.ErrTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Title: http.StatusText(http.StatusGatewayTimeout),
			Detail: fn + ": no reply in time to " + what, Err: err}
	case errors.Is(err, service.ErrBadPath):
		return &Error{Status: 500, Title: http.StatusText(500), Internal: true, Detail: fn + ": " + err.Error(), Err: err}
	case errors.Is(err, service.ErrBadEnvelope):
		return &Error{Status: http.StatusBadGateway, Title: http.StatusText(http.StatusBadGateway),
			Detail: fn + ": the reply to " + what + " is not a MiniMi reply", Err: err}
	}
	return &Error{Status: 500, Title: http.StatusText(500), Internal: true, Detail: fn + ": " + err.Error(), Err: err}
}

// checkSubject returns argument n as a subject to send on: tokens that are
// not empty and hold no wildcard or whitespace, not under $ (the server's
// APIs; a request may reach $SRV.) nor under minimi.events.
func checkSubject(L *lua.LState, n int, request bool) string {
	s := L.CheckString(n)
	switch {
	case strings.HasPrefix(s, reservedSubject):
		L.ArgError(n, "subjects under "+reservedSubject+" are the event log's")
	case strings.HasPrefix(s, "$") && !(request && strings.HasPrefix(s, "$SRV.")):
		L.ArgError(n, "subjects starting with $ are reserved")
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
			L.ArgError(n, fmt.Sprintf("%q is not a subject to send on", s))
		}
	}
	return s
}

// payload is argument n as message data: a string as is, nil as nothing,
// anything else as JSON.
func payload(L *lua.LState, n int) []byte {
	switch val := L.Get(n).(type) {
	case lua.LString:
		return []byte(val)
	case *lua.LNilType:
		return nil
	default:
		b, err := encodeJSON(L, nil, val)
		if err != nil {
			L.ArgError(n, err.Error())
		}
		return b
	}
}

// callBody is argument n as a request body and its Content-Type: a string
// as text, a table (or number, boolean) as JSON.
func callBody(L *lua.LState, n int) ([]byte, string) {
	switch val := L.Get(n).(type) {
	case *lua.LNilType:
		return nil, ""
	case lua.LString:
		return []byte(val), "text/plain; charset=utf-8"
	default:
		return payload(L, n), "application/json"
	}
}

// setHeaders adds the string pairs of a Lua table to h. They are the
// callee's request headers, so they are checked as HTTP would have them:
// names are tokens, values are checked as res:header checks them.
func setHeaders(L *lua.LState, h http.Header, val lua.LValue) {
	t, ok := val.(*lua.LTable)
	if !ok {
		return
	}
	t.ForEach(func(k, v lua.LValue) {
		ks, kok := k.(lua.LString)
		if !kok || v.Type() != lua.LTString && v.Type() != lua.LTNumber {
			L.ArgError(5, "headers must map names to strings")
		}
		if !httpguts.ValidHeaderFieldName(string(ks)) {
			L.ArgError(5, fmt.Sprintf("invalid header name %q", string(ks)))
		}
		if err := checkHeaderValue(string(ks), v.String()); err != nil {
			L.ArgError(5, err.Error())
		}
		h.Set(string(ks), v.String())
	})
}

// replyTable is a reply as Lua sees it: status, headers with lower-case
// names, and the body decoded when it is JSON.
func (v *vm) replyTable(rep *service.Reply) *lua.LTable {
	L := v.L
	t := L.CreateTable(0, 3)
	t.RawSetString("status", lua.LNumber(rep.Status))
	h := L.CreateTable(0, len(rep.Header))
	for k, vals := range rep.Header {
		h.RawSetString(strings.ToLower(k), lua.LString(strings.Join(vals, ", ")))
	}
	t.RawSetString("headers", h)
	t.RawSetString("body", v.decodeBusBody(rep.Body, IsJSON(rep.Header)))
	return t
}

// decodeBusBody is a body received over the bus: decoded when asJSON and
// it decodes, else a string; nil when empty.
func (v *vm) decodeBusBody(data []byte, asJSON bool) lua.LValue {
	if len(data) == 0 {
		return lua.LNil
	}
	if asJSON && checkDepth(data) == nil {
		if val, err := decodeJSON(v.L, data); err == nil {
			return val
		}
	}
	return lua.LString(data)
}
