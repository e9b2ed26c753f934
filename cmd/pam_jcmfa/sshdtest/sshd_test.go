package sshdtest

import (
	"context"
	"github.com/jcmfa/jcmfa/internal/testenv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func codeAnswer(tb testing.TB, secret string) *kbd {
	return &kbd{answer: func(q string) string { return code(tb, secret) }}
}

func TestSSHRightCodeLogsIn(t *testing.T) {
	need(t)
	a := startAgent(t)
	osUser(t, "jcmfa-e2e1")
	sec := a.enroll(t, "jcmfa-e2e1")
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no")
	k := codeAnswer(t, sec)
	if err := s.login("jcmfa-e2e1", ssh.KeyboardInteractive(k.challenge)); err != nil {
		t.Fatalf("login with the right code: %v\nsshd:\n%s", err, s.log)
	}
	if len(k.questions) != 1 || !strings.Contains(k.questions[0], "Verification code") {
		t.Fatalf("questions %q", k.questions)
	}
	audit := a.Admin(t, "audit", "-n", "1")
	if !strings.Contains(audit, "allow") || !strings.Contains(audit, "127.0.0.1") || !strings.Contains(audit, "ssh") {
		t.Fatalf("audit does not show an allowed ssh login from 127.0.0.1:\n%s", audit)
	}
}

func TestSSHWrongCodeIsRefused(t *testing.T) {
	need(t)
	a := startAgent(t)
	osUser(t, "jcmfa-e2e2")
	a.enroll(t, "jcmfa-e2e2")
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no")
	k := &kbd{answer: func(string) string { return "12345x" }}
	err := s.login("jcmfa-e2e2", ssh.KeyboardInteractive(k.challenge))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("wrong code: err = %v", err)
	}
	if !strings.Contains(a.Admin(t, "user", "status", "jcmfa-e2e2"), "failed attempts  1") &&
		!strings.Contains(a.Admin(t, "user", "status", "jcmfa-e2e2"), "failed attempts 1") {
		t.Fatalf("status after a wrong code:\n%s", a.Admin(t, "user", "status", "jcmfa-e2e2"))
	}
}

func TestSSHPublicKeyMustBeFollowedByTheCode(t *testing.T) {
	need(t)
	a := startAgent(t)
	osUser(t, "jcmfa-e2e3")
	sec := a.enroll(t, "jcmfa-e2e3")
	s := startSSHD(t, stack(a.pamLine()),
		"PasswordAuthentication no", "AuthenticationMethods publickey,keyboard-interactive")
	// The key alone is not enough...
	if err := s.login("jcmfa-e2e3", ssh.PublicKeys(s.clientKey)); err == nil {
		t.Fatal("a public key alone logged in")
	}
	// ...the key and then the code are.
	k := codeAnswer(t, sec)
	if err := s.login("jcmfa-e2e3", ssh.PublicKeys(s.clientKey), ssh.KeyboardInteractive(k.challenge)); err != nil {
		t.Fatalf("public key + code: %v\n%s", err, s.log)
	}
	if len(k.questions) != 1 {
		t.Fatalf("questions %q", k.questions)
	}
	// ...and the key with a wrong code is not.
	bad := &kbd{answer: func(string) string { return "000000" }}
	if err := s.login("jcmfa-e2e3", ssh.PublicKeys(s.clientKey), ssh.KeyboardInteractive(bad.challenge)); err == nil && code(t, sec) != "000000" {
		t.Fatal("public key + wrong code logged in")
	}
}

// sshd runs PAM for password authentication in its privileged monitor and
// for keyboard-interactive in a forked child. A module that breaks fork
// (a Go runtime inside, see DESIGN.md) hangs the second; this one must not.
//
// The password reaches the module as the answer to its code prompt and is
// refused, as it must be (else a password alone would log in). libpam then
// remembers that refusal in the monitor's handle ("frozen chain"), so after
// keyboard-interactive succeeds in the child, sshd's pam_setcred in the
// monitor fails right after authentication, and sshd closes the connection
// ("PAM: pam_setcred(): Permission denied"). The same
// happens with any second-factor module (google-authenticator, pam_oath). That is why
// `jcmfa-agent doctor` warns about PasswordAuthentication and `setup ssh`
// makes keyboard-interactive the way in. What this test proves: the login
// ends promptly, and the forked child did ask for and accept the code.
func TestSSHPasswordThenKeyboardInteractiveDoesNotHang(t *testing.T) {
	need(t)
	a := startAgent(t)
	osUser(t, "jcmfa-e2e4")
	sec := a.enroll(t, "jcmfa-e2e4")
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication yes")
	k := codeAnswer(t, sec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- s.login("jcmfa-e2e4", ssh.Password("not-a-code"), ssh.KeyboardInteractive(k.challenge))
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		t.Fatalf("login hung for 30s\n%s", s.log)
	}
	t.Logf("password then keyboard-interactive ended in %v: %v", time.Since(start), err)
	if len(k.questions) != 1 {
		t.Fatalf("the code was not asked once in the forked child: questions %q\n%s", k.questions, s.log)
	}
	// sshd may log after the client already saw the outcome.
	s.waitLog("Accepted keyboard-interactive/pam", 2*time.Second)
	if err != nil {
		s.waitLog("pam_setcred", 2*time.Second)
	}
	log := s.logString()
	if !strings.Contains(log, "Failed password for jcmfa-e2e4") || !strings.Contains(log, "Accepted keyboard-interactive/pam for jcmfa-e2e4") {
		t.Fatalf("expected the password refused and the code accepted:\n%s", log)
	}
	// sshd runs pam_setcred right after authentication: the client sees
	// either the success or the connection closing after it.
	if err != nil && !strings.Contains(log, "pam_setcred(): Permission denied") {
		t.Fatalf("login failed for another reason than sshd's pam_setcred: %v\n%s", err, log)
	}
}

func TestSSHInBandEnrollment(t *testing.T) {
	need(t)
	a := startAgent(t)
	osUser(t, "jcmfa-e2e5")
	a.Admin(t, "user", "require", "jcmfa-e2e5")
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no")
	// sshd puts PAM's info messages (the setup text, the QR rows, the
	// otpauth:// URI) in front of the next question.
	var secret, shown string
	k := &kbd{}
	k.answer = func(q string) string {
		shown += q
		if m := testenv.SecretRE.FindStringSubmatch(q); m != nil {
			secret = m[1]
		}
		if secret == "" {
			return ""
		}
		return code(t, secret)
	}
	if err := s.login("jcmfa-e2e5", ssh.KeyboardInteractive(k.challenge)); err != nil {
		t.Fatalf("in-band enrollment: %v\n%s", err, s.log)
	}
	if secret == "" {
		t.Fatalf("the otpauth URI never reached the SSH client; it showed %q", shown)
	}
	if !strings.Contains(shown, "█") {
		t.Fatal("no QR code rows reached the SSH client")
	}
	if st := a.Admin(t, "user", "status", "jcmfa-e2e5"); !strings.Contains(st, "enrolled") {
		t.Fatalf("status after in-band enrollment:\n%s", st)
	}
}
