// Package recovery makes single-use recovery codes, reads what a person
// types as one, and checks it against stored hashes. It is pure: the engine
// keeps the hashes in the store's sealed per-account record and decides
// when a code is accepted (docs/policy.md, R-rows).
//
// A code is 8 symbols of a 32-symbol alphabet (40 bits), printed in two
// groups of four (`4k7m-9xqp`) so it is easy to read aloud. The alphabet
// has the digits 2–9 and the lower-case letters except l and o: no 0/o or
// 1/l to confuse. Input is read with or without the dash, in any case,
// with spaces around or inside.
package recovery

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// Alphabet is the 32 symbols a code is made of.
const Alphabet = "23456789abcdefghijkmnpqrstuvwxyz"

const (
	// Length is the number of symbols in a code; each carries 5 bits.
	Length = 8
	// Bits is a code's entropy: Length × log2(len(Alphabet)).
	Bits = 40
	// DefaultCount is how many codes a set has unless asked otherwise.
	DefaultCount = 10
	// MaxCount bounds a set: enough for a year of lost phones, small
	// enough that a login checks every one in microseconds.
	MaxCount = 50
	// maxInput is the longest input read as a code: the eight symbols, a
	// dash and generous spaces. Anything longer is not a code.
	maxInput = 64
	// SaltSize is the random salt of each stored hash.
	SaltSize = 16
	// SumSize is the length of each stored hash's sum (SHA-256).
	SumSize = 32
)

// ErrCount refuses a set size out of bounds.
var ErrCount = fmt.Errorf("the number of recovery codes must be 1 to %d", MaxCount)

// symbol maps an input byte to its symbol (upper case folded), or 0.
var symbol [256]byte

func init() {
	for i := 0; i < len(Alphabet); i++ {
		c := Alphabet[i]
		symbol[c] = c
		if c >= 'a' && c <= 'z' {
			symbol[c-'a'+'A'] = c
		}
	}
}

// Normalize reads input as a recovery code: spaces, tabs and dashes are
// dropped, letters folded to lower case, and what is left must be exactly
// Length symbols of the Alphabet. It returns the canonical form (8 symbols,
// no dash) and whether input is a code at all. It never allocates for an
// input that is not one, so a login can ask cheaply.
func Normalize(input string) (string, bool) {
	if len(input) > maxInput {
		return "", false
	}
	var out [Length]byte
	n := 0
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch c {
		case ' ', '\t', '-':
			continue
		}
		s := symbol[c]
		if s == 0 || n == Length {
			return "", false
		}
		out[n] = s
		n++
	}
	if n != Length {
		return "", false
	}
	return string(out[:]), true
}

// Format writes a canonical code as people read it: two groups of four.
func Format(canon string) string {
	if len(canon) != Length {
		return canon
	}
	return canon[:4] + "-" + canon[4:]
}

// Generate makes n new codes, formatted. Each symbol takes 5 bits of a
// random byte (32 is a power of two, so there is no modulo bias).
func Generate(n int) ([]string, error) {
	if n < 1 || n > MaxCount {
		return nil, ErrCount
	}
	buf := make([]byte, n*Length)
	if _, err := rand.Read(buf); err != nil {
		return nil, err
	}
	codes := make([]string, n)
	for i := range codes {
		var c [Length]byte
		for j := range c {
			c[j] = Alphabet[buf[i*Length+j]&31]
		}
		codes[i] = Format(string(c[:]))
	}
	clear(buf)
	return codes, nil
}

// Hash is how a code is kept: a random salt and SHA-256 over a domain
// label, the salt and the canonical code. A fast hash is enough here
// (docs/policy.md, "Recovery codes"): the codes are 40 bits of randomness
// checked online behind the attempt limit, and the hashes live only inside
// records sealed with the device key, beside the TOTP secret itself.
type Hash struct {
	Salt []byte `json:"salt"`
	Sum  []byte `json:"sum"`
}

func sum(salt []byte, canon string) []byte {
	h := sha256.New()
	h.Write([]byte("jcmfa recovery code v1\x00"))
	h.Write(salt)
	h.Write([]byte(canon))
	return h.Sum(nil)
}

// HashCode hashes a code (any form Normalize reads) with a fresh salt.
func HashCode(code string) (Hash, error) {
	canon, ok := Normalize(code)
	if !ok {
		return Hash{}, errors.New("not a recovery code")
	}
	salt := make([]byte, SaltSize)
	if _, err := rand.Read(salt); err != nil {
		return Hash{}, err
	}
	return Hash{Salt: salt, Sum: sum(salt, canon)}, nil
}

// HashAll hashes every code of a new set.
func HashAll(codes []string) ([]Hash, error) {
	out := make([]Hash, len(codes))
	for i, c := range codes {
		h, err := HashCode(c)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// Match finds canon (from Normalize) among hashes and returns its index,
// or -1. Every hash is computed and compared in constant time, so the time
// taken does not say which code, if any, matched.
func Match(hashes []Hash, canon string) int {
	found := -1
	for i, h := range hashes {
		if subtle.ConstantTimeCompare(sum(h.Salt, canon), h.Sum) == 1 && found < 0 {
			found = i
		}
	}
	return found
}
