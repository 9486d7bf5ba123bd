package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params is the cost of an argon2id hash.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen int    // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams is the cost [Hash] uses: m=19456 KiB, t=2, p=1, a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on the parameters of a stored hash (see the package documentation).
const (
	maxMemory  = 256 * 1024
	maxTime    = 16
	maxThreads = 16
	minSalt    = 8
	minKey     = 16
	maxKey     = 128
	// maxBcryptCost bounds an imported bcrypt hash: each step doubles the
	// work, cost 14 takes about a second, and cost 31 would hold a core
	// for days, out of reach of a script's time budget.
	maxBcryptCost = 14
)

var b64 = base64.RawStdEncoding

// Hash returns the argon2id hash of plain in PHC string format, with a fresh random salt.
func Hash(plain string) (string, error) {
	p := DefaultParams()
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(plain), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return format(p, salt, key), nil
}

func format(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether plain is the password that stored was made from.
// stored is an argon2id PHC string (as made by [Hash]) or a bcrypt hash.
func Verify(stored, plain string) bool {
	if strings.HasPrefix(stored, "$2") {
		return isBcrypt(stored) && bcrypt.CompareHashAndPassword([]byte(stored), []byte(plain)) == nil
	}
	p, salt, key, err := parse(stored)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(plain), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// IsHash reports whether s has the shape of a hash that [Verify] understands.
func IsHash(s string) bool {
	if strings.HasPrefix(s, "$2") {
		return isBcrypt(s)
	}
	_, _, _, err := parse(s)
	return err == nil
}

// isBcrypt reports whether s is a bcrypt hash of at most maxBcryptCost.
func isBcrypt(s string) bool {
	cost, err := bcrypt.Cost([]byte(s))
	return err == nil && cost <= maxBcryptCost
}

// parse splits an argon2id PHC string into its parameters, salt and key.
func parse(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	if err := parseParams(parts[3], &p); err != nil {
		return p, nil, nil, err
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSalt {
		return p, nil, nil, ErrMalformed
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKey || len(key) > maxKey {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = len(salt), uint32(len(key))
	return p, salt, key, nil
}

// parseParams reads "m=…,t=…,p=…" (exactly these, in this order) into p.
func parseParams(s string, p *Params) error {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return ErrMalformed
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return ErrMalformed
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return ErrMalformed
		}
		vals[i] = n
	}
	m, t, th := vals[0], vals[1], vals[2]
	if t < 1 || t > maxTime || th < 1 || th > maxThreads || m < 8*th || m > maxMemory {
		return ErrMalformed
	}
	p.Memory, p.Time, p.Threads = uint32(m), uint32(t), uint8(th)
	return nil
}
