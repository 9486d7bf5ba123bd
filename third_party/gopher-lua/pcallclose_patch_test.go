package lua

import (
	"strings"
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
// PCall's message handler, and PCall returns it, instead of a second
// "registry overflow" panicking out of PCall as it pushes the handler.
func TestHandlerOnAFullRegistry(t *testing.T) {
	L := NewState(Options{RegistrySize: 256, RegistryMaxSize: 1024})
	defer L.Close()
	if err := L.DoString(`
		big = {}
		for i = 1, 5000 do big[i] = i end
		function fill() return unpack(big) end`); err != nil {
		t.Fatal(err)
	}
	handled := false
	handler := L.NewFunction(func(L *LState) int { handled = true; L.Push(L.Get(1)); return 1 })
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("PCall panicked: %v", r)
			}
		}()
		L.Push(L.GetGlobal("fill"))
		err = L.PCall(0, MultRet, handler)
	}()
	if err == nil || !strings.Contains(err.Error(), "registry overflow") || !handled {
		t.Errorf("PCall=%v (handler ran: %v), want the registry overflow, through the handler", err, handled)
	}
	L.Push(L.GetGlobal("tostring")) // the state goes on
	L.Push(LNumber(1))
	if err := L.PCall(1, 1, handler); err != nil || L.Get(-1) != LString("1") {
		t.Errorf("a call after it: %v %v", err, L.Get(-1))
	}
}
