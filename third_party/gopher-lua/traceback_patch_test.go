package lua

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStackTraceText: the traceback of an error and debug.traceback read as
// they did when every line was formatted: first and last 7 lines past 20,
// a line per tail call, and a level that skips lines.
func TestStackTraceText(t *testing.T) {
	const f = `local function f(d) if d == 0 then error(debug.traceback("tb", LEVEL), 0) end return 1 + f(d - 1) end `
	fs := func(n int) string { return "\n" + strings.Repeat("\t<string>:1: in function 'f'\n", n) }
	tests := []struct{ name, script, want string }{
		{"tail calls and a metamethod", `local function g(n) if n == 0 then error("boom") end return g(n - 1) end
local function h(n) local x = g(n) return x end
local function k(d) if d == 0 then return h(3) end return 1 + k(d - 1) end
local t = setmetatable({}, {__index = function(t, key) return k(key) end})
local function top(d) return t[d] end
top(30)`,
			"<string>:1: boom\nstack traceback:\n\t[G]: in function 'error'\n\t<string>:1: in function <<string>:1>\n\t(tailcall): ?\n\t(tailcall): ?\n\t(tailcall): ?\n\t<string>:2: in function <<string>:2>\n\t(tailcall): ?\n\t...\n\t<string>:3: in function 'k'\n\t<string>:3: in function 'k'\n\t<string>:3: in function <<string>:3>\n\t(tailcall): ?\n\t<string>:5: in function 'top'\n\t<string>:6: in main chunk\n\t[G]: ?"},
		{"cut among tail calls", `local function g(n) if n == 0 then error("boom") end return g(n - 1) end g(25)`,
			"<string>:1: boom\nstack traceback:\n\t[G]: in function 'error'\n\t<string>:1: in function <<string>:1>" + strings.Repeat("\n\t(tailcall): ?", 5) + "\n\t..." + strings.Repeat("\n\t(tailcall): ?", 5) + "\n\t<string>:1: in main chunk\n\t[G]: ?"},
		{"few tail calls", `local function g(n) if n == 0 then error("boom") end return g(n - 1) end g(5)`,
			"<string>:1: boom\nstack traceback:\n\t[G]: in function 'error'\n\t<string>:1: in function <<string>:1>" + strings.Repeat("\n\t(tailcall): ?", 5) + "\n\t<string>:1: in main chunk\n\t[G]: ?"},
		{"level", strings.Replace(f, "LEVEL", "3", 1) + `f(5)`,
			"tb\nstack traceback:" + fs(4) + "\t<string>:1: in main chunk\n\t[G]: ?\nstack traceback:\n\t[G]: in function 'error'" + fs(6) + "\t<string>:1: in main chunk\n\t[G]: ?"},
		{"level and cut", strings.Replace(f, "LEVEL", "3", 1) + `f(30)`,
			"tb\nstack traceback:" + fs(7) + "\t..." + fs(5) + "\t<string>:1: in main chunk\n\t[G]: ?\nstack traceback:\n\t[G]: in function 'error'" + fs(6) + "\t..." + fs(5) + "\t<string>:1: in main chunk\n\t[G]: ?"},
		{"level past the stack", strings.Replace(f, "LEVEL", "100", 1) + `f(5)`,
			"tb\nstack traceback:\nstack traceback:\n\t[G]: in function 'error'" + fs(6) + "\t<string>:1: in main chunk\n\t[G]: ?"},
		{"level leaving 16 lines", strings.Replace(f, "LEVEL", "18", 1) + `f(30)`,
			"tb\nstack traceback:" + fs(14) + "\t<string>:1: in main chunk\n\t[G]: ?\nstack traceback:\n\t[G]: in function 'error'" + fs(6) + "\t..." + fs(5) + "\t<string>:1: in main chunk\n\t[G]: ?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			L := NewState()
			defer L.Close()
			err := L.DoString(tc.script)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err=%q\nwant %q", err, tc.want)
			}
		})
	}
}

// TestStackTraceOfADeepStack: an error caught under 200000 frames gets its
// traceback at once, and one caught under a frame that made a million tail
// calls builds no line for each of them. Formatting a line per frame, each
// found by walking the stack from its top, took minutes, and the traceback
// listed a line per tail call (88 MB for a million) to keep 15 lines.
// A test can not time the tail calls' lines, as a million of them take
// milliseconds; allocated counts the bytes allocated.
func TestStackTraceOfADeepStack(t *testing.T) {
	tests := []struct {
		name, script string
		options      Options
	}{
		{"deep", `local function f(d) if d == 0 then error("x") end return 1 + f(d - 1) end
			local ok, err = pcall(f, 200000) assert(not ok and err:find("x"))`,
			Options{CallStackSize: 200100, RegistrySize: 1 << 21, MinimizeStackMemory: true}},
		{"tail calls", `local function g(n)
				if n > 0 then return g(n - 1) end
				local before = allocated()
				local ok, err = pcall(error, "x")
				local bytes = allocated() - before
				assert(not ok and err == "x", err)
				return bytes
			end
			local bytes = g(1000000)
			assert(bytes < 1e6, "pcall(error) under a million tail calls allocated " .. bytes .. " bytes")`, Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				L := NewState(tc.options)
				defer L.Close()
				L.SetGlobal("allocated", L.NewFunction(func(L *LState) int {
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					L.Push(LNumber(ms.TotalAlloc))
					return 1
				}))
				done <- L.DoString(tc.script)
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no result after 10s")
			}
		})
	}
}
