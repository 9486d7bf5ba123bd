package lua

import (
	"runtime"
	"testing"
)

// TestRegistryGrowsByDoubling: a registry that grows to hold a deep stack
// at least doubles each time it grows. It grew by the slots it lacked and
// RegistryGrowStep (32) more, copying the whole registry every frame or so,
// so a recursion 3000 frames deep with 40 locals each copied gigabytes, and
// one 100000 frames deep (what MiniMi's limits allow) ran past a minute.
func TestRegistryGrowsByDoubling(t *testing.T) {
	L := NewState(Options{CallStackSize: 10000, RegistrySize: 1024, RegistryMaxSize: 1 << 22})
	defer L.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := L.DoString(`local function f(n)
		local x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19, x20
		local y1, y2, y3, y4, y5, y6, y7, y8, y9, y10, y11, y12, y13, y14, y15, y16, y17, y18, y19, y20
		if n == 0 then return 0 end
		return 1 + f(n - 1)
	end
	depth = f(3000)`)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := L.GetGlobal("depth"); got != LNumber(3000) {
		t.Errorf("depth=%v, want 3000", got)
	}
	if bytes := after.TotalAlloc - before.TotalAlloc; bytes > 64<<20 {
		t.Errorf("a recursion 3000 frames deep allocated %d MB", bytes>>20)
	}
}
