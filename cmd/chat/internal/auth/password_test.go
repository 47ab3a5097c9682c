package auth

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// cheap are parameters for tests of behaviour, not of cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashRoundTrip(t *testing.T) {
	// The default parameters once (over a second under -race), cheap
	// ones for the other passwords: the code path is the same.
	for i, pw := range []string{"correct horse", "pässwörd 日本", strings.Repeat("x", 128)} {
		p, prefix := DefaultParams, "$argon2id$v=19$m=19456,t=2,p=1$"
		if i > 0 {
			p, prefix = cheap, "$argon2id$v=19$m=64,t=1,p=1$"
		}
		start := time.Now()
		h, err := hashWith(p, pw)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("hash of %d bytes with %+v took %v", len(pw), p, took)
		if !strings.HasPrefix(h, prefix) {
			t.Fatalf("hash %q does not carry the parameters %+v", h, p)
		}
		ok, err := VerifyPassword(h, pw)
		if err != nil || !ok {
			t.Fatalf("VerifyPassword(own hash) = %v, %v", ok, err)
		}
		wrongs := []string{pw + "x", "", pw[:len(pw)-1], strings.ToUpper(pw)}
		if i == 0 {
			wrongs = wrongs[:1] // the default parameters are slow under -race
		}
		for _, wrong := range wrongs {
			if wrong == pw {
				continue
			}
			if ok, err := VerifyPassword(h, wrong); err != nil || ok {
				t.Fatalf("VerifyPassword(%q) against hash of %q = %v, %v", wrong, pw, ok, err)
			}
		}
		got, salt, key, err := ParseHash(h)
		if err != nil {
			t.Fatal(err)
		}
		if got != p || len(salt) != 16 || len(key) != 32 {
			t.Fatalf("parsed %+v, salt %d, key %d", p, len(salt), len(key))
		}
	}
}

// Every byte of the key counts: a stored key changed in its last byte, or
// its salt changed, no longer matches.
func TestVerifyWholeKey(t *testing.T) {
	h, err := hashWith(cheap, "password1")
	if err != nil {
		t.Fatal(err)
	}
	p, salt, key, _ := ParseHash(h)
	phc := func(salt, key []byte) string {
		return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
	}
	if phc(salt, key) != h {
		t.Fatalf("rebuilt %q, want %q", phc(salt, key), h)
	}
	for i := range key {
		k := bytes.Clone(key)
		k[i] ^= 1
		if ok, err := VerifyPassword(phc(salt, k), "password1"); err != nil || ok {
			t.Fatalf("key with byte %d changed: %v, %v", i, ok, err)
		}
	}
	s := bytes.Clone(salt)
	s[len(s)-1] ^= 1
	if ok, _ := VerifyPassword(phc(s, key), "password1"); ok {
		t.Fatal("a changed salt still matched")
	}
	// A longer stored key whose prefix is the real one does not match.
	if ok, _ := VerifyPassword(phc(salt, append(bytes.Clone(key), make([]byte, 16)...)), "password1"); ok {
		t.Fatal("a key with extra bytes matched")
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	a, _ := hashWith(cheap, "same password")
	b, _ := hashWith(cheap, "same password")
	if a == b {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
}

// A hash made with other parameters verifies with its own, so the defaults
// can change without locking anyone out.
func TestVerifyUsesStoredParams(t *testing.T) {
	p := Params{Memory: 64, Time: 3, Threads: 2, SaltLen: 8, KeyLen: 16}
	h, err := hashWith(p, "old password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, "$m=64,t=3,p=2$") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := VerifyPassword(h, "old password"); err != nil || !ok {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
	// A hash computed independently with argon2 and the same inputs
	// verifies: the PHC string is read, not just echoed.
	salt := []byte("saltsalt12345678")
	key := argon2.IDKey([]byte("pw123456"), salt, 1, 32, 1, 32)
	ext := fmt.Sprintf("$argon2id$v=19$m=32,t=1,p=1$%s$%s", b64.EncodeToString(salt), b64.EncodeToString(key))
	if ok, err := VerifyPassword(ext, "pw123456"); err != nil || !ok {
		t.Fatalf("external hash: %v, %v", ok, err)
	}
	if ok, _ := VerifyPassword(ext, "pw1234567"); ok {
		t.Fatal("external hash matched a wrong password")
	}
}

func TestParseHashErrors(t *testing.T) {
	salt := b64.EncodeToString([]byte("0123456789abcdef"))
	key := b64.EncodeToString(make([]byte, 32))
	good := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if _, _, _, err := ParseHash(good); err != nil {
		t.Fatalf("good hash refused: %v", err)
	}
	for _, c := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$"},
		{"extra field", good + "$x"},
		{"params order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"two params", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"four params", "$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key},
		{"loose base64 tail", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:len(salt)-1] + "x$" + key},
		{"not a number", "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=19456,t=-2,p=1$" + salt + "$" + key},
		{"overflow", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"huge time", "$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"256 threads", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{"memory 4 GiB", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=19456,t=2,p=1$!!!!$" + key},
		{"padded salt", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"short salt", "$argon2id$v=19$m=19456,t=2,p=1$" + b64.EncodeToString([]byte("1234")) + "$" + key},
		{"key not base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$***"},
		{"short key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + b64.EncodeToString(make([]byte, 8))},
		{"empty key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, _, err := ParseHash(c.hash); !errors.Is(err, ErrHashFormat) {
				t.Fatalf("ParseHash(%q) = %v, want ErrHashFormat", c.hash, err)
			}
			ok, err := VerifyPassword(c.hash, "anything")
			if ok || !errors.Is(err, ErrHashFormat) {
				t.Fatalf("VerifyPassword(%q) = %v, %v", c.hash, ok, err)
			}
		})
	}
}

// ParseHash never panics, and what it accepts re-encodes to the same
// string (one spelling per hash: no padding, no leading zeros).
func FuzzParseHash(f *testing.F) {
	h, _ := hashWith(cheap, "seed")
	f.Add(h)
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=019456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHR$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2i$v=19$m=1,t=1,p=1$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := ParseHash(s)
		if err != nil {
			if p != (Params{}) || salt != nil || key != nil {
				t.Fatalf("error %v with results %+v %x %x", err, p, salt, key)
			}
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || p.Threads == 0 || len(salt) < minSaltLen || len(key) < minKeyLen {
			t.Fatalf("accepted out-of-bounds %+v", p)
		}
		again := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
		if again != s {
			t.Fatalf("accepted %q, which re-encodes as %q", s, again)
		}
	})
}
