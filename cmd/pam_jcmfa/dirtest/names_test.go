//go:build linux

package dirtest

import (
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

// TestUppercaseNameIsAskedForAlicesCode: ALICE is alice to the directory,
// so logging in as ALICE must meet alice's record: asked for her code, a
// wrong one counted against her, the right one accepted, and the audit
// naming the account and the name as typed. (nslcd has no qualified form
// of a name, such as sssd's alice@domain, so there is none to try here.)
func TestUppercaseNameIsAskedForAlicesCode(t *testing.T) {
	e := start(t)
	secret := testenv.Enroll(t, e.Bin, e.Sock, "alice")
	stack := e.writeStack(t)
	if r := e.userStatus(t, "ALICE"); r.User != "alice" || !r.Enrolled {
		t.Errorf("user status ALICE = user %q, enrolled %v: want alice's own record", r.User, r.Enrolled)
	}

	out, rc := e.pamLogin(t, stack, "ALICE", testenv.WrongCode(t, secret))
	if !strings.Contains(out, "prompt: ") {
		t.Errorf("ALICE was not asked for a code (PAM code %d; %d is pam_jcmfa's PAM_IGNORE, a skip):\n%s", rc, pamTryAgain, out)
	}
	if rc != pamAuthErr {
		t.Errorf("ALICE with a wrong code: PAM code %d, want %d (PAM_AUTH_ERR)\n%s", rc, pamAuthErr, out)
	}
	failures := -1 // alice has no record
	for _, r := range e.users(t) {
		if r.User == "alice" {
			failures = r.Failures
		} else {
			t.Errorf("users lists %q (%s) besides alice: one account must be one record", r.User, r.StatusText)
		}
	}
	if failures != 1 {
		t.Errorf("after ALICE's wrong code, alice's failed attempts = %d, want 1", failures)
	}

	out, rc = e.pamLogin(t, stack, "ALICE", testenv.Code(t, secret))
	if rc != pamSuccess {
		t.Errorf("ALICE with alice's code: PAM code %d, want %d (PAM_SUCCESS)\n%s", rc, pamSuccess, out)
	}
	if ev := e.lastLogin(t); ev.User != "alice" || ev.Typed != "ALICE" || ev.Verdict != "allow" {
		t.Errorf("audit of ALICE's login = %+v, want user alice, typed ALICE, verdict allow", ev)
	}
}
