package phases

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	lua "github.com/minimi-go/minimi/third_party/gopher-lua"

	"github.com/minimi-go/minimi/internal/auth"
)

// maxRandomBytes bounds crypto.random(n).
const maxRandomBytes = 1024

// maxTokenTTL bounds the lifetime auth.sign accepts, in seconds (ten years).
const maxTokenTTL = 10 * 365 * 24 * 3600

// errNoAuthSecret is auth.sign or auth.check without a configured secret,
// outside dev mode.
var errNoAuthSecret = fmt.Errorf("%w: set auth.secret in config.json or MINIMI_AUTH_SECRET (at least %d bytes)",
	auth.ErrNoSecret, auth.MinSecretBytes)

// cryptoSHA256 is crypto.sha256(s): the SHA-256 of s, in hex.
func cryptoSHA256(L *lua.LState) int {
	sum := sha256.Sum256([]byte(L.CheckString(1)))
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

// cryptoHMAC is crypto.hmac(key, s): the HMAC-SHA-256 of s with key, in hex.
func cryptoHMAC(L *lua.LState) int {
	key, msg := L.CheckString(1), L.CheckString(2)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(msg))
	L.Push(lua.LString(hex.EncodeToString(mac.Sum(nil))))
	return 1
}

// cryptoRandom is crypto.random(n): n random bytes (1..maxRandomBytes), in hex.
func cryptoRandom(L *lua.LState) int {
	n := L.CheckInt(1)
	if n < 1 || n > maxRandomBytes {
		L.ArgError(1, fmt.Sprintf("want 1..%d bytes, got %d", maxRandomBytes, n))
	}
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	L.Push(lua.LString(hex.EncodeToString(b)))
	return 1
}

// cryptoEqual is crypto.equal(a, b): whether the strings are equal, compared
// in constant time (for signatures and tokens).
func cryptoEqual(L *lua.LState) int {
	a, b := L.CheckString(1), L.CheckString(2)
	L.Push(lua.LBool(subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1))
	return 1
}

// authSign is auth.sign(claims, ttl_seconds): a signed token carrying claims.
func (v *vm) authSign(L *lua.LState) int {
	tbl := L.CheckTable(1)
	ttl := float64(L.CheckNumber(2))
	if !(ttl > 0 && ttl <= maxTokenTTL) { // NaN fails both
		L.ArgError(2, fmt.Sprintf("want 0 < ttl_seconds <= %d", maxTokenTTL))
	}
	claims, err := fromLua(L, tbl)
	m, ok := claims.(map[string]any)
	if err != nil || !ok {
		L.ArgError(1, "want a table of claims with string keys")
	}
	tk, err := v.e.tokens()
	if err != nil {
		L.RaiseError("auth.sign: %s", err.Error())
	}
	tok, err := tk.Sign(m, time.Duration(ttl*float64(time.Second)))
	if err != nil {
		L.RaiseError("auth.sign: %s", err.Error())
	}
	L.Push(lua.LString(tok))
	return 1
}

// authCheck is auth.check(token): the token's claims, or nil and why not
// ("token expired", "token invalid", "no token").
func (v *vm) authCheck(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if !ok || s == "" {
		L.Push(lua.LNil)
		L.Push(lua.LString("no token"))
		return 2
	}
	tk, err := v.e.tokens()
	if err != nil {
		L.RaiseError("auth.check: %s", err.Error())
	}
	claims, err := tk.Check(string(s))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(checkReason(err)))
		return 2
	}
	lv, err := toLua(L, claims, 0)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(auth.ErrTokenInvalid.Error()))
		return 2
	}
	L.Push(lv)
	return 1
}

func checkReason(err error) string {
	if errors.Is(err, auth.ErrTokenExpired) {
		return auth.ErrTokenExpired.Error()
	}
	return auth.ErrTokenInvalid.Error()
}

// tokens returns the signer of the engine's secret. Without one, dev mode
// uses a random secret of this process; otherwise it is an error.
func (e *Engine) tokens() (*auth.Tokens, error) {
	secret := e.opts.AuthSecret
	if secret == "" {
		if !e.opts.Dev {
			return nil, errNoAuthSecret
		}
		secret = devSecret(e.opts.Logger)
	}
	return auth.NewTokens(auth.TokenOptions{Secret: []byte(secret)})
}

var (
	devSecretOnce  sync.Once
	devSecretValue string
)

// devSecret is a random token secret made once per process, for dev mode.
// Tokens signed with it stop verifying when the process restarts.
func devSecret(lg *slog.Logger) string {
	devSecretOnce.Do(func() {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		devSecretValue = hex.EncodeToString(b)
		lg.Warn("auth.secret is not set: dev mode signs tokens with a random secret that lasts until the process exits")
	})
	return devSecretValue
}
