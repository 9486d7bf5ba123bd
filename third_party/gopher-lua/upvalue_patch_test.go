package lua

import (
	"fmt"
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

// upvalueSteps is the number of open upvalues findUpvalue passes to reach
// that of the stack slot idx, and closeUpvalues to close it: both walk the
// list from its head.
func upvalueSteps(L *LState, idx int) int {
	steps := 0
	for uv := L.uvcache; uv != nil && uv.index != idx; uv = uv.next {
		steps++
	}
	return steps
}

// TestUpvalueStepsDoNotGrowWithDepth: under d frames that each hold an open
// upvalue, reaching the upvalue of the deepest frame's local takes the same
// number of steps at depth 10 and at depth 10000. With the list sorted from
// the bottom of the stack it took a step for each open upvalue below (10002
// at depth 10000), so making or closing a closure in deep recursion cost
// steps in proportion to the depth: a recursion 40000 deep that made a
// closure in each frame took 3.6 s.
func TestUpvalueStepsDoNotGrowWithDepth(t *testing.T) {
	steps := func(depth int) int {
		L := NewState(Options{CallStackSize: depth + 100, RegistrySize: 1 << 20})
		defer L.Close()
		n := -1
		L.SetGlobal("probe", L.NewFunction(func(L *LState) int {
			// the caller's x is its second register, after d
			n = upvalueSteps(L, L.currentFrame.Parent.LocalBase+1)
			return 0
		}))
		err := L.DoString(fmt.Sprintf(`
			local fs = {}
			local function f(d)
				local x = d
				fs[d] = function() return x end
				if d == 0 then probe() return 0 end
				return 1 + f(d - 1)
			end
			assert(f(%d) == %d)
			assert(fs[0]() == 0 and fs[%d]() == %d)`, depth, depth, depth, depth))
		if err != nil {
			t.Fatal(err)
		}
		if L.uvcache != nil {
			t.Errorf("depth %d: upvalues still open after the script", depth)
		}
		return n
	}
	shallow, deep := steps(10), steps(10000)
	t.Logf("steps at depth 10 = %d, at depth 10000 = %d", shallow, deep)
	if shallow < 0 || deep > shallow+1 {
		t.Errorf("steps at depth 10 = %d, at depth 10000 = %d, want no growth", shallow, deep)
	}
}

// TestUpvaluesKeptInStackOrder: closures over locals made in any order
// share the upvalue of each local while it is open, blocks and loop bodies
// close only their own, and every closure keeps the value its local had.
// The script passes under Lua 5.1.
func TestUpvaluesKeptInStackOrder(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		local function f()
			local a, b, c = 1, 2, 3
			local gc = function() return c end
			local ga = function() return a end
			local gb = function() return b end
			local set = function() a, b, c = a + 10, b + 20, c + 30 end
			set()
			assert(ga() == 11 and gb() == 22 and gc() == 33)
			local hs = {}
			for i = 1, 3 do
				local y = i
				hs[i] = function() y = y + a return y end
			end
			a = 100
			assert(hs[1]() == 101 and hs[1]() == 201 and hs[2]() == 102 and hs[3]() == 103)
			do
				local z = 7
				hs.z = function() z = z + 1 return z, c end
			end
			c = 0
			local z1, c1 = hs.z()
			assert(z1 == 8 and c1 == 0)
			return ga, gb, gc, set, hs
		end
		local ga, gb, gc, set, hs = f()
		set()
		assert(ga() == 110 and gb() == 42 and gc() == 30)
		assert(hs[1]() == 311 and hs.z() == 9)
		local function deep(d, acc)
			local v = d
			acc[#acc + 1] = function() v = v + 1 return v end
			acc[#acc + 1] = function() return v end
			if d > 0 then deep(d - 1, acc) end
			return acc
		end
		local acc = deep(50, {})
		for i = 1, #acc, 2 do
			local d = 50 - (i - 1) / 2
			assert(acc[i]() == d + 1 and acc[i + 1]() == d + 1)
		end
		local function tail(n, fs)
			local w = n
			fs[n] = function() return w end
			if n == 0 then return fs end
			return tail(n - 1, fs)
		end
		local fs = tail(20, {})
		for n = 0, 20 do assert(fs[n]() == n) end`)
	if err != nil {
		t.Fatal(err)
	}
}
