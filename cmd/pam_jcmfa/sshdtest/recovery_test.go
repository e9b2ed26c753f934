package sshdtest

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jcmfa/jcmfa/internal/recovery"
)

// Issue 17, item 1 (rows R4, R5): over a real sshd and the real PAM module,
// a recovery code typed at the code prompt (as a person reads it off
// paper: upper case, with the dash) logs in once; the second use is
// refused and counted.
func TestSSHRecoveryCodeWorksOnce(t *testing.T) {
	need(t)
	a := startAgent(t)
	const user = "jcmfa-e2e9"
	osUser(t, user)
	a.enroll(t, user)
	out := a.Admin(t, "user", "recovery-codes", user, "--count", "3")
	var codes []string
	for _, l := range strings.Split(out, "\n") {
		if _, ok := recovery.Normalize(l); ok {
			codes = append(codes, strings.TrimSpace(l))
		}
	}
	if len(codes) != 3 {
		t.Fatalf("user recovery-codes printed:\n%s", out)
	}
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no")

	typed := strings.ToUpper(codes[0])
	k := &kbd{answer: func(string) string { return typed }}
	if err := s.login(user, ssh.KeyboardInteractive(k.challenge)); err != nil {
		t.Fatalf("login with recovery code %s: %v\nsshd:\n%s", typed, err, s.logString())
	}
	if len(k.questions) != 1 || !strings.Contains(k.questions[0], "Verification code") {
		t.Fatalf("questions %q", k.questions)
	}
	if ev := lastLogin(t, a); ev.Verdict != "allow" || ev.Reason != "recovery-code" || ev.Detail != "2 recovery codes left" {
		t.Fatalf("audit %+v, want allow recovery-code, 2 left", ev)
	}

	again := &kbd{answer: func(string) string { return codes[0] }}
	if err := s.login(user, ssh.KeyboardInteractive(again.challenge)); err == nil {
		t.Fatal("a recovery code logged in twice")
	}
	if ev := lastLogin(t, a); ev.Verdict != "deny" || ev.Reason != "wrong-code" {
		t.Fatalf("audit of the second use %+v, want deny wrong-code", ev)
	}
	st := a.Admin(t, "user", "status", user)
	if !strings.Contains(st, "recovery codes   2 left") || !strings.Contains(st, "failed attempts  1") {
		t.Fatalf("status after the second use:\n%s", st)
	}
}
