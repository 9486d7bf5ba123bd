package phases

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// handlerOf wraps a Lua handler body into a GET processor.
func handlerOf(body string) string {
	return "return { GET = function(req, res)\n" + body + "\nend }"
}

// eval runs body as the GET handler of /t on a fresh engine and decodes the
// JSON it answers.
func eval(t *testing.T, opts Options, body string) map[string]any {
	t.Helper()
	e := load(t, map[string]string{"t/t.execute.lua": handlerOf(body)}, opts)
	resp, err := run(t, e, "GET", "/t", "")
	if err != nil {
		t.Fatalf("run=%v", err)
	}
	return decode(t, resp)
}

const luaSecret = "a-test-secret-that-is-32-bytes-long!"

func TestCryptoModule(t *testing.T) {
	got := eval(t, Options{}, `res:json({
		sha = crypto.sha256("abc"),
		empty = crypto.sha256(""),
		hmac = crypto.hmac("key", "The quick brown fox jumps over the lazy dog"),
		r16 = crypto.random(16),
		r1 = crypto.random(1),
		differ = crypto.random(16) ~= crypto.random(16),
		eq = crypto.equal("abc", "abc"),
		ne = crypto.equal("abc", "abd"),
		short = crypto.equal("abc", "ab"),
	})`)
	want := map[string]any{
		"sha":    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"empty":  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"hmac":   "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
		"differ": true, "eq": true, "ne": false, "short": false,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%v, want %v", k, got[k], v)
		}
	}
	if r := got["r16"].(string); len(r) != 32 || strings.Trim(r, "0123456789abcdef") != "" {
		t.Errorf("crypto.random(16)=%q, want 32 hex digits", r)
	}
	if r := got["r1"].(string); len(r) != 2 {
		t.Errorf("crypto.random(1)=%q, want 2 hex digits", r)
	}
}

func TestCryptoRandomBounds(t *testing.T) {
	for _, n := range []string{"0", "-1", "1025", "1e9"} {
		t.Run(n, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf("crypto.random(" + n + ")")}, Options{Dev: true})
			_, err := run(t, e, "GET", "/t", "")
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 500 || !strings.Contains(pe.Detail, "want 1..1024 bytes") {
				t.Errorf("crypto.random(%s) err=%v, want a 500 naming the bounds", n, err)
			}
		})
	}
}

func TestAuthTokens(t *testing.T) {
	got := eval(t, Options{AuthSecret: luaSecret}, `
		local tok = auth.sign({ sub = "ada", roles = { "admin" } }, 60)
		local claims, err = auth.check(tok)
		local bearer = auth.check("Bearer " .. tok)
		local _, bad = auth.check(tok .. "x")
		local _, none = auth.check(nil)
		local _, garbage = auth.check("not.a.token")
		res:json({ tok = tok, sub = claims.sub, role = claims.roles[1], ttl = claims.exp - claims.iat,
			err = err, bearer = bearer.sub, bad = bad, none = none, garbage = garbage })`)
	want := map[string]any{"sub": "ada", "role": "admin", "bearer": "ada", "bad": "token invalid", "none": "no token", "garbage": "token invalid"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%v, want %v", k, got[k], v)
		}
	}
	if ttl := got["ttl"].(float64); ttl < 60 || ttl > 61 {
		t.Errorf("exp-iat=%v, want 60..61", ttl)
	}
	if got["err"] != nil {
		t.Errorf("auth.check(valid) err=%v, want nil", got["err"])
	}
	if parts := strings.Split(got["tok"].(string), "."); len(parts) != 3 {
		t.Errorf("token %q, want three dot-separated parts", got["tok"])
	}
	other := eval(t, Options{AuthSecret: strings.Repeat("z", 40)}, `
		local _, err = auth.check("`+got["tok"].(string)+`")
		res:json({ err = err })`)
	if other["err"] != "token invalid" {
		t.Errorf("check with another secret: err=%v, want token invalid", other["err"])
	}
}

func TestAuthSecretRequired(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		body   string
		detail string
	}{
		{"dev mode signs without a secret", Options{Dev: true}, `auth.sign({}, 1); res:json({ok = true})`, ""},
		{"sign without secret, not dev", Options{}, `auth.sign({}, 1)`, "auth.secret"},
		{"check without secret, not dev", Options{}, `auth.check("a.b.c")`, "auth.secret"},
		{"short secret", Options{AuthSecret: "short"}, `auth.sign({}, 1)`, "token secret too short"},
		{"zero ttl", Options{AuthSecret: luaSecret}, `auth.sign({}, 0)`, "ttl_seconds"},
		{"NaN ttl", Options{AuthSecret: luaSecret}, `auth.sign({}, 0/0)`, "ttl_seconds"},
		{"array claims", Options{AuthSecret: luaSecret}, `auth.sign(json.array({1}), 10)`, "table of claims"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := load(t, map[string]string{"t/t.execute.lua": handlerOf(tc.body)}, tc.opts)
			resp, err := run(t, e, "GET", "/t", "")
			if tc.detail == "" {
				if err != nil || resp.Status != 200 {
					t.Fatalf("run=%v %v, want 200", resp, err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 500 || !strings.Contains(pe.Detail, tc.detail) {
				t.Errorf("run err=%v, want a 500 whose detail names %q", err, tc.detail)
			}
		})
	}
}

func TestAuthHashNeverPlain(t *testing.T) {
	// Three argon2 runs take a while under the race detector on a busy
	// machine: the budget is not what this test is about.
	got := eval(t, Options{ScriptTimeout: time.Minute}, `local h = auth.hash("hunter2hunter2")
		res:json({ h = h, ok = auth.verify(h, "hunter2hunter2"), wrong = auth.verify(h, "hunter3") })`)
	h, _ := got["h"].(string)
	if h == "" || strings.Contains(h, "hunter2") || got["ok"] != true || got["wrong"] != false {
		b, _ := json.Marshal(got)
		t.Errorf("auth.hash/verify=%s, want a hash without the plain text that verifies only it", b)
	}
}

// TestUUIDSortable: ids made one after the other sort in that order, also
// the many made within one millisecond.
func TestUUIDSortable(t *testing.T) {
	got := eval(t, Options{}, `
		local prev, sorted, n = uuid.new(), true, 0
		for i = 1, 2000 do
			local id = uuid.new()
			if id <= prev then sorted = false end
			if #id ~= 26 then n = n + 1 end
			prev = id
		end
		res:json({ sorted = sorted, bad_length = n })`)
	if got["sorted"] != true || got["bad_length"] != float64(0) {
		t.Errorf("uuid.new: %v, want 2,000 ids of 26 characters in increasing order", got)
	}
}
