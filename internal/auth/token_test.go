package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable time for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTokens(t testing.TB, c *clock) *Tokens {
	t.Helper()
	tk, err := NewTokens(TokenOptions{Secret: testSecret, Now: c.now})
	if err != nil {
		t.Fatalf("NewTokens()=%v", err)
	}
	return tk
}

func TestNewTokensSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		want   error
	}{
		{"none", nil, ErrNoSecret},
		{"short", []byte("short"), ErrWeakSecret},
		{"31 bytes", testSecret[:31], ErrWeakSecret},
		{"32 bytes", testSecret, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTokens(TokenOptions{Secret: tc.secret})
			if !errors.Is(err, tc.want) {
				t.Errorf("NewTokens()=%v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignCheckRoundTrip(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 500_000_000)}
	tk := newTokens(t, c)
	claims := map[string]any{"sub": "ada", "roles": []any{"admin"}, "n": 3.0, "exp": 1.0}
	tok, err := tk.Sign(claims, 90*time.Second)
	if err != nil {
		t.Fatalf("Sign()=%v", err)
	}
	if claims["exp"] != 1.0 || len(claims) != 4 {
		t.Errorf("Sign() changed its claims: %v", claims)
	}
	got, err := tk.Check(tok)
	if err != nil {
		t.Fatalf("Check()=%v", err)
	}
	if got["sub"] != "ada" || got["n"] != 3.0 || got["roles"].([]any)[0] != "admin" {
		t.Errorf("Check()=%v, want the signed claims", got)
	}
	if got["iat"] != 1_700_000_000.0 {
		t.Errorf("iat=%v, want 1700000000", got["iat"])
	}
	if got["exp"] != 1_700_000_091.0 {
		t.Errorf("exp=%v, want 1700000091 (now+ttl rounded up)", got["exp"])
	}
	if got, err := tk.Check("Bearer " + tok); err != nil || got["sub"] != "ada" {
		t.Errorf("Check(Bearer …)=%v, %v, want the claims", got, err)
	}
}

func TestCheckExpiry(t *testing.T) {
	start := time.Unix(1_700_000_000, 900_000_000)
	c := &clock{t: start}
	tk := newTokens(t, c)
	tok, err := tk.Sign(map[string]any{"sub": "x"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		after time.Duration
		want  error
	}{
		{"at once", 0, nil},
		{"just before ttl", 999 * time.Millisecond, nil},
		{"ttl rounded up to the second", 1099 * time.Millisecond, nil},
		{"at the rounded exp", 1100 * time.Millisecond, ErrTokenExpired},
		{"long after", time.Hour, ErrTokenExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = start.Add(tc.after)
			_, err := tk.Check(tok)
			if !errors.Is(err, tc.want) {
				t.Errorf("Check() after %v=%v, want %v", tc.after, err, tc.want)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	c := &clock{t: time.Now()}
	tk := newTokens(t, c)
	good, err := tk.Sign(map[string]any{"sub": "ada"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding
	otherSecret, _ := NewTokens(TokenOptions{Secret: []byte(strings.Repeat("z", 32)), Now: c.now})
	foreign, _ := otherSecret.Sign(map[string]any{"sub": "ada"}, time.Hour)
	exp := c.t.Add(time.Hour).Unix()
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "ada", "exp": exp}).SignedString(testSecret)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ada"}).SignedString(testSecret)
	future, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ada", "exp": exp, "iat": exp}).SignedString(testSecret)
	none := b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	// The signature's last character carries two bits the 32 bytes do not
	// use: setting one gives another token that decodes to the same bytes.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := parts[2]
	twin := sig[:len(sig)-1] + string(alphabet[strings.IndexByte(alphabet, sig[len(sig)-1])^1])
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "not a token"},
		{"tampered payload", parts[0] + "." + b64.EncodeToString([]byte(`{"sub":"root","exp":9999999999}`)) + "." + parts[2]},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64.EncodeToString([]byte("forged"))},
		{"other secret", foreign},
		{"alg none", none},
		{"alg HS512", hs512},
		{"no exp", noExp},
		{"issued in the future", future},
		{"too long", good + strings.Repeat("A", MaxTokenBytes)},
		{"signature with its spare bits set", parts[0] + "." + parts[1] + "." + twin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tk.Check(tc.token)
			if !errors.Is(err, ErrTokenInvalid) || got != nil {
				t.Errorf("Check()=%v, %v, want nil, ErrTokenInvalid", got, err)
			}
		})
	}
}

func TestSignBadTTL(t *testing.T) {
	tk := newTokens(t, &clock{t: time.Now()})
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := tk.Sign(nil, ttl); !errors.Is(err, ErrBadTTL) {
			t.Errorf("Sign(ttl=%v)=%v, want ErrBadTTL", ttl, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	tk := newTokens(f, c)
	good, err := tk.Sign(map[string]any{"sub": "ada"}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("Bearer " + good)
	f.Add(good[:len(good)-2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := tk.Check(token)
		if err != nil {
			if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("Check(%q)=%v, want ErrTokenInvalid or ErrTokenExpired", token, err)
			}
			return
		}
		exp, ok := claims["exp"].(float64)
		if !ok || exp <= float64(c.t.Unix()) {
			t.Fatalf("Check(%q) accepted claims %v without a future exp", token, claims)
		}
	})
}
