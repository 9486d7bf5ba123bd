package lua

import (
	"context"
	"strings"
	"testing"
)

// TestSortStopsWithContext: table.sort looks at the state's context as it
// compares, so a sort whose comparator is a Go function (which runs no Lua
// instruction) stops within sortCheckEvery comparisons of the context's end.
// Unstopped, this sort makes some 10000 more.
func TestSortStopsWithContext(t *testing.T) {
	L := NewState()
	defer L.Close()
	tbl := L.NewTable()
	for i := range 10000 {
		tbl.Append(LNumber(10000 - i))
	}
	L.SetGlobal("t", tbl)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	const cancelAt = 100
	compared := 0
	L.SetGlobal("less", L.NewFunction(func(L *LState) int {
		if compared++; compared == cancelAt {
			cancel()
		}
		L.Push(LBool(L.CheckNumber(1) < L.CheckNumber(2)))
		return 1
	}))
	err := L.DoString(`table.sort(t, less)`)
	if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("DoString()=%v, want the context's error", err)
	}
	if after := compared - cancelAt; after > sortCheckEvery {
		t.Fatalf("the sort compared %d times after the context ended, want at most %d", after, sortCheckEvery)
	}
}

// TestSortUpToLen: table.sort sorts the elements 1 to #t, as Lua 5.1 does,
// and leaves the nils after them where they are. It sorted the whole array
// part, so a table with nils after #t raised an error where Lua sorts it,
// or had its values moved past the nils.
func TestSortUpToLen(t *testing.T) {
	tests := []struct{ name, script string }{
		{"the last element cleared", `local t = {3, 1, 2}
			t[3] = nil
			table.sort(t)
			assert(t[1] == 1 and t[2] == 3 and t[3] == nil and #t == 2)`},
		{"nils in a constructor", `local t = {3, 1, nil, nil}
			table.sort(t)
			assert(t[1] == 1 and t[2] == 3 and t[3] == nil and t[4] == nil and #t == 2)`},
		{"a comparator that takes nil", `local t = {5, 4, 3, 2, 1}
			t[5] = nil
			t[4] = nil
			table.sort(t, function(a, b) return (a or 0) < (b or 0) end)
			assert(t[1] == 3 and t[2] == 4 and t[3] == 5 and t[4] == nil and t[5] == nil and #t == 3)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			L := NewState()
			defer L.Close()
			if err := L.DoString(tc.script); err != nil {
				t.Errorf("DoString()=%v, want nil", err)
			}
		})
	}
}

// TestLenInAComparator: #t taken by a sort's comparator is a border (t[#t]
// is not nil, or #t is 0, and t[#t+1] is nil), as in Lua 5.1, on tables
// with holes: a #t in one comparison lowered the table's nilFrom (see Len)
// past a nil, the swaps then moved a value there, and the next #t, starting
// below it, could answer 36 where t[37] held a value.
func TestLenInAComparator(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
		local bad = 0
		local function border(t)
			local n = #t
			if not ((n == 0 or t[n] ~= nil) and t[n + 1] == nil) then bad = bad + 1 end
		end
		local function less(t)
			return function(a, b)
				border(t)
				if a == nil then return false end
				if b == nil then return true end
				return a < b
			end
		end
		for seed = 1, 3 do
			math.randomseed(seed)
			for round = 1, 1000 do
				local t = {}
				for i = 1, math.random(0, 40) do t[i] = i end
				for step = 1, 60 do
					local op, n = math.random(1, 5), #t
					if op == 1 then t[n] = nil
					elseif op == 2 then t[n + 1] = step
					elseif op == 3 then t[math.random(1, 80)] = (math.random() < 0.5) and step or nil
					elseif op == 4 then pcall(table.sort, t, less(t))
					else t[math.random(100, 300)] = step; t[math.random(1, 300)] = nil
					end
				end
			end
		end
		assert(bad == 0, bad .. " times #t was no border")`)
	if err != nil {
		t.Fatal(err)
	}
}
