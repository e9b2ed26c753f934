package totp

import (
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"
)

func b32(s string) string { return base32.StdEncoding.EncodeToString([]byte(s)) }

// RFC 6238 appendix B, 8 digits, 30 s steps.
func TestRFC6238Vectors(t *testing.T) {
	secrets := map[string]string{
		"SHA1":   b32("12345678901234567890"),
		"SHA256": b32("12345678901234567890123456789012"),
		"SHA512": b32("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	vectors := []struct {
		unix int64
		alg  string
		code string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	}
	for _, v := range vectors {
		p := Params{Algorithm: v.alg, Digits: 8, Period: 30}
		now := time.Unix(v.unix, 0)
		step, err := Verify(secrets[v.alg], v.code, now, p, 0, -1)
		if err != nil {
			t.Errorf("%s at %d: %v", v.alg, v.unix, err)
			continue
		}
		if step != v.unix/30 {
			t.Errorf("%s at %d: step %d, want %d", v.alg, v.unix, step, v.unix/30)
		}
		if c, _ := Code(secrets[v.alg], now, p); c != v.code {
			t.Errorf("Code = %s, want %s", c, v.code)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := b32("12345678901234567890")
	now := time.Unix(1234567890, 0)
	cur := now.Unix() / 30
	code := func(t0 time.Time) string { c, _ := Code(secret, t0, Default); return c }
	cases := []struct {
		name     string
		code     string
		skew     int
		lastStep int64
		wantStep int64
		wantErr  error
	}{
		{"current step", code(now), 1, 0, cur, nil},
		{"previous step within skew", code(now.Add(-30 * time.Second)), 1, 0, cur - 1, nil},
		{"next step within skew", code(now.Add(30 * time.Second)), 1, 0, cur + 1, nil},
		{"two steps back outside skew 1", code(now.Add(-60 * time.Second)), 1, 0, 0, ErrWrong},
		{"previous step with skew 0", code(now.Add(-30 * time.Second)), 0, 0, 0, ErrWrong},
		{"replayed current step", code(now), 1, cur, 0, ErrReplayed},
		{"older than the last accepted step", code(now.Add(-30 * time.Second)), 1, cur, 0, ErrReplayed},
		{"spaces are stripped", code(now)[:3] + " " + code(now)[3:], 1, 0, cur, nil},
		{"letters", "12a456", 1, 0, 0, ErrFormat},
		{"too short", "12345", 1, 0, 0, ErrFormat},
		{"too long", "1234567", 1, 0, 0, ErrFormat},
		{"empty", "", 1, 0, 0, ErrFormat},
		{"unicode digits", "١٢٣٤٥٦", 1, 0, 0, ErrFormat},
		{"wrong code", "000000", 1, 0, 0, ErrWrong},
	}
	if code(now) == "000000" {
		t.Fatal("pick another time: the current code is 000000")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			step, err := Verify(secret, tc.code, now, Default, tc.skew, tc.lastStep)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && step != tc.wantStep {
				t.Fatalf("step = %d, want %d", step, tc.wantStep)
			}
		})
	}
}

func TestNewKeyMakesUsableURI(t *testing.T) {
	for _, p := range []Params{Default, {Algorithm: "SHA256", Digits: 8, Period: 60}, {Algorithm: "SHA512", Digits: 6, Period: 30}} {
		secret, uri, err := NewKey("jcmfa", "alice@host", p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(uri, "otpauth://totp/jcmfa:alice@host?") || !strings.Contains(uri, "secret="+secret) {
			t.Fatalf("uri %q", uri)
		}
		now := time.Now()
		c, _ := Code(secret, now, p)
		if _, err := Verify(secret, c, now, p, 1, 0); err != nil {
			t.Fatalf("%+v: fresh code refused: %v", p, err)
		}
	}
	if _, _, err := NewKey("jcmfa", "a", Params{Algorithm: "MD5", Digits: 6, Period: 30}); err == nil {
		t.Fatal("MD5 accepted")
	}
	if _, _, err := NewKey("jcmfa", "a", Params{Algorithm: "SHA1", Digits: 7, Period: 30}); err == nil {
		t.Fatal("7 digits accepted")
	}
}

// FuzzNormalize: whatever a person types, the result is either an error or
// exactly `digits` ASCII digits.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "12-34-56", "", "abcdef", "1234567", "١٢٣", "\x00123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range []int{6, 8} {
			out, err := Normalize(s, d)
			if err != nil {
				continue
			}
			if len(out) != d {
				t.Fatalf("Normalize(%q) = %q", s, out)
			}
			for _, c := range []byte(out) {
				if c < '0' || c > '9' {
					t.Fatalf("Normalize(%q) = %q", s, out)
				}
			}
		}
	})
}
