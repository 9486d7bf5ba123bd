package phases

import (
	"errors"
	"testing"
)

// TestErrorTitles: a status without a standard text gets the title of its
// class, from error{} and res:error alike.
func TestErrorTitles(t *testing.T) {
	tests := []struct {
		call   string
		status int
		title  string
	}{
		{`error({ status = 499 })`, 499, "Client Error"},
		{`error({ status = 599, detail = "gone" })`, 599, "Server Error"},
		{`res:error(499, "closed")`, 499, "Client Error"},
		{`error({ status = 409 })`, 409, "Conflict"},
		{`error({ status = 499, title = "Client Closed Request" })`, 499, "Client Closed Request"},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.call)}, Options{})
			_, err := run(t, e, "GET", "/t", "")
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != tc.status || pe.Title != tc.title {
				t.Fatalf("err=%#v, want status %d title %q", err, tc.status, tc.title)
			}
		})
	}
}
