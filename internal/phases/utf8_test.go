package phases

import (
	"strings"
	"testing"
)

// TestUTF8Module checks utf8 against what Lua 5.4 answers for the same calls.
func TestUTF8Module(t *testing.T) {
	got := eval(t, Options{}, `
		local s = "héllo, 世界"
		local cps = {}
		for p, c in utf8.codes(s) do cps[#cps + 1] = p .. ":" .. c end
		local n, bad = utf8.len("ab\255cd")
		local matched = {}
		for ch in string.gmatch("añ世", utf8.charpattern) do matched[#matched + 1] = ch end
		res:json({
			char = utf8.char(72, 233, 19990, 128512),
			len = utf8.len(s),
			len_from = utf8.len(s, 4),
			len_cont = tostring(utf8.len(s, 3)),
			len_range = utf8.len(s, -6),
			bad_len = tostring(n), bad_at = bad,
			cp = { utf8.codepoint(s, 1, 3) },
			cp_last = utf8.codepoint(s, -3),
			codes = table.concat(cps, " "),
			off3 = utf8.offset(s, 3),
			off_neg = utf8.offset(s, -1),
			off_hold = utf8.offset(s, 0, 3),
			off_past = tostring(utf8.offset(s, 20)),
			matched = table.concat(matched, "|"),
		})`)
	want := map[string]any{
		"char":      "Hé世😀",
		"len":       float64(9),
		"len_from":  float64(7), // byte 3 is inside é: the sequences starting at 3.. are llo, 世界 and ", " → 7
		"len_range": float64(2),
		"bad_len":   "nil", "bad_at": float64(3),
		"cp_last":  float64(30028),
		"codes":    "1:104 2:233 4:108 5:108 6:111 7:44 8:32 9:19990 12:30028",
		"off3":     float64(4),
		"off_neg":  float64(12),
		"off_hold": float64(2),
		"off_past": "nil",
		"matched":  "a|ñ|世",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%v, want %v", k, got[k], v)
		}
	}
	if cp, _ := got["cp"].([]any); len(cp) != 2 || cp[0] != float64(104) || cp[1] != float64(233) {
		t.Errorf("codepoint(s, 1, 3)=%v, want [104 233]", got["cp"])
	}
}

func TestUTF8Errors(t *testing.T) {
	tests := []struct{ call, want string }{
		{`utf8.char(0x110000)`, "value out of range"},
		{`utf8.char(0xD800)`, "value out of range"},
		{`utf8.codepoint("a\255b", 1, 3)`, "invalid UTF-8 code"},
		{`utf8.offset("héllo", 1, 3)`, "continuation byte"},
		{`utf8.len("abc", 5)`, "out of bounds"},
		{`for _ in utf8.codes("a\255") do end`, "invalid UTF-8 code"},
		{`for _ in utf8.codes("a\128\128b") do end`, "invalid UTF-8 code"},
		{`for _ in utf8.codes("\195\169\169") do end`, "invalid UTF-8 code"},
		{`utf8.codepoint(string.rep("a", 100000), 1, -1)`, "too many results"},
	}
	for _, tc := range tests {
		e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
		_, err := run(t, e, "GET", "/t", "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err=%v, want one containing %q", tc.call, err, tc.want)
		}
	}
}
