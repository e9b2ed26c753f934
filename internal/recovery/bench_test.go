package recovery

import "testing"

// BenchmarkNormalizeTOTPAnswer: what a login with a wrong 6-digit code
// pays for the recovery-code lookup: reading the answer, which is not
// shaped like a recovery code, so no record is opened.
func BenchmarkNormalizeTOTPAnswer(b *testing.B) {
	for b.Loop() {
		if _, ok := Normalize("123456"); ok {
			b.Fatal("a TOTP code read as a recovery code")
		}
	}
}

// BenchmarkMatch10: checking a recovery-shaped answer against a full set
// of 10 (every hash is computed: no early exit).
func BenchmarkMatch10(b *testing.B) {
	codes, _ := Generate(DefaultCount)
	hashes, _ := HashAll(codes)
	canon, _ := Normalize("2222-2222")
	for b.Loop() {
		if Match(hashes, canon) >= 0 {
			b.Fatal("matched")
		}
	}
}
