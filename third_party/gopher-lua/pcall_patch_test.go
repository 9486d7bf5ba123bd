package lua

import (
	"context"
	"strings"
	"testing"
	"time"
)

// runStopped runs script in a new state with a call stack of 100000 frames,
// whose context ends when the script calls stop(), and returns how many
// times the Go function handler ran and its error. It fails the test when
// the script has not ended 10 seconds after stop().
func runStopped(t *testing.T, script string) (handled int, err error) {
	t.Helper()
	type result struct {
		err     error
		handled int
	}
	stopped, done := make(chan struct{}), make(chan result, 1)
	go func() {
		L := NewState(Options{CallStackSize: 100000, RegistrySize: 1 << 20, MinimizeStackMemory: true})
		defer L.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		L.SetContext(ctx)
		L.SetGlobal("stop", L.NewFunction(func(L *LState) int {
			cancel()
			close(stopped)
			return 0
		}))
		handled := 0
		L.SetGlobal("handler", L.NewFunction(func(L *LState) int {
			handled++
			L.Push(L.Get(1))
			return 1
		}))
		err := L.DoString(script)
		done <- result{err, handled}
	}()
	select {
	case r := <-done:
		t.Fatalf("the script ended before it called stop(): %v", r.err)
	case <-stopped:
	}
	select {
	case r := <-done:
		return r.handled, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("the script still ran 10s after its context ended")
		return 0, nil
	}
}

// TestPcallDoesNotCatchAStop: once the state's context is done, the error
// goes through every pcall and xpcall up to the PCall the host called, at
// once, and no xpcall handler runs. Each pcall used to catch it, the next
// instruction raised it again one level up, and each catch built a
// traceback and closed upvalues, walking the whole stack: with tens of
// thousands of nested pcalls (two frames each), the stop took minutes.
func TestPcallDoesNotCatchAStop(t *testing.T) {
	tests := []struct{ name, script string }{
		{"pcall", `local function f(d) if d < 49000 then pcall(f, d + 1) else stop() end end f(1)`},
		// xpcall passes no argument, so the depth is one upvalue: a
		// closure per level would open an upvalue per level, and making
		// each walks the list of those open.
		{"xpcall", `local d = 0 local function f()
			d = d + 1 if d < 49000 then xpcall(f, handler) else stop() end
		end f()`},
		{"xpcall with a Lua handler", `local d = 0 local function f()
			d = d + 1 if d < 49000 then xpcall(f, function(e) handler() return e end) else stop() end
		end f()`},
		{"stack overflow", `local function f() if not pcall(f) then stop() end end f()`},
		{"in a loop", `local function f(d)
			if d < 49000 then while true do pcall(f, d + 1) end else stop() end
		end f(1)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			handled, err := runStopped(t, tc.script)
			if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
				t.Errorf("err=%v, want %q", err, context.Canceled)
			}
			if handled != 0 {
				t.Errorf("an xpcall handler ran %d times after the stop", handled)
			}
		})
	}
}

// TestPCallFromGoAfterAStop: the PCall a host calls on an idle state still
// returns the stop as an error and runs its message handler; so does a
// PCall of a Go function that Lua calls, when only that function ran into
// the stop.
func TestPCallFromGoAfterAStop(t *testing.T) {
	L := NewState()
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	if err := L.DoString(`function f() while true do end end`); err != nil {
		t.Fatal(err)
	}
	cancel()
	handled := 0
	errfunc := L.NewFunction(func(L *LState) int {
		handled++
		L.Push(LString("handled: " + L.Get(1).String()))
		return 1
	})
	L.Push(L.GetGlobal("f"))
	err := L.PCall(0, 0, errfunc)
	if err == nil || !strings.Contains(err.Error(), "handled: ") || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Errorf("err=%v, want the handler's value", err)
	}
	if handled != 1 {
		t.Errorf("the handler ran %d times, want 1", handled)
	}
	if L.GetTop() != 0 {
		t.Errorf("top=%d, want 0", L.GetTop())
	}
}

// TestPcallWithoutAStop: pcall and xpcall catch errors as before while the
// context runs, including a context of their own that ended.
func TestPcallWithoutAStop(t *testing.T) {
	L := NewState()
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	script := `
		local function f(d) if d == 0 then error("deep", 0) end local ok, err = pcall(f, d - 1) assert(not ok) error(err, 0) end
		local ok, err = pcall(f, 100) assert(not ok and err == "deep")
		local ok, err = xpcall(function() error("x", 0) end, function(e) return "handled " .. e end)
		assert(not ok and err == "handled x")
		assert(select("#", pcall(function() return 1, 2, 3 end)) == 4)
	`
	if err := L.DoString(script); err != nil {
		t.Fatal(err)
	}
}
