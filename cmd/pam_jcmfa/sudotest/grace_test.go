//go:build linux

package sudotest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

// inSession runs script with sh in a new login session, as pam_loginuid
// opens one at a login: writing /proc/self/loginuid (root, while unset)
// makes the kernel assign the process a new audit session id, which its
// children inherit (so the daemon reads it for the sudo process). $SUDO
// in script runs sudo -S -k id -u as the test account.
func (f *fixture) inSession(t *testing.T, script string, env ...string) (string, error) {
	t.Helper()
	sudo := "setpriv --reuid=" + strconv.Itoa(f.uid) + " --regid=" + strconv.Itoa(f.gid) + " --clear-groups /usr/bin/sudo -S -k id -u"
	cmd := exec.Command("/bin/sh", "-c", "echo "+strconv.Itoa(f.uid)+" > /proc/self/loginuid || exit 9\n"+script)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "LANG=C", "SUDO=" + sudo}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSudoGraceWindowFollowsTheLoginSession is row G11 through the real
// sudo: with a grace window on the sudo surface, a second sudo in the same
// login session is not asked for the code; sudo in another session is.
func TestSudoGraceWindowFollowsTheLoginSession(t *testing.T) {
	f := newFixture(t)
	if _, err := os.Stat("/proc/self/sessionid"); err != nil {
		testenv.Need(t, err)
	}
	sec := testenv.Enroll(t, agentBin, f.agent.Sock, f.user)
	f.agent.Admin(t, "user", "require", f.user, "--surfaces", "ssh")
	if out, err := f.setup(t, f.password+"\n"); err != nil {
		t.Fatalf("setup sudo: %v\n%s", err, out)
	}
	f.agent.Admin(t, "user", "require", f.user, "--surfaces", "sudo")
	f.agent.Admin(t, "settings", "--grace", "10m", "--grace-surfaces", "sudo")

	out, err := f.inSession(t, `printf '%s\n%s\n' "$PW" "$CODE" | $SUDO && echo FIRST-OK && printf '%s\n' "$PW" | $SUDO && echo SECOND-OK`,
		"PW="+f.password, "CODE="+testenv.Code(t, sec))
	if err != nil || !strings.Contains(out, "SECOND-OK") || strings.Count(out, codePrompt) != 1 {
		t.Fatalf("two sudo in one session: %v, want the code asked once:\n%s\ndaemon:\n%s", err, out, f.agent.Log())
	}
	audit := f.agent.Admin(t, "audit", "-n", "1")
	if !strings.Contains(audit, "grace") || !strings.Contains(audit, "session:") {
		t.Fatalf("audit:\n%s", audit)
	}

	out, err = f.inSession(t, `printf '%s\n%s\n' "$PW" "$WRONG" | $SUDO`, "PW="+f.password, "WRONG="+testenv.WrongCode(t, sec))
	if err == nil || !strings.Contains(out, codePrompt) {
		t.Fatalf("sudo in another session: %v, want the code asked (and the wrong one refused):\n%s", err, out)
	}
}
