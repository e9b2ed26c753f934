package sshdtest

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

// prompts is how many times the client asks again after a refused
// keyboard-interactive round, as OpenSSH's client does by default
// (ssh_config(5), NumberOfPasswordPrompts: "The default is 3").
const prompts = 3

// Issue 17, item 5 (row D3): a person opens three sessions within one time
// step and types the same code in each, the client re-prompting after each
// refusal, and makes two typos. Only the typos count toward the lockout
// (attempt limit 5): the account is not locked, each replay is audited,
// and sshd relays the daemon's "next code appears in N seconds".
func TestSSHReplaysWithinOneStepDoNotLockOut(t *testing.T) {
	need(t)
	a := startAgent(t)
	const user = "jcmfa-e2e8"
	osUser(t, user)
	sec := a.enroll(t, user)
	a.Admin(t, "settings", "--attempts", "5", "--lockout", "15m")
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no")

	// All of it must fall in one 30 s step (else the replays are of an
	// older step, and the message says the app's code works now).
	if into := time.Now().Unix() % 30; into > 18 {
		time.Sleep(time.Duration(30-into) * time.Second)
	}
	c := code(t, sec)
	same := &kbd{answer: func(string) string { return c }}
	if err := s.login(user, ssh.KeyboardInteractive(same.challenge)); err != nil {
		t.Fatalf("first session with the code: %v\nsshd:\n%s", err, s.logString())
	}
	for i := 0; i < 2; i++ {
		k := &kbd{answer: func(string) string { return c }}
		if err := s.login(user, ssh.RetryableAuthMethod(ssh.KeyboardInteractive(k.challenge), prompts)); err == nil {
			t.Fatalf("session %d: the same code logged in twice", i+2)
		}
		if len(k.questions) != prompts {
			t.Fatalf("session %d: asked %d times, want %d: %q", i+2, len(k.questions), prompts, k.questions)
		}
		// After a refusal sshd sends the messages PAM gathered as the
		// instruction of a round with no questions (openssh-portable
		// auth-pam.c, sshpam_query, case PAM_AUTH_ERR).
		if n := strings.Count(strings.Join(k.instr, "\n"), "The next code appears in"); n != prompts {
			t.Fatalf("session %d: the wait for the next code reached the client %d times, want %d: %q", i+2, n, prompts, k.instr)
		}
	}
	typos := &kbd{answer: func(string) string { return wrongCode(t, sec) }}
	if err := s.login(user, ssh.RetryableAuthMethod(ssh.KeyboardInteractive(typos.challenge), 2)); err == nil {
		t.Fatal("a wrong code logged in")
	}
	var row struct {
		Failures int  `json:"failures"`
		Locked   bool `json:"locked"`
	}
	testenv.DecodeJSON(t, a.Admin(t, "user", "status", user, "--json"), &row)
	if row.Locked || row.Failures != 2 {
		t.Fatalf("after %d replays and 2 typos: %+v, want unlocked with 2 failures\naudit:\n%s", 2*prompts, row, a.Admin(t, "audit", "-n", "20"))
	}
	if n := strings.Count(a.Admin(t, "audit", "-n", "20"), "replayed-code"); n != 2*prompts {
		t.Fatalf("%d replays audited, want %d", n, 2*prompts)
	}
}
