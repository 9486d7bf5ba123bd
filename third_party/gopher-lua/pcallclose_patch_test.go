package lua

import (
	"testing"
)

// TestPcallClosesOnlyItsUpvalues: an error caught by pcall closes the open
// upvalues of the frames it unwinds, and no others, as Lua 5.1's luaD_pcall
// closes those from the called function up: a local of the caller that a
// closure shares stays shared after the pcall.
func TestPcallClosesOnlyItsUpvalues(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		local x = 5
		local f = function() return x end
		assert(not pcall(error, "e"))
		x = 6
		assert(f() == 6, "after pcall(error), a closure over the caller's local reads " .. tostring(f()))
		local y = 1
		local g = function() return y end
		assert(not pcall(function() local z = 1; error({}) end))
		y = 2
		assert(g() == 2, "after an error with a table, " .. tostring(g()))`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestHandlerErrorClosesUpvalues: a closure made by a function that fails
// under PCall with a message handler keeps the values of its upvalues, and
// does not read the stack slots that later calls reuse.
func TestHandlerErrorClosesUpvalues(t *testing.T) {
	L := NewState()
	defer L.Close()
	if err := L.DoString(`
		saved = nil
		function handler(v) return v end
		function fails(secret)
			local mine = secret
			saved = function() return mine end
			error("failed")
		end
		function other(data)
			local a, b, c, d = data, data, data, data
			return saved()
		end`); err != nil {
		t.Fatal(err)
	}
	handler := L.GetGlobal("handler").(*LFunction)
	L.Push(L.GetGlobal("fails"))
	L.Push(LString("first"))
	if err := L.PCall(1, 0, handler); err == nil {
		t.Fatal("fails: no error")
	}
	L.Push(L.GetGlobal("other"))
	L.Push(LString("second"))
	if err := L.PCall(1, 1, handler); err != nil {
		t.Fatal(err)
	}
	if got := L.Get(-1); got != LString("first") {
		t.Errorf("the closure of the failed call reads %v, want first", got)
	}
}

// TestCoroutineErrorClosesUpvalues: a closure made in a coroutine that
// died by an error keeps its upvalues' last values.
func TestCoroutineErrorClosesUpvalues(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		local get
		local co = coroutine.create(function()
			local v = "kept"
			get = function() return v end
			error("dies")
		end)
		assert(not coroutine.resume(co))
		assert(coroutine.status(co) == "dead")
		assert(get() == "kept", tostring(get()))`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestFailingHandlerClosesUpvalues: a message handler that fails closes
// the upvalues it opened too.
func TestFailingHandlerClosesUpvalues(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		local saved
		xpcall(function() error("a") end, function(m)
			local v = "handler-local"
			saved = function() return v end
			error("b")
		end)
		local function clobber() local a, b, c, d, e, f, g, h = 1, 2, 3, 4, 5, 6, 7, 8 end
		clobber()
		assert(saved() == "handler-local", tostring(saved()))`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestHandlerOnAFullRegistry: an error raised on a full registry reaches a
// PCall's message handler, a Go function or a Lua one, and PCall returns
// what the handler returned, instead of a second "registry overflow"
// panicking out of PCall as it pushes the handler, or raised as the handler
// pushes its result (which lost the handler's result and the error's
// position).
func TestHandlerOnAFullRegistry(t *testing.T) {
	L := NewState(Options{RegistrySize: 256, RegistryMaxSize: 1024})
	defer L.Close()
	if err := L.DoString(`
		big = {}
		for i = 1, 5000 do big[i] = i end
		function fill() return unpack(big) end
		function luaHandler(m) local s = "lua handler: " .. m return s end`); err != nil {
		t.Fatal(err)
	}
	goHandler := L.NewFunction(func(L *LState) int { L.Push(LString("go handler: " + L.ToString(1))); return 1 })
	for _, tc := range []struct {
		name    string
		handler *LFunction
	}{{"go", goHandler}, {"lua", L.GetGlobal("luaHandler").(*LFunction)}} {
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s handler: PCall panicked: %v", tc.name, r)
				}
			}()
			L.Push(L.GetGlobal("fill"))
			err = L.PCall(0, MultRet, tc.handler)
		}()
		want := tc.name + " handler: <string>:4: registry overflow"
		if ae, ok := err.(*ApiError); !ok || ae.Object != LString(want) {
			t.Errorf("%s handler: PCall=%v, want %q", tc.name, err, want)
		}
		L.Push(L.GetGlobal("tostring")) // the state goes on
		L.Push(LNumber(1))
		if err := L.PCall(1, 1, tc.handler); err != nil || L.Get(-1) != LString("1") {
			t.Errorf("%s handler: a call after it: %v %v", tc.name, err, L.Get(-1))
		}
		L.Pop(1)
	}
}
