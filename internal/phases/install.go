package phases

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"
	"github.com/minimi-go/minimi/third_party/gopher-lua/ast"

	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

// MethodInstall is the method of the command an install script runs as.
const MethodInstall = "INSTALL"

// compileInstalls compiles every <folder>.install.lua.
func (e *Engine) compileInstalls() []error {
	var errs []error
	e.installs = map[*router.Folder]*lua.FunctionProto{}
	for _, f := range e.table.Folders {
		if f.Install == "" {
			continue
		}
		src, err := router.ReadFile(e.opts.Endpoints, "endpoints", f.Install)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		file := "endpoints/" + f.Install
		chunk, proto, err := compileChunk(file, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if why := notAFunction(chunk); why != "" {
			errs = append(errs, &ScriptError{File: file, Line: chunk[len(chunk)-1].Line(),
				Err: fmt.Errorf("must return a function(req); it %s", why)})
			continue
		}
		if e.opts.CollectionOf != nil && e.opts.CollectionOf(f) == "" {
			errs = append(errs, &ScriptError{File: file,
				Err: fmt.Errorf("an install script seeds a collection, and %s has none: no schema file in it or above it", f.URL)})
			continue
		}
		e.installs[f] = proto
	}
	return errs
}

// notAFunction says why a chunk cannot return a function, judging from its
// last statement alone, or "" when it may. It does not run the chunk: an
// install script's top level runs once, at its first start, where it may use
// the stash (start-up and minimi check must not).
func notAFunction(chunk []ast.Stmt) string {
	if len(chunk) == 0 {
		return "is empty"
	}
	switch last := chunk[len(chunk)-1].(type) {
	case *ast.ReturnStmt:
		if len(last.Exprs) == 0 {
			return "returns nothing"
		}
		switch last.Exprs[0].(type) {
		case *ast.TableExpr:
			return "returns a table"
		case *ast.StringExpr, *ast.StringConcatOpExpr:
			return "returns a string"
		case *ast.NumberExpr, *ast.ArithmeticOpExpr, *ast.UnaryMinusOpExpr, *ast.UnaryLenOpExpr:
			return "returns a number"
		case *ast.NilExpr:
			return "returns nil"
		case *ast.TrueExpr, *ast.FalseExpr, *ast.RelationalOpExpr, *ast.UnaryNotOpExpr:
			return "returns a boolean"
		}
	case *ast.AssignStmt, *ast.LocalAssignStmt, *ast.FuncCallStmt, *ast.FuncDefStmt:
		return "ends without a return"
	}
	return ""
}

// installFunc runs the chunk of f's install script and returns the
// function it returns.
func (v *vm) installFunc(f *router.Folder, proto *lua.FunctionProto) (*lua.LFunction, error) {
	file := "endpoints/" + f.Install
	fn := v.L.NewFunctionFromProto(proto)
	fn.Env = v.env()
	v.L.Push(fn)
	if err := v.L.PCall(0, 1, v.onErr); err != nil {
		return nil, runError(file, err)
	}
	run, ok := v.L.Get(-1).(*lua.LFunction)
	v.L.Pop(1)
	if !ok {
		return nil, &ScriptError{File: file, Err: fmt.Errorf("must return a function(req)")}
	}
	return run, nil
}

// Installs lists the folders that have an install script, parents first.
func (e *Engine) Installs() []*router.Folder {
	var out []*router.Folder
	for _, f := range e.table.Folders {
		if e.installs[f] != nil {
			out = append(out, f)
		}
	}
	return out
}

// RunInstall runs f's install script on ss as the last phase of an INSTALL
// command and returns the command for the caller to commit. The script
// returns a function that is called with req (req.stash is f's collection).
func (e *Engine) RunInstall(ctx context.Context, f *router.Folder, ss *stash.Session) (*Command, error) {
	proto := e.installs[f]
	if proto == nil {
		return nil, fmt.Errorf("%s has no install script", f.URL)
	}
	v := e.get()
	var cmd *Command
	err, stop := e.bounded(ctx, v, func() (err error) {
		cmd, err = e.runInstall(v, f, proto, ss)
		return err
	})
	switch {
	case stop == nil:
		e.put(v)
		return cmd, err
	case errors.Is(stop, ErrScriptTimeout):
		return nil, fmt.Errorf("endpoints/%s: %w: an install script runs within limits.script_ms (%v), as a request does; raise it for a long seed",
			f.Install, ErrScriptTimeout, e.opts.ScriptTimeout)
	}
	return nil, err
}

// runInstall runs f's install script on v, whose budget has begun.
func (e *Engine) runInstall(v *vm, f *router.Folder, proto *lua.FunctionProto, ss *stash.Session) (*Command, error) {
	c := &Call{Folder: f, Method: MethodInstall, Path: f.URL, Header: http.Header{}, ID: "install:" + f.URL}
	cs := &callState{call: c, session: ss,
		phase: e.opts.Phases[len(e.opts.Phases)-1], last: true}
	v.call = cs
	run, err := v.installFunc(f, proto)
	if err != nil {
		return nil, err
	}
	v.L.Push(run)
	v.L.Push(v.newReq())
	if err := v.L.PCall(1, 0, v.onErr); err != nil {
		return nil, installError("endpoints/"+f.Install, v.handlerError(&processor{file: "endpoints/" + f.Install}, err))
	}
	return &Command{Call: c, Status: http.StatusOK, Changes: ss.Changes(), Emits: cs.emits}, nil
}

// installError names the install script file in err, with the line it came
// from when known: a Lua error's message already holds its position, but a
// record the schema refused or an error table ({ status = 409, … }) holds
// none.
func installError(file string, err error) error {
	if strings.Contains(err.Error(), file) {
		return err
	}
	var pe *Error
	if errors.As(err, &pe) && pe.Source != "" {
		return fmt.Errorf("%s: %w", pe.Source, err)
	}
	return fmt.Errorf("%s: %w", file, err)
}
