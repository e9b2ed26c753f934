// Package totp checks RFC 6238 codes and makes new secrets. It returns the
// time step a code matched, so the caller can refuse that step forever after
// (replay protection is the caller's record, not a cache here).
package totp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	gototp "github.com/pquerna/otp/totp"
)

// Params are a secret's algorithm, code length and step length.
type Params struct {
	Algorithm string // SHA1, SHA256 or SHA512
	Digits    int    // 6 or 8
	Period    int    // seconds
}

// Default is what every RFC 6238 authenticator app understands.
var Default = Params{Algorithm: "SHA1", Digits: 6, Period: 30}

var (
	// ErrFormat means the input is not a code at all (not digits, wrong length).
	ErrFormat = errors.New("not a valid code")
	// ErrWrong means the code does not match any step in the window.
	ErrWrong = errors.New("wrong code")
	// ErrReplayed means the code matched a step that was already used.
	ErrReplayed = errors.New("code already used")
)

// Validate checks that p is a combination this package supports.
func (p Params) Validate() error {
	if _, err := p.algorithm(); err != nil {
		return err
	}
	if p.Digits != 6 && p.Digits != 8 {
		return fmt.Errorf("digits must be 6 or 8, not %d", p.Digits)
	}
	if p.Period < 15 || p.Period > 300 {
		return fmt.Errorf("period must be 15 to 300 seconds, not %d", p.Period)
	}
	return nil
}

func (p Params) algorithm() (otp.Algorithm, error) {
	switch strings.ToUpper(p.Algorithm) {
	case "", "SHA1":
		return otp.AlgorithmSHA1, nil
	case "SHA256":
		return otp.AlgorithmSHA256, nil
	case "SHA512":
		return otp.AlgorithmSHA512, nil
	}
	return 0, fmt.Errorf("algorithm must be SHA1, SHA256 or SHA512, not %q", p.Algorithm)
}

func (p Params) digits() otp.Digits {
	if p.Digits == 8 {
		return otp.DigitsEight
	}
	return otp.DigitsSix
}

// Normalize strips the spaces and dashes people type inside codes and
// checks what is left is exactly the right number of ASCII digits.
func Normalize(input string, digits int) (string, error) {
	var b strings.Builder
	for _, r := range input {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", ErrFormat
		}
		if b.Len() > digits {
			return "", ErrFormat
		}
	}
	if b.Len() != digits {
		return "", ErrFormat
	}
	return b.String(), nil
}

// Step is the time step that contains t.
func Step(t time.Time, period int) int64 { return t.Unix() / int64(period) }

// Verify checks code against secret at time now, allowing skew steps either
// side. Steps at or below lastStep were used before and are refused with
// ErrReplayed. On success it returns the step that matched.
func Verify(secret, code string, now time.Time, p Params, skew int, lastStep int64) (int64, error) {
	if p.Period == 0 {
		p.Period = Default.Period
	}
	if p.Digits == 0 {
		p.Digits = Default.Digits
	}
	alg, err := p.algorithm()
	if err != nil {
		return 0, err
	}
	code, err = Normalize(code, p.Digits)
	if err != nil {
		return 0, err
	}
	opts := hotp.ValidateOpts{Digits: p.digits(), Algorithm: alg}
	current := Step(now, p.Period)
	replayed := false
	// Check every step in the window, not stopping at the first match, so
	// the time taken does not depend on which step matched.
	var matched int64 = -1
	for s := current - int64(skew); s <= current+int64(skew); s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), opts)
		if err != nil {
			return 0, fmt.Errorf("stored secret is unusable: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if s <= lastStep {
				replayed = true
			} else if matched < 0 {
				matched = s
			}
		}
	}
	switch {
	case matched >= 0:
		return matched, nil
	case replayed:
		return 0, ErrReplayed
	}
	return 0, ErrWrong
}

// Code computes the code for step-time t; for tests and enrollment checks.
func Code(secret string, t time.Time, p Params) (string, error) {
	alg, err := p.algorithm()
	if err != nil {
		return "", err
	}
	return gototp.GenerateCodeCustom(secret, t, gototp.ValidateOpts{Period: uint(p.Period), Digits: p.digits(), Algorithm: alg})
}

// NewKey makes a new random secret (160 bits for SHA1, the hash size
// otherwise) and its otpauth:// URI for authenticator apps.
func NewKey(issuer, account string, p Params) (secret, uri string, err error) {
	if err := p.Validate(); err != nil {
		return "", "", err
	}
	alg, _ := p.algorithm()
	size := map[otp.Algorithm]uint{otp.AlgorithmSHA1: 20, otp.AlgorithmSHA256: 32, otp.AlgorithmSHA512: 64}[alg]
	k, err := gototp.Generate(gototp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: uint(p.Period),
		SecretSize: size, Digits: p.digits(), Algorithm: alg,
	})
	if err != nil {
		return "", "", err
	}
	return k.Secret(), k.URL(), nil
}
