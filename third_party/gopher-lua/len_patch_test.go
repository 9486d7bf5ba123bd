package lua

import (
	"context"
	"math/bits"
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
// and gives a border of the array part whatever wrote it.
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
		if got := tb.Len(); !isBorder(tb, got) {
			t.Errorf("after %s: Len()=%d, not a border of the array part", o.name, got)
		}
	}
}

// isBorder reports whether n is a border of tb's array part: 0 or a
// position that holds a value, followed by a nil or the end of the array
// part.
func isBorder(tb *LTable, n int) bool {
	if n < 0 || n > len(tb.array) || n > 0 && tb.array[n-1] == LNil {
		return false
	}
	return n == len(tb.array) || tb.array[n] == LNil
}

// TestLenAfterAFarElementIsCleared: after an element far past the last one is
// set and cleared again, #t reads at most lenScanMax elements one by one and
// then bisects the gap, as Lua 5.1's luaH_getn does. Len scanned the whole gap
// at each such #t: t[n] = 1; t[n] = nil; local _ = #t in a loop over 65536
// elements with 3 of them set took some 65533 steps a round.
func TestLenAfterAFarElementIsCleared(t *testing.T) {
	const n = 1 << 16
	tb := newLTable(0, 0)
	for i := 1; i <= n; i++ {
		tb.RawSetInt(i, LNumber(i))
	}
	for i := n; i > 3; i-- {
		tb.RawSetInt(i, LNil)
	}
	probes := 0
	lenProbe = func() { probes++ }
	defer func() { lenProbe = nil }()
	const rounds = 100
	for range rounds {
		tb.RawSetInt(n, LTrue)
		tb.RawSetInt(n, LNil)
		if got := tb.Len(); got != 3 {
			t.Fatalf("Len()=%d, want 3", got)
		}
	}
	if limit := rounds * (lenScanMax + bits.Len(n) + 1); probes > limit {
		t.Errorf("%d rounds of setting, clearing and Len read %d elements, want at most %d", rounds, probes, limit)
	}
}

// TestLenWithoutHoles: an array part whose elements 1 to k hold values and the
// others nil has length k, as in Lua, wherever nilFrom lies above k.
func TestLenWithoutHoles(t *testing.T) {
	const size = 64
	for k := 0; k <= size; k++ {
		for from := k; from <= size+1; from++ {
			tb := newLTable(size, 0)
			for i := 1; i <= size; i++ {
				tb.RawSetInt(i, LTrue)
			}
			for i := k + 1; i <= size; i++ {
				tb.array[i-1] = LNil
			}
			tb.nilFrom = from
			if got := tb.Len(); got != k {
				t.Fatalf("k=%d, nilFrom=%d: Len()=%d, want %d", k, from, got, k)
			}
		}
	}
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

// holes is a table of 10 elements, a hole of 50 and 2 more: #t may be 10 or
// 62, as in Lua 5.1, where it is 10.
const holes = `t = {} for i = 1, 100 do t[i] = i end for i = 11, 60 do t[i] = nil end for i = 63, 100 do t[i] = nil end `

// TestLenOfAnUnchangedTable: #t of a table that nothing writes is the same
// each time. Len lowered nilFrom past the nils it passed before it bisected,
// so each #t bisected a smaller part, and this table's length went from 10
// to 62 on the fifth.
func TestLenOfAnUnchangedTable(t *testing.T) {
	L := NewState()
	defer L.Close()
	if err := L.DoString(holes + `local first = #t
		for k = 1, 8 do assert(#t == first, "#t was " .. first .. ", then " .. #t) end`); err != nil {
		t.Error(err)
	}
}

// TestRemoveLeavesWhatFollowsAHole: table.remove(t, pos) moves down the
// elements pos+1 to #t only, as Lua 5.1's does, and leaves those past a
// hole after #t where they are. It moved the whole array part, so with #t
// at 10, table.remove(t) moved t[61] and t[62] down one.
func TestRemoveLeavesWhatFollowsAHole(t *testing.T) {
	for _, call := range []string{"table.remove(t)", "table.remove(t, 4)"} {
		L := NewState()
		if err := L.DoString(holes + `local n, before = #t, {}
			for i = 1, 100 do before[i] = t[i] end
			local pos = tonumber(("` + call + `"):match("(%d+)%)$")) or n
			assert(` + call + ` == before[pos])
			for i = 1, 100 do
				local want = before[i]
				if i >= pos and i < n then want = before[i + 1] elseif i == n then want = nil end
				assert(t[i] == want, ("#t=%d: t[%d]=%s, want %s"):format(n, i, tostring(t[i]), tostring(want)))
			end`); err != nil {
			t.Errorf("%s: %v", call, err)
		}
		L.Close()
	}
}
