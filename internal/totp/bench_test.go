package totp

import (
	"testing"
	"time"
)

const benchSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// BenchmarkVerify: a right code checked against the ±1 step window (three
// HMAC-SHA1 computations, constant time).
func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	code, err := Code(benchSecret, now, Default)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(benchSecret, code, now, Default, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyWrong: a wrong code; it costs the same as a right one.
func BenchmarkVerifyWrong(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(benchSecret, "000000", now, Default, 1, 0); err != ErrWrong {
			b.Fatal(err)
		}
	}
}
