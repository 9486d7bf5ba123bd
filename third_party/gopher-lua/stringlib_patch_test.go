package lua

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPatternsStopWithTheContext: string.find, match, gmatch and gsub give up
// with a Lua error once the state's context is done, as the VM does between
// instructions. Each pattern would backtrack for longer than any test runs.
func TestPatternsStopWithTheContext(t *testing.T) {
	const subject = `local s = string.rep("a", 40) .. "b" local p = string.rep("a*", 40) .. "c" `
	tests := []struct{ name, script string }{
		{"find", subject + `string.find(s, p)`},
		{"match", subject + `string.match(s, p)`},
		{"gmatch", subject + `for m in string.gmatch(s, p) do end`},
		{"gsub", subject + `string.gsub(s, p, "x")`},
		{"lazy items", `string.match(string.rep("a", 2000), string.rep(".-", 8) .. "b")`},
		{"method call", subject + `s:find(p)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			L := NewState()
			defer L.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			L.SetContext(ctx)
			err := L.DoString(tc.script)
			if err == nil || !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
				t.Errorf("err=%v, want %q", err, context.DeadlineExceeded)
			}
		})
	}
	t.Run("called from Go", func(t *testing.T) {
		L := NewState()
		defer L.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		L.SetContext(ctx)
		// The VM raises the same error at the next instruction: call the
		// function directly so that only the matcher can stop it.
		L.Push(L.GetField(L.GetGlobal("string"), "find"))
		L.Push(LString(strings.Repeat("a", 40) + "b"))
		L.Push(LString(strings.Repeat("a*", 40) + "c"))
		err := L.PCall(2, 0, nil)
		if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
			t.Errorf("err=%v, want %q", err, context.Canceled)
		}
	})
}

func TestPatternsWithoutContext(t *testing.T) {
	L := NewState()
	defer L.Close()
	if err := L.DoString(`assert(string.find("hello", "l+") == 3) assert(select(2, string.gsub("abab", "b", "c")) == 2)`); err != nil {
		t.Fatal(err)
	}
}
