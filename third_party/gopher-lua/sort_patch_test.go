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
