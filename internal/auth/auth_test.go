package auth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func TestHashRoundTrip(t *testing.T) {
	for _, plain := range []string{"correct horse battery staple", "", "ünïcødé", strings.Repeat("x", 200)} {
		t.Run(plain, func(t *testing.T) {
			h, err := Hash(plain)
			if err != nil {
				t.Fatalf("Hash()=%v", err)
			}
			if h == plain || (plain != "" && strings.Contains(h, plain)) {
				t.Fatalf("Hash(%q)=%q, want a value that does not contain the plain text", plain, h)
			}
			if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
				t.Errorf("Hash()=%q, want the PHC argon2id prefix with the default cost", h)
			}
			if !Verify(h, plain) {
				t.Errorf("Verify(Hash(%q), %q)=false, want true", plain, plain)
			}
			if Verify(h, plain+"!") {
				t.Errorf("Verify(Hash(%q), %q)=true, want false", plain, plain+"!")
			}
			if !IsHash(h) {
				t.Errorf("IsHash(%q)=false, want true", h)
			}
		})
	}
}

func TestHashSalted(t *testing.T) {
	a, err := Hash("secret-password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash("secret-password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("Hash() twice=%q, want different salts", a)
	}
}

func TestVerifyReadsParams(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}
	salt := []byte("saltsalt")
	h := format(p, salt, argon2.IDKey([]byte("pw"), salt, p.Time, p.Memory, p.Threads, p.KeyLen))
	if !Verify(h, "pw") {
		t.Errorf("Verify(%q, pw)=false, want true", h)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("imported"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(string(h), "imported") {
		t.Errorf("Verify(bcrypt, imported)=false, want true")
	}
	if Verify(string(h), "other") {
		t.Errorf("Verify(bcrypt, other)=true, want false")
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, err := Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	tests := []struct{ name, stored string }{
		{"empty", ""},
		{"plain", "pw"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge memory", strings.Replace(good, "m=19456", "m=99999999", 1)},
		{"zero time", strings.Replace(good, "t=2", "t=0", 1)},
		{"zero threads", strings.Replace(good, "p=1", "p=0", 1)},
		{"params order", strings.Replace(good, "m=19456,t=2", "t=2,m=19456", 1)},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$")},
		{"short key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$")},
		{"extra field", good + "$x"},
		{"bad bcrypt", "$2a$10$short"},
		// Past the cap, refused before any work: at cost 20 the check
		// alone would take a minute.
		{"bcrypt cost 15", "$2a$15$" + strings.Repeat("a", 22) + strings.Repeat("b", 31)},
		{"bcrypt cost 20", "$2a$20$" + strings.Repeat("a", 22) + strings.Repeat("b", 31)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if Verify(tc.stored, "pw") {
				t.Errorf("Verify(%q, pw)=true, want false", tc.stored)
			}
			if IsHash(tc.stored) {
				t.Errorf("IsHash(%q)=true, want false", tc.stored)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$2a$04$abcdefghijklmnopqrstuu")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parse(s)
		if err != nil {
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || p.Threads > maxThreads || len(salt) < minSalt || len(key) < minKey {
			t.Fatalf("parse(%q)=%+v, want parameters within the limits", s, p)
		}
		if again := format(p, salt, key); !IsHash(again) {
			t.Fatalf("IsHash(format(parse(%q)))=false, want true", s)
		}
	})
}
