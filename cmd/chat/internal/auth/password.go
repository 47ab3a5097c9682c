package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are written into every hash
// (the PHC string), so a hash made with older parameters still verifies
// after DefaultParams change.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are OWASP's first recommended argon2id configuration
// (Password Storage Cheat Sheet): 19 MiB of memory, 2 passes, 1 lane, with
// a 16-byte random salt and a 32-byte key.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds a PHC string's parameters must lie within. The hashes come from
// our own database, but a corrupted or planted row must not make one login
// allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
)

// ErrHashFormat is returned for a stored hash that is not a well-formed
// argon2id PHC string with parameters in bounds.
var ErrHashFormat = errors.New("auth: malformed password hash")

var b64 = base64.RawStdEncoding // PHC strings use standard base64 without padding

// HashPassword hashes password with DefaultParams and a fresh salt and
// returns the PHC string
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
func HashPassword(password string) (string, error) {
	return hashWith(DefaultParams, password)
}

func hashWith(p Params, password string) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string hash,
// using the parameters written in hash. The keys are compared in constant
// time. A malformed hash is an error (ErrHashFormat), never a match.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, key, err := ParseHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// ParseHash splits an argon2id PHC string into its parameters, salt and
// key. Only the argon2id variant at version 19 (0x13) is accepted, with
// the parameters in the order m, t, p.
func ParseHash(hash string) (p Params, salt, key []byte, err error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrHashFormat, why)
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string of 5 fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("parameters are not m,t,p")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return bad("parameters are not m,t,p")
		}
		// ParseUint rejects signs and spaces; leading zeros are refused
		// here, as the PHC format asks, so each hash has one spelling.
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || len(v) > 1 && v[0] == '0' {
			return bad("parameter " + name + " is not a number")
		}
		vals[i] = n
	}
	p.Memory, p.Time = uint32(vals[0]), uint32(vals[1])
	switch {
	case vals[2] < 1 || vals[2] > 255:
		return bad("parallelism out of range")
	case p.Time < 1 || p.Time > maxTime:
		return bad("time out of range")
	case p.Memory < 8*uint32(vals[2]) || p.Memory > maxMemory:
		return bad("memory out of range")
	}
	p.Threads = uint8(vals[2])
	// Strict: the unused low bits of the last character must be zero,
	// again one spelling per hash.
	if salt, err = b64.Strict().DecodeString(parts[4]); err != nil {
		return bad("salt is not base64")
	}
	if key, err = b64.Strict().DecodeString(parts[5]); err != nil {
		return bad("key is not base64")
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return bad("salt length out of range")
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return bad("key length out of range")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
