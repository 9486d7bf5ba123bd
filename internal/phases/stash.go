package phases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"

	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

// Command is a request that changes state (DESIGN §6): a method other than
// GET or HEAD that reached the last phase and ended below 400. Its stash
// writes and emits commit together as one event.
type Command struct {
	Call    *Call
	Status  int
	Changes []stash.Change
	Emits   []Emit
	// Deadline ends the wait for the commit before the command's round
	// takes it (the request's budget); zero means none.
	Deadline time.Time
}

// Emit is one domain event raised with emit(type, data).
type Emit struct {
	Type string `json:"type"`
	Data any    `json:"data,omitempty"`
}

// CommitFunc makes a command durable. It returns once the command is
// committed, or an error (a stash.ErrConflict for a lost race).
type CommitFunc func(ctx context.Context, cmd *Command) error

// stashRef is the Go value of a stash object in Lua: one collection.
type stashRef struct{ coll string }

// isQuery reports whether method only reads (DESIGN §5).
func isQuery(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// stashMeta builds the metatable of stash objects: their methods.
func (v *vm) stashMeta() *lua.LTable {
	return methodsMeta(v.L, map[string]lua.LGFunction{
		"get":    v.stashGet,
		"list":   v.stashList,
		"count":  v.stashCount,
		"create": v.stashCreate,
		"put":    v.stashPut,
		"patch":  v.stashPatch,
		"delete": v.stashDelete,
	})
}

// stashObject returns the Lua stash object of a collection.
func (v *vm) stashObject(coll string) lua.LValue {
	if coll == "" {
		return lua.LNil
	}
	if ud, ok := v.stashes[coll]; ok {
		return ud // a stash object names its collection only: one per state serves every request
	}
	ud := v.L.NewUserData()
	ud.Value = &stashRef{coll: coll}
	ud.Metatable = v.stashMT
	if v.stashes == nil {
		v.stashes = map[string]*lua.LUserData{}
	}
	v.stashes[coll] = ud
	return ud
}

// stashAt is stash.at("/url"): the collection of the folder serving url, or
// of its nearest ancestor.
func (v *vm) stashAt(L *lua.LState) int {
	url := L.CheckString(1)
	f := v.e.table.Lookup(url)
	if f == nil {
		L.ArgError(1, fmt.Sprintf("no folder serves %q", url))
	}
	coll := v.e.collectionOf(f)
	if coll == "" {
		L.ArgError(1, fmt.Sprintf("no collection at or above %q", url))
	}
	L.Push(v.stashObject(coll))
	return 1
}

// collectionOf is the collection requests to f use.
func (e *Engine) collectionOf(f *router.Folder) string {
	if e.opts.Stash == nil || e.opts.CollectionOf == nil {
		return ""
	}
	return e.opts.CollectionOf(f)
}

// session returns the running request's stash session, opening it on first use.
func (v *vm) session() *stash.Session {
	cs := v.call
	if cs.session == nil {
		if isQuery(cs.call.Method) {
			cs.session = v.e.opts.Stash.ReadOnlySession()
		} else {
			cs.session = v.e.opts.Stash.Session()
		}
	}
	return cs.session
}

// self checks that argument 1 is a stash object and returns its collection.
func (v *vm) self(L *lua.LState, op string) string {
	ud, ok := L.Get(1).(*lua.LUserData)
	if !ok {
		L.ArgError(1, "call stash methods with a colon: stash:"+op+"(…)")
	}
	ref, ok := ud.Value.(*stashRef)
	if !ok || v.call == nil {
		L.ArgError(1, "not a stash")
	}
	return ref.coll
}

// writable checks the phase and method rules of a write (DESIGN §5).
func (v *vm) writable(L *lua.LState, op string) string {
	coll := v.self(L, op)
	cs := v.call
	if isQuery(cs.call.Method) {
		v.raise(misuse(fmt.Errorf("stash:%s in a %s request: %w", op, cs.call.Method, ErrQuery)))
	}
	if last := v.e.opts.Phases[len(v.e.opts.Phases)-1]; cs.phase != last {
		v.raise(misuse(fmt.Errorf("stash:%s in the %s phase: %w, %s", op, cs.phase, ErrWrongPhase, last)))
	}
	return coll
}

func (v *vm) stashGet(L *lua.LState) int {
	coll := v.self(L, "get")
	id := L.CheckString(2)
	var rec lua.LValue
	err := v.session().GetJSON(coll, id, readOptions(L, 3),
		func(doc []byte, version int, drop []string) error {
			lv, err := decodeJSON(L, doc)
			if err != nil {
				return fmt.Errorf("decode stored record: %w", err)
			}
			t, ok := lv.(*lua.LTable)
			if !ok {
				return fmt.Errorf("stored record is a %s, not an object", lv.Type())
			}
			for _, f := range drop {
				t.RawSetString(f, lua.LNil)
			}
			t.RawSetString(stash.FieldVersion, lua.LNumber(version))
			rec = t
			return nil
		})
	switch {
	case errors.Is(err, stash.ErrNotFound):
		rec = lua.LNil
	case err != nil:
		return v.raise(stashError(err))
	}
	L.Push(rec)
	return 1
}

func (v *vm) stashList(L *lua.LState) int {
	coll := v.self(L, "list")
	lo := v.listOptions(L, 2)
	recs, err := v.session().List(coll, lo)
	if err != nil {
		return v.raise(stashError(err))
	}
	t := L.CreateTable(len(recs), 0)
	for _, rec := range recs {
		lv, err := toLua(L, map[string]any(rec), 0)
		if err != nil {
			return v.raise(stashError(err))
		}
		t.Append(lv)
	}
	L.SetMetatable(t, L.GetField(L.Get(lua.RegistryIndex), arrayMeta))
	L.Push(t)
	return 1
}

// listOptions reads the options of list (argument n, a table or nil). An
// unknown key or a value of the wrong type is an error naming the option,
// so that a typo cannot drop a filter; a limit that is not a whole number
// of records is an invalid query (400), as a negative one is.
func (v *vm) listOptions(L *lua.LState, n int) stash.ListOptions {
	var lo stash.ListOptions
	o := L.OptTable(n, nil)
	if o == nil {
		return lo
	}
	o.ForEach(func(k, val lua.LValue) {
		key, _ := k.(lua.LString)
		switch key {
		case "after":
			lo.After = optionString(L, n, "after", val)
		case "prefix":
			lo.Prefix = optionString(L, n, "prefix", val)
		case "hidden":
			lo.Hidden = optionBool(L, n, "hidden", val)
		case "limit":
			lo.Limit = v.limitOption(L, n, val)
		case "where":
			lo.Where = whereOption(L, n, val)
		default:
			L.ArgError(n, fmt.Sprintf("unknown option %s (want after, limit, where, prefix or hidden)", luaQuote(k)))
		}
	})
	return lo
}

// readOptions reads the options of get (argument n, a table or nil), as
// listOptions does list's.
func readOptions(L *lua.LState, n int) stash.ReadOptions {
	var ro stash.ReadOptions
	if o := L.OptTable(n, nil); o != nil {
		o.ForEach(func(k, val lua.LValue) {
			if key, _ := k.(lua.LString); key != "hidden" {
				L.ArgError(n, fmt.Sprintf("unknown option %s (want hidden)", luaQuote(k)))
			}
			ro.Hidden = optionBool(L, n, "hidden", val)
		})
	}
	return ro
}

func optionBool(L *lua.LState, n int, name string, val lua.LValue) bool {
	b, ok := val.(lua.LBool)
	if !ok {
		L.ArgError(n, "option "+name+" must be a boolean, not a "+val.Type().String())
	}
	return bool(b)
}

func optionString(L *lua.LState, n int, name string, val lua.LValue) string {
	s, ok := val.(lua.LString)
	if !ok {
		L.ArgError(n, "option "+name+" must be a string, not a "+val.Type().String())
	}
	return string(s)
}

// maxLimit is the largest limit of list: the largest integer a Lua number
// holds exactly.
const maxLimit = 1 << 53

func (v *vm) limitOption(L *lua.LState, n int, val lua.LValue) int {
	num, ok := val.(lua.LNumber)
	if !ok {
		L.ArgError(n, "option limit must be a number, not a "+val.Type().String())
	}
	f := float64(num)
	if !(f >= 0 && f <= maxLimit && f == math.Trunc(f)) {
		v.raise(stashError(fmt.Errorf("%w: limit must be a whole number from 0 to 2^53, not %s",
			stash.ErrInvalidQuery, strconv.FormatFloat(f, 'g', -1, 64))))
	}
	return int(f)
}

func whereOption(L *lua.LState, n int, val lua.LValue) map[string]any {
	t, ok := val.(*lua.LTable)
	if !ok {
		L.ArgError(n, "option where must be a table of field = value, not a "+val.Type().String())
	}
	if what := notRecord(L, t); what != "" {
		L.ArgError(n, "option where must be a table of field = value, not "+what)
	}
	where, err := fromLua(L, t)
	if err != nil {
		L.ArgError(n, "where: "+err.Error())
	}
	m, _ := where.(map[string]any)
	return m
}

func (v *vm) stashCount(L *lua.LState) int {
	coll := v.self(L, "count")
	n, err := v.session().Count(coll)
	if err != nil {
		return v.raise(stashError(err))
	}
	L.Push(lua.LNumber(n))
	return 1
}

func (v *vm) stashCreate(L *lua.LState) int {
	coll := v.writable(L, "create")
	rec := v.recordArg(L, "create", coll, 2)
	return v.pushRecord(v.session().Create(coll, rec))
}

func (v *vm) stashPut(L *lua.LState) int {
	coll := v.writable(L, "put")
	id := L.CheckString(2)
	return v.pushRecord(v.session().Put(coll, id, v.recordArg(L, "put", coll, 3)))
}

func (v *vm) stashPatch(L *lua.LState) int {
	coll := v.writable(L, "patch")
	id := L.CheckString(2)
	fields := v.recordArg(L, "patch", coll, 3)
	return v.pushRecord(v.session().Patch(coll, id, fields, versionArg(L, 4)))
}

func (v *vm) stashDelete(L *lua.LState) int {
	coll := v.writable(L, "delete")
	ok, err := v.session().Delete(coll, L.CheckString(2), versionArg(L, 3))
	if err != nil {
		return v.raise(stashError(err))
	}
	L.Push(lua.LBool(ok))
	return 1
}

// versionArg reads the optional version argument n of patch and delete:
// absent or nil checks nothing; a number must be the record's version (one
// that no record can be at, like 0 or 1.5, is a conflict); anything else is
// an error.
func versionArg(L *lua.LState, n int) stash.Version {
	switch lv := L.Get(n).(type) {
	case *lua.LNilType:
		return stash.AnyVersion
	case lua.LNumber:
		return stash.VersionOf(float64(lv))
	default:
		L.ArgError(n, "version must be a number or nil, not a "+lv.Type().String())
		return stash.AnyVersion
	}
}

// recordArg converts argument n to a record. A value that is not a JSON
// object (nil, a boolean, a number, a string, an array, a table with a key
// that is not a string) is a 422, as a record that fails its schema is:
// it is what req.body holds when a client sends such a body.
func (v *vm) recordArg(L *lua.LState, op, coll string, n int) stash.Record {
	lv := L.Get(n)
	if what := notRecord(L, lv); what != "" {
		v.raise(notRecordError(op, coll, what))
	}
	val, err := fromLua(L, lv)
	if err != nil {
		L.ArgError(n, err.Error())
	}
	m, ok := val.(map[string]any)
	if !ok {
		L.ArgError(n, "a record must be a table with string keys, not a "+lv.Type().String())
	}
	return m
}

// notRecord says what lv is when it is a JSON value other than an object
// ("an array", "a string", …), or "" when it is a table with string keys
// only, or a value no JSON holds (a function), which fromLua refuses.
func notRecord(L *lua.LState, lv lua.LValue) string {
	switch lv := lv.(type) {
	case *lua.LNilType:
		return "null"
	case lua.LBool:
		return "a boolean"
	case lua.LNumber:
		return "a number"
	case lua.LString:
		return "a string"
	case *lua.LTable:
		if isArray(L, lv) {
			return "an array"
		}
		what := ""
		lv.ForEachKind(nil, func(k, _ lua.LValue) {
			if what == "" {
				what = "a table with a key of type " + k.Type().String()
			}
		})
		return what
	}
	return ""
}

// notRecordError is the 422 of a write given something that is not a record.
func notRecordError(op, coll, what string) *Error {
	e := newError(http.StatusUnprocessableEntity, "the record must be a JSON object",
		fmt.Errorf("stash:%s on %s: the record is %s", op, coll, what))
	e.Fields = []FieldError{{Pointer: "", Message: "is " + what + ", not an object"}}
	return e
}

func (v *vm) pushRecord(rec stash.Record, err error) int {
	if err != nil {
		return v.raise(stashError(err))
	}
	v.checkEventSize(0)
	lv, err := toLua(v.L, map[string]any(rec), 0)
	if err != nil {
		return v.raise(stashError(err))
	}
	v.L.Push(lv)
	return 1
}

// stashError maps a stash error to the status a client should see.
func stashError(err error) *Error {
	var ve *stash.ValidationError
	switch {
	case errors.As(err, &ve):
		e := newError(http.StatusUnprocessableEntity, stash.ValidationDetail(ve.Collection), err)
		for _, f := range ve.Fields {
			e.Fields = append(e.Fields, FieldError{Pointer: f.Pointer, Message: f.Message})
		}
		return e
	case errors.Is(err, stash.ErrConflict):
		var ce *stash.ConflictError
		if errors.As(err, &ce) && ce.Holder != "" {
			return newError(http.StatusConflict, ce.Detail(), err)
		}
		return newError(http.StatusConflict, err.Error(), err)
	case errors.Is(err, stash.ErrNotFound):
		return newError(http.StatusNotFound, err.Error(), err)
	case errors.Is(err, stash.ErrInvalidQuery):
		return newError(http.StatusBadRequest, err.Error(), err)
	}
	return &Error{Status: 500, Title: http.StatusText(500), Detail: err.Error(), Internal: true, Err: err}
}

// emit is emit(type, data): a domain event recorded with the command.
func (v *vm) emit(L *lua.LState) int {
	typ := L.CheckString(1)
	if typ == "" {
		L.ArgError(1, "an event type must not be empty")
	}
	cs := v.call
	if cs == nil {
		L.RaiseError("emit outside a request")
	}
	if isQuery(cs.call.Method) {
		return v.raise(misuse(fmt.Errorf("emit in a %s request: %w", cs.call.Method, ErrQuery)))
	}
	if last := v.e.opts.Phases[len(v.e.opts.Phases)-1]; cs.phase != last {
		return v.raise(misuse(fmt.Errorf("emit in the %s phase: %w, %s", cs.phase, ErrWrongPhase, last)))
	}
	// The data is encoded now, so that the memory it takes shows while the
	// script runs, where the heap watchdog sees it, and its size counts.
	var data any
	size := len(typ)
	if val := L.Get(2); val != lua.LNil {
		b, err := encodeJSON(L, nil, val)
		if err != nil {
			L.ArgError(2, err.Error())
		}
		data, size = json.RawMessage(b), size+len(b)
	}
	v.checkEventSize(size)
	cs.emitBytes += size
	cs.emits = append(cs.emits, Emit{Type: typ, Data: data})
	return 0
}

// MaxEventBytes bounds the event of one command: the records its stash
// writes store and the data of its emits. The commit encodes the whole
// event at once, after the scripts ended, where neither the time budget nor
// the heap watchdog can stop it; and minimi events --url reads no event
// longer than 64 MiB.
const MaxEventBytes = 64 << 20

// checkEventSize raises an error when the running command's event, with
// more bytes added, would pass MaxEventBytes. The command then does not
// commit, even if the script catches the error.
func (v *vm) checkEventSize(more int) {
	cs := v.call
	n := cs.emitBytes + more
	if cs.session != nil {
		n += cs.session.Bytes()
	}
	if n > MaxEventBytes {
		cs.tooLarge = misuse(fmt.Errorf("%w: the stash writes and emits of this request would take %d bytes, more than %d",
			ErrEventSize, n, MaxEventBytes))
		v.raise(cs.tooLarge)
	}
}
