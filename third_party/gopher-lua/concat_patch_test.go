package lua

import (
	"strings"
	"testing"
)

func TestConcatLimit(t *testing.T) {
	tests := []struct {
		name, script string
		err          string // "": no error
	}{
		{"at the limit", `assert(#("12345" .. "67890") == 10)`, ""},
		{"past the limit", `local s = "12345" .. "678901"`, "the result would be longer than 10 bytes"},
		{"several operands", `local a, b, c = "1234", "5678", "901" local s = a .. b .. c`, "longer than 10 bytes"},
		{"numbers", `local s = "x" .. 1234567890`, "longer than 10 bytes"},
		{"doubling", `local s = "x" while true do s = s .. s end`, "longer than 10 bytes"},
		{"caught", `local ok, err = pcall(function() return "123456" .. "123456" end) assert(not ok and err:find("10 bytes"))`, ""},
		{"metamethod", `local t = setmetatable({}, { __concat = function() return "ok" end }) assert(t .. "x" == "ok")`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			L := NewState(Options{MaxStringSize: 10})
			defer L.Close()
			err := L.DoString(tc.script)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err=%v, want %q", err, tc.err)
			}
		})
	}
	t.Run("no limit by default", func(t *testing.T) {
		L := NewState()
		defer L.Close()
		if err := L.DoString(`assert(#(string.rep("x", 1000) .. string.rep("y", 1000)) == 2000)`); err != nil {
			t.Error(err)
		}
	})
	t.Run("Concat", func(t *testing.T) {
		L := NewState(Options{MaxStringSize: 10})
		defer L.Close()
		if got := L.Concat(LString("12345"), LNumber(67890)); got != "1234567890" {
			t.Errorf("Concat()=%q, want 1234567890", got)
		}
		L.Push(L.NewFunction(func(L *LState) int {
			L.Push(LString(L.Concat(LString("123456"), LString("123456"))))
			return 1
		}))
		if err := L.PCall(0, 1, nil); err == nil || !strings.Contains(err.Error(), "longer than 10 bytes") {
			t.Errorf("Concat past the limit: err=%v, want longer than 10 bytes", err)
		}
	})
}
