package sshdtest

import (
	"context"
	"os/exec"
	"os/user"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/testenv"
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

// Issue 13, finding 1: a second name for a required, enrolled account (a
// uid alias, `useradd -o`) used to log in with the password alone, because
// the daemon kept records by the name as typed. It is the same account: it
// is asked for that account's code, its wrong codes count against that
// account's lockout, and the audit names both.
func TestSSHUidAliasIsAskedForTheAccountsCode(t *testing.T) {
	need(t)
	a := startAgent(t)
	const owner, alias = "jcmfa-e2e7", "jcmfa-e2e7a"
	osUser(t, owner)
	sec := a.enroll(t, owner)
	osAlias(t, alias, owner)
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no")

	bad := &kbd{answer: func(string) string { return wrongCode(t, sec) }}
	if err := s.login(alias, ssh.KeyboardInteractive(bad.challenge)); err == nil {
		t.Fatalf("%s (a uid alias of %s) logged in with a wrong code", alias, owner)
	}
	if len(bad.questions) != 1 || !strings.Contains(bad.questions[0], "Verification code") {
		t.Fatalf("%s was not asked for a code: questions %q\nsshd:\n%s", alias, bad.questions, s.logString())
	}
	var row struct {
		User     string `json:"user"`
		Failures int    `json:"failures"`
	}
	testenv.DecodeJSON(t, a.Admin(t, "user", "status", alias, "--json"), &row)
	if row.User != owner || row.Failures != 1 {
		t.Fatalf("status of %s: %+v, want %s's record with 1 failure", alias, row, owner)
	}

	k := codeAnswer(t, sec)
	if err := s.login(alias, ssh.KeyboardInteractive(k.challenge)); err != nil {
		t.Fatalf("%s with %s's right code: %v\nsshd:\n%s", alias, owner, err, s.logString())
	}
	ev := lastLogin(t, a)
	if ev.User != owner || ev.Typed != alias || ev.Verdict != "allow" || ev.PeerUID == nil || *ev.PeerUID != 0 {
		t.Fatalf("audit: %+v, want user %s typed %s allow peer_uid 0", ev, owner, alias)
	}
	if out := a.Admin(t, "users"); strings.Contains(out, alias) {
		t.Fatalf("the alias got a record of its own:\n%s", out)
	}
}

// osAlias creates name as a second account with owner's uid and gid
// (useradd -o), as an attacker with a foothold or a careless admin would.
func osAlias(tb testing.TB, name, owner string) {
	tb.Helper()
	u, err := user.Lookup(owner)
	if err != nil {
		tb.Fatal(err)
	}
	userMu.Lock()
	defer userMu.Unlock()
	exec.Command("userdel", name).Run()
	out, err := exec.Command("useradd", "-o", "-u", u.Uid, "-g", u.Gid, "--no-create-home", "--shell", "/bin/sh", name).CombinedOutput()
	if err != nil {
		tb.Fatalf("useradd -o %s: %v %s", name, err, out)
	}
	tb.Cleanup(func() { exec.Command("userdel", name).Run() })
}

func wrongCode(tb testing.TB, secret string) string {
	if code(tb, secret) == "000000" {
		return "111111"
	}
	return "000000"
}

// lastLogin is the newest login event in the daemon's audit.
func lastLogin(tb testing.TB, a agent) store.Event {
	tb.Helper()
	var evs []store.Event
	testenv.DecodeJSON(tb, a.Admin(tb, "audit", "-n", "20", "--json"), &evs)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == "login" {
			return evs[i]
		}
	}
	tb.Fatalf("no login in the audit: %+v", evs)
	return store.Event{}
}
