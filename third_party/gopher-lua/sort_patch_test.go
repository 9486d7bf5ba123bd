package lua

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSortStopsWithContext: table.sort looks at the state's context as it
// compares, so a sort whose comparator is a Go function (which runs no Lua
// instruction) stops soon after the context ends. Unstopped, this sort
// would compare for over a minute; the bound only catches that.
func TestSortStopsWithContext(t *testing.T) {
	L := NewState()
	defer L.Close()
	tbl := L.NewTable()
	for i := range 50000 {
		tbl.Append(LNumber(50000 - i))
	}
	L.SetGlobal("t", tbl)
	L.SetGlobal("slowless", L.NewFunction(func(L *LState) int {
		time.Sleep(100 * time.Microsecond)
		L.Push(LBool(L.CheckNumber(1) < L.CheckNumber(2)))
		return 1
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	start := time.Now()
	err := L.DoString(`table.sort(t, slowless)`)
	if err == nil || !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
		t.Fatalf("DoString()=%v, want the context's error", err)
	}
	if took := time.Since(start); took > 10*time.Second*raceSlowdown {
		t.Fatalf("the sort stopped after %v", took)
	}
}
