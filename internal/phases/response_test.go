package phases

import (
	"slices"
	"strings"
	"testing"
)

// TestResHeader: a string replaces, an array sets several values, nil and
// an empty array remove the header.
func TestResHeader(t *testing.T) {
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(`
		res:header("X-One", "a"):header("X-One", "b")
		res:header("Set-Cookie", { "a=1; Path=/", "b=2; Path=/" })
		res:header("X-Gone", "x"):header("X-Gone", nil)
		res:header("X-Empty", "x"):header("X-Empty", {})
		res:header("X-Num", 42):header("X-Nums", { 1, "two" })
		res:send("ok")`)}, Options{})
	resp, err := run(t, e, "GET", "/t", "")
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header
	if got := h.Values("X-One"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("X-One=%q, want [b]", got)
	}
	if got := h.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1; Path=/", "b=2; Path=/"}) {
		t.Errorf("Set-Cookie=%q, want both cookies", got)
	}
	for _, k := range []string{"X-Gone", "X-Empty"} {
		if _, ok := h[k]; ok {
			t.Errorf("%s=%q, want it removed", k, h.Values(k))
		}
	}
	if h.Get("X-Num") != "42" || !slices.Equal(h.Values("X-Nums"), []string{"1", "two"}) {
		t.Errorf("X-Num=%q X-Nums=%q, want 42 and [1 two]", h.Get("X-Num"), h.Values("X-Nums"))
	}
}

func TestResHeaderStatusErrors(t *testing.T) {
	tests := []struct{ call, want string }{
		{`res:header("X A:", "v")`, "invalid header name"},
		{`res:header("", "v")`, "invalid header name"},
		{`res:header("X-T", { "a", true })`, "value 2 is a boolean"},
		{`res:status(103)`, "status must be 200..599"},
		{`res:status(600)`, "status must be 200..599"},
	}
	for _, tc := range tests {
		e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
		_, err := run(t, e, "GET", "/t", "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err=%v, want one containing %q", tc.call, err, tc.want)
		}
	}
}
