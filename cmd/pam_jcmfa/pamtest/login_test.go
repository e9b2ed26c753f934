//go:build linux && cgo

package pamtest

import (
	"bufio"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msteinert/pam/v2"
	"github.com/pquerna/otp/totp"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

func TestEnrolledUserRightCodeIsAllowed(t *testing.T) {
	d := startDaemon(t)
	secret := enroll(t, d.Sock, "alice")
	conf := writeStack(t, "socket="+d.Sock, "timeout=5")

	l := authenticate(t, conf, "alice", answers(code(t, secret)))
	wantResult(t, l, nil)
	if len(l.conv.prompts) != 1 || !strings.Contains(l.conv.prompts[0], "code") {
		t.Errorf("prompts = %q, want one prompt for a verification code", l.conv.prompts)
	}
}

func TestEnrolledUserWrongCodeIsDenied(t *testing.T) {
	d := startDaemon(t)
	secret := enroll(t, d.Sock, "alice")
	conf := writeStack(t, "socket="+d.Sock, "timeout=5")

	wrong := code(t, secret)
	wrong = string('0'+(wrong[0]-'0'+5)%10) + wrong[1:] // never valid in the skew window
	l := authenticate(t, conf, "alice", answers(wrong))
	wantResult(t, l, pam.ErrAuth)
	if len(l.conv.errs) == 0 {
		t.Errorf("no PAM_ERROR_MSG relayed for a wrong code")
	}
	auditHas(t, d.Sock, "alice", "deny", "wrong-code")
	l = authenticate(t, conf, "alice", answers("not a code"))
	wantResult(t, l, pam.ErrAuth)
	auditHas(t, d.Sock, "alice", "deny", "bad-code-format")
}

func TestReplayedCodeIsDenied(t *testing.T) {
	d := startDaemon(t)
	secret := enroll(t, d.Sock, "alice")
	conf := writeStack(t, "socket="+d.Sock, "timeout=5")

	c := code(t, secret)
	wantResult(t, authenticate(t, conf, "alice", answers(c)), nil)
	l := authenticate(t, conf, "alice", answers(c))
	wantResult(t, l, pam.ErrAuth)
	auditHas(t, d.Sock, "alice", "deny", "replayed-code")
	if !strings.Contains(strings.Join(l.conv.errs, "\n"), "already used") {
		t.Errorf("errors = %q, want the daemon's replay message relayed", l.conv.errs)
	}
}

func TestNotRequiredUserIsSkipped(t *testing.T) {
	d := startDaemon(t)
	t.Run("skip=ignore returns PAM_IGNORE", func(t *testing.T) {
		l := authenticate(t, writeStack(t, "socket="+d.Sock), testenv.OSAccount, nil)
		wantResult(t, l, errIgnored)
		if len(l.conv.prompts) != 0 {
			t.Errorf("prompted %q, want no prompt", l.conv.prompts)
		}
		auditHas(t, d.Sock, testenv.OSAccount, "skip", "not-required")
	})
	t.Run("skip=success returns PAM_SUCCESS", func(t *testing.T) {
		wantResult(t, authenticate(t, writeStack(t, "socket="+d.Sock, "skip=success"), testenv.OSAccount, nil), nil)
	})
}

func TestLoginIsAuditedWithWhereItCameFrom(t *testing.T) {
	d := startDaemon(t)
	wantResult(t, authenticate(t, writeStack(t, "socket="+d.Sock), testenv.OSAccount, nil), errIgnored)
	e := auditHas(t, d.Sock, testenv.OSAccount, "skip", "not-required")
	want := auditEvent{Kind: "login", User: testenv.OSAccount, Actor: "pam", Surface: "ssh", Service: "sshd",
		RHost: "192.0.2.7", TTY: "ssh", Verdict: "skip", Reason: "not-required"}
	if e != want {
		t.Errorf("audited %+v\nwant     %+v", e, want)
	}
}

var uriSecretRE = regexp.MustCompile(`secret=([A-Z2-7]+)`)

func TestEnrollmentPeriodUser(t *testing.T) {
	d := startDaemon(t)
	conf := writeStack(t, "socket="+d.Sock, "timeout=5")

	t.Run("pressing Enter postpones setup and skips", func(t *testing.T) {
		d.Admin(t, "user", "require", "carol", "--enroll-days", "7")
		l := authenticate(t, conf, "carol", answers(""))
		wantResult(t, l, errIgnored)
		if len(l.conv.prompts) != 1 {
			t.Errorf("prompts = %q, want the one setup offer", l.conv.prompts)
		}
		auditHas(t, d.Sock, "carol", "skip", "enrollment-period")
	})

	t.Run("setting up in-band allows and then asks for codes", func(t *testing.T) {
		d.Admin(t, "user", "require", "dave", "--enroll-days", "7")
		var secret string
		l := authenticate(t, conf, "dave", func(c *convo, _ string, _ bool) (string, error) {
			for _, info := range c.infos {
				if m := uriSecretRE.FindStringSubmatch(info); m != nil {
					secret = m[1]
				}
			}
			if secret == "" {
				t.Errorf("setup offered without an otpauth:// URI among the infos: %q", c.infos)
				return "", nil
			}
			return totp.GenerateCode(secret, time.Now())
		})
		wantResult(t, l, nil)
		if !hasQRRows(l.conv.infos) {
			t.Errorf("no QR code rows among the infos: %q", l.conv.infos)
		}
		auditHas(t, d.Sock, "dave", "allow", "enrolled")
		// Enrolled now: the next login is a normal code prompt. The step
		// that confirmed setup counts as used; the next one is within the
		// daemon's clock skew.
		next, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		l = authenticate(t, conf, "dave", answers(next))
		wantResult(t, l, nil)
		auditHas(t, d.Sock, "dave", "allow", "totp")
	})
}

func hasQRRows(infos []string) bool {
	for _, s := range infos {
		if strings.ContainsAny(s, "█▀▄") {
			return true
		}
	}
	return false
}

func TestExpiredEnrollmentIsDenied(t *testing.T) {
	var offset atomic.Int64
	sock := startClockDaemon(t, &offset)
	adminAt(t, sock, "org", "totp", "enable")
	adminAt(t, sock, "device", "mfa", "enable")
	// "root" exists everywhere, so its one-day period starts now.
	adminAt(t, sock, "user", "require", "root", "--enroll-days", "1")
	offset.Store(int64(49 * time.Hour))

	l := authenticate(t, writeStack(t, "socket="+sock), "root", nil)
	wantResult(t, l, pam.ErrAuth)
	auditHas(t, sock, "root", "deny", "enrollment-expired")
	if !strings.Contains(strings.Join(l.conv.errs, "\n"), "administrator") {
		t.Errorf("errors = %q, want the daemon's 'contact your administrator' message", l.conv.errs)
	}
}

func TestLockedOutUserGetsMaxTries(t *testing.T) {
	d := startDaemon(t)
	d.Admin(t, "settings", "--attempts", "2", "--lockout", "0")
	secret := enroll(t, d.Sock, "erin")
	conf := writeStack(t, "socket="+d.Sock, "timeout=5")

	for i := 0; i < 2; i++ {
		wantResult(t, authenticate(t, conf, "erin", answers("000000x")), pam.ErrAuth)
	}
	l := authenticate(t, conf, "erin", nil) // locked: no prompt at all
	wantResult(t, l, pam.ErrMaxtries)
	auditHas(t, d.Sock, "erin", "deny", "locked-out")
	if len(l.conv.prompts) != 0 || len(l.conv.errs) == 0 {
		t.Errorf("locked out: prompts %q errors %q, want no prompt and a message", l.conv.prompts, l.conv.errs)
	}

	d.Admin(t, "user", "unlock", "erin")
	wantResult(t, authenticate(t, conf, "erin", answers(code(t, secret))), nil)
}

func TestConversationFailureIsConvErr(t *testing.T) {
	d := startDaemon(t)
	enroll(t, d.Sock, "alice")
	l := authenticate(t, writeStack(t, "socket="+d.Sock), "alice", answers())
	wantResult(t, l, pam.ErrConv)
}

func TestUnknownArgumentIsNotFatal(t *testing.T) {
	d := startDaemon(t)
	secret := enroll(t, d.Sock, "alice")
	conf := writeStack(t, "socket="+d.Sock, "no_such_option", "timeout=banana", "debug")
	wantResult(t, authenticate(t, conf, "alice", answers(code(t, secret))), nil)
}

func TestDaemonAbsent(t *testing.T) {
	needBuild(t)
	missing := shortSocket(t) // a directory with no socket in it
	for _, tc := range []struct {
		failmode string
		want     error
	}{
		{"secure", pam.ErrAuth},
		{"safe", nil},
	} {
		t.Run("failmode="+tc.failmode, func(t *testing.T) {
			l := authenticate(t, writeStack(t, "socket="+missing, "failmode="+tc.failmode), "alice", nil)
			wantResult(t, l, tc.want)
			if l.elapsed > time.Second {
				t.Errorf("took %v to notice a missing socket", l.elapsed)
			}
		})
	}
	t.Run("default is secure", func(t *testing.T) {
		wantResult(t, authenticate(t, writeStack(t, "socket="+missing), "alice", nil), pam.ErrAuth)
	})
	// A socket file left by a daemon that died: nothing listens on it
	// (ECONNREFUSED on Linux), so the daemon is absent too.
	t.Run("stale socket, failmode=safe", func(t *testing.T) {
		stale := testenv.StaleSocket(t, socketDir)
		wantResult(t, authenticate(t, writeStack(t, "socket="+stale, "failmode=safe"), "alice", nil), nil)
		wantResult(t, authenticate(t, writeStack(t, "socket="+stale, "failmode=secure"), "alice", nil), pam.ErrAuth)
	})
}

func TestSilentDaemonTimesOut(t *testing.T) {
	needBuild(t)
	// Accepts, reads, and never says a word.
	sock := fakeDaemon(t, func(r *bufio.Reader, _ net.Conn) {
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
	})
	const timeout = 2 * time.Second
	// failmode=safe means "the daemon is not there", never "the daemon is
	// slow": a local user who can make it slow (a connection flood) would
	// otherwise get everyone in without a code.
	for _, tc := range []struct {
		failmode string
		want     error
	}{
		{"secure", pam.ErrAuth},
		{"safe", pam.ErrAuth},
	} {
		t.Run("failmode="+tc.failmode, func(t *testing.T) {
			l := authenticate(t, writeStack(t, "socket="+sock, "timeout=2", "failmode="+tc.failmode), "alice", nil)
			wantResult(t, l, tc.want)
			if l.elapsed < timeout || l.elapsed > timeout+time.Second {
				t.Errorf("returned after %v, want within timeout=2 (+1s)", l.elapsed)
			}
		})
	}
}

// A daemon that asked for a code had decided one is needed: if the channel
// breaks after that, failmode=safe must not turn the break into a way in.
func TestChannelBrokenAfterAskDeniesEvenWhenSafe(t *testing.T) {
	needBuild(t)
	sock := fakeDaemon(t, func(r *bufio.Reader, w net.Conn) {
		r.ReadString('\n') // HELLO
		w.Write([]byte("HELLO 1\n"))
		r.ReadString('\n') // LOGIN
		w.Write([]byte("ASK echo=off text=Verification%20code%3A%20\n"))
		r.ReadString('\n') // ANSWER, then hang up without a verdict
	})
	l := authenticate(t, writeStack(t, "socket="+sock, "failmode=safe", "timeout=2"), "alice", answers("123456"))
	wantResult(t, l, pam.ErrAuth)
}

func TestGarbledDaemonLineIsBroken(t *testing.T) {
	needBuild(t)
	for _, tc := range []struct{ name, reply string }{
		{"wrong version", "HELLO 2\n"},
		{"bad escape", "HELLO 1\nINFO text=%ZZ\n"},
		{"unknown verb", "HELLO 1\nDANCE\n"},
		{"verdict word", "HELLO 1\nVERDICT maybe\n"},
		{"no newline before close", "HELLO 1\nVERDICT allow"},
		{"overlong line", "HELLO 1\nINFO text=" + strings.Repeat("x", 5000) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := fakeDaemon(t, func(r *bufio.Reader, w net.Conn) {
				r.ReadString('\n')
				w.Write([]byte(tc.reply))
				r.ReadString('\n')
			})
			wantResult(t, authenticate(t, writeStack(t, "socket="+sock, "timeout=2"), "alice", nil), pam.ErrAuth)
			// A daemon that answers garbage is there: safe does not apply.
			wantResult(t, authenticate(t, writeStack(t, "socket="+sock, "timeout=2", "failmode=safe"), "alice", nil), pam.ErrAuth)
		})
	}
}
