package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the shortest secret [NewTokens] accepts: the size of an
// HS256 key that cannot be guessed offline from a captured token.
const MinSecretBytes = 32

// MaxTokenBytes is the longest token [Tokens.Check] reads; longer ones are invalid.
const MaxTokenBytes = 8 << 10

// signingMethod is the only algorithm tokens are signed and checked with.
var signingMethod = jwt.SigningMethodHS256

// TokenOptions configures [NewTokens].
type TokenOptions struct {
	// Secret is the HS256 key. Required: at least MinSecretBytes bytes.
	Secret []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Validate reports what is wrong with o.
func (o TokenOptions) Validate() error {
	switch {
	case len(o.Secret) == 0:
		return ErrNoSecret
	case len(o.Secret) < MinSecretBytes:
		return fmt.Errorf("%w: %d bytes, want at least %d", ErrWeakSecret, len(o.Secret), MinSecretBytes)
	}
	return nil
}

// Tokens signs and checks JSON Web Tokens (HS256) with one secret. It is safe
// for concurrent use.
type Tokens struct {
	secret []byte
	now    func() time.Time
	parser *jwt.Parser
}

// NewTokens returns a Tokens for opts.
func NewTokens(opts TokenOptions) (*Tokens, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &Tokens{secret: append([]byte(nil), opts.Secret...), now: opts.Now}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{signingMethod.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(opts.Now),
		jwt.WithStrictDecoding(), // one token per signature: no spare bits set
	)
	return t, nil
}

// Sign returns a token carrying claims that expires after ttl. It sets the
// registered claims "iat" (now) and "exp" (now+ttl, rounded up to the
// second), overriding any given; claims itself is not changed.
func (t *Tokens) Sign(claims map[string]any, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("%w: %v", ErrBadTTL, ttl)
	}
	now := t.now()
	mc := make(jwt.MapClaims, len(claims)+2)
	for k, v := range claims {
		mc[k] = v
	}
	mc["iat"] = now.Unix()
	mc["exp"] = ceilSecond(now.Add(ttl))
	s, err := jwt.NewWithClaims(signingMethod, mc).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// ceilSecond is t in Unix seconds, rounded up: a token never lives shorter
// than asked.
func ceilSecond(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// Check verifies token's signature and times and returns its claims. A
// "Bearer " prefix is accepted. The error wraps ErrTokenExpired for an
// expired token and ErrTokenInvalid for anything else wrong.
func (t *Tokens) Check(token string) (map[string]any, error) {
	token = strings.TrimSpace(token)
	if rest, ok := cutPrefixFold(token, "Bearer "); ok {
		token = strings.TrimSpace(rest)
	}
	if token == "" || len(token) > MaxTokenBytes {
		return nil, ErrTokenInvalid
	}
	parsed, err := t.parser.Parse(token, t.key)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, ErrTokenExpired
		}
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	mc, ok := parsed.Claims.(jwt.MapClaims)
	if !ok || !parsed.Valid {
		return nil, ErrTokenInvalid
	}
	return map[string]any(mc), nil
}

func (t *Tokens) key(*jwt.Token) (any, error) { return t.secret, nil }

// cutPrefixFold is strings.CutPrefix ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
