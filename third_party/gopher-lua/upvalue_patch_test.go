package lua

import (
	"testing"
	"time"
)

// TestErrorClosesUpvaluesInOnePass: an error raised under 300000 frames
// with 10000 open upvalues is caught at once. Closing the upvalues once per
// frame, each time walking the list of those still open, took 5 seconds (19
// with 30000 upvalues). Only the time after the error is bounded: making the
// upvalues walks that list too, once for each, which the race detector
// makes slow.
func TestErrorClosesUpvaluesInOnePass(t *testing.T) {
	const limit = time.Second
	raised, done := make(chan struct{}), make(chan error, 1)
	go func() {
		L := NewState(Options{CallStackSize: 300100, RegistrySize: 1 << 21, MinimizeStackMemory: true})
		defer L.Close()
		L.SetGlobal("raised", L.NewFunction(func(L *LState) int { close(raised); return 0 }))
		done <- L.DoString(`
			local fs = {}
			local function deep(d) if d == 0 then raised() error("x", 0) end return 1 + deep(d - 1) end
			local function open(u)
				local x = u
				fs[u] = function() return x end
				if u == 0 then return deep(290000) end
				return 1 + open(u - 1)
			end
			local ok, err = pcall(open, 10000)
			assert(not ok and err == "x")
			for u = 0, 10000, 1000 do assert(fs[u]() == u) end`)
	}()
	select {
	case err := <-done:
		t.Fatalf("the script ended before the error: %v", err)
	case <-raised:
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(limit):
		t.Fatalf("no result %v after the error", limit)
	}
}

// TestErrorClosesUpvalues: the closures of the frames an error unwinds keep
// the values their variables had, after the stack slots are reused.
func TestErrorClosesUpvalues(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		local fs = {}
		local function f(d)
			local x, y = d, -d
			fs[d] = function() return x, y end
			if d == 0 then error("x") end
			f(d - 1)
		end
		assert(not pcall(f, 10))
		local function clobber(n) local a, b, c, d, e = n, n, n, n, n if n > 0 then clobber(n - 1) end end
		clobber(30)
		for d = 0, 10 do local x, y = fs[d]() assert(x == d and y == -d) end`)
	if err != nil {
		t.Fatal(err)
	}
}
