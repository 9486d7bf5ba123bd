package lua

import (
	"context"
	"testing"
	"time"
)

// TestLenOfATableEmptiedFromItsEnd: emptying a table of 200000 elements
// with t[#t] = nil ends at once. Len scanned every nil after the last
// element each time, so it took n²/2 steps: 11 s for 40000 elements, where
// Lua 5.1 takes milliseconds. The script is stopped after 10 s.
func TestLenOfATableEmptiedFromItsEnd(t *testing.T) {
	L := NewState()
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	L.SetContext(ctx)
	err := L.DoString(`
		local t = {}
		for i = 1, 200000 do t[i] = i end
		while #t > 0 do t[#t] = nil end
		assert(#t == 0 and next(t) == nil)`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestLenSteps: each Len call passes only the nils left since the last one,
// and gives the position of the last non-nil element of the array part
// whatever wrote it.
func TestLenSteps(t *testing.T) {
	tb := newLTable(0, 0)
	const n = 1000
	for i := 1; i <= n; i++ {
		tb.RawSetInt(i, LNumber(i))
	}
	steps := 0
	for want := n; want > 0; want-- {
		from := min(tb.nilFrom, len(tb.array))
		if got := tb.Len(); got != want {
			t.Fatalf("Len()=%d, want %d", got, want)
		}
		steps += from - want
		tb.RawSetInt(want, LNil)
	}
	if steps > n {
		t.Errorf("Len took %d steps to empty a table of %d, want at most %d", steps, n, n)
	}
	ops := []struct {
		name string
		op   func()
	}{
		{"RawSet", func() { tb.RawSet(LNumber(500), LTrue) }},
		{"Append after a nil", func() { tb.Append(LFalse) }},
		{"Insert", func() { tb.Insert(1, LString("x")) }},
		{"Remove the last", func() { tb.Remove(-1) }},
		{"Remove below", func() { tb.Remove(3) }},
		{"clear the last", func() { tb.RawSetInt(tb.Len(), LNil) }},
		{"set past the last", func() { tb.RawSetInt(700, LTrue) }},
		{"clear it", func() { tb.RawSetInt(700, LNil) }},
		{"extend the array", func() { tb.RawSetInt(len(tb.array)+10, LTrue) }},
		{"Append", func() { tb.Append(LTrue) }},
	}
	for _, o := range ops {
		o.op()
		if got, want := tb.Len(), scanLen(tb); got != want {
			t.Errorf("after %s: Len()=%d, want %d", o.name, got, want)
		}
	}
}

// scanLen is the position of the last non-nil element of tb's array part.
func scanLen(tb *LTable) int {
	for i := len(tb.array); i > 0; i-- {
		if tb.array[i-1] != LNil {
			return i
		}
	}
	return 0
}

// TestLenAfterSort: table.sort sorts 1 to #t, where a hole may hold a nil;
// a comparator that takes nil may move it up to #t, take #t there (lowering
// nilFrom) and move a value past it, or raise midway: #t after the sort is
// still a border.
func TestLenAfterSort(t *testing.T) {
	t.Run("a comparator that takes #t", func(t *testing.T) {
		L := NewState()
		defer L.Close()
		err := L.DoString(`
			local function less(a, b) -- nil is the greatest
				if b == nil then return a ~= nil end
				if a == nil then return false end
				return a < b
			end
			local t = {5, 4, 3, 2, 1}
			t[1] = nil
			table.sort(t, function(a, b) local _ = #t; return less(a, b) end)
			assert(t[1] == 1 and t[4] == 4 and t[5] == nil and #t == 4, "after a sort whose comparator took #t: #t=" .. #t)
			local u = {5, 4, 3, 2, 1}
			u[1] = nil
			local n = 0
			assert(not pcall(table.sort, u, function(a, b)
				local _ = #u
				n = n + 1
				if n == 8 then error("stop") end
				return less(a, b)
			end))
			local border = u[#u] ~= nil and u[#u + 1] == nil
			assert(border or #u == 0, "after a sort stopped midway: #u=" .. #u .. " is not a border")`)
		if err != nil {
			t.Fatal(err)
		}
	})
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		local t = {1, 2, 3, 4}
		t[2] = nil
		t[4] = nil
		assert(#t == 3)
		table.sort(t, function(a, b) return (a or 0) < (b or 0) end)
		assert(t[1] == nil and t[2] == 1 and t[3] == 3 and t[4] == nil and #t == 3, #t)`)
	if err != nil {
		t.Fatal(err)
	}
}
