package phases

import (
	"regexp"
	"strings"
	"testing"
)

// TestTimeISO: time.iso writes RFC 3339 to the millisecond for the years
// 0000 to 9999, now as well as for given seconds, and refuses seconds
// outside them, and NaN and infinities.
func TestTimeISO(t *testing.T) {
	got := eval(t, Options{}, `res:json({
		epoch = time.iso(0),
		ms = time.iso(1.5),
		first = time.iso(-62167219200),
		last = time.iso(253402300799.999),
		now = time.iso(),
	})`)
	want := map[string]any{"epoch": "1970-01-01T00:00:00Z", "ms": "1970-01-01T00:00:01.5Z",
		"first": "0000-01-01T00:00:00Z", "last": "9999-12-31T23:59:59.999Z"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%v, want %q", k, got[k], v)
		}
	}
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$`)
	if now, _ := got["now"].(string); !ms.MatchString(now) {
		t.Errorf("time.iso()=%q, want RFC 3339 UTC to the millisecond", got["now"])
	}
	for _, arg := range []string{"1e300", "-1e18", "0/0", "1/0", "-1/0", "-62167219201", "253402300800"} {
		t.Run(arg, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf(`res:send(time.iso(` + arg + `))`)}, Options{})
			_, err := run(t, e, "GET", "/t", "")
			if !isStatus(err, 500) || !strings.Contains(err.Error(), "seconds must be from -62167219200 to 253402300799 (years 0000 to 9999)") {
				t.Errorf("time.iso(%s) err=%v, want a 500 naming the range", arg, err)
			}
		})
	}
}
