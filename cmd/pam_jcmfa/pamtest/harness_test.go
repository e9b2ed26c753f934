//go:build linux && cgo

package pamtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/testenv"

	"github.com/msteinert/pam/v2"
)

var (
	moduleSO  string // absolute path of the freshly built pam_jcmfa.so
	agentBin  string // absolute path of the freshly built jcmfa-agent
	buildErr  error  // why the two could not be built
	pamDebug  string // pam_debug.so, the marker module that exposes PAM_IGNORE
	repoRoot  string
	inCI      = os.Getenv("CI") != ""
	socketDir string // short: sun_path holds 108 bytes, t.TempDir() names can be longer
)

func TestMain(m *testing.M) {
	testenv.Main(m, "jcmfa-pamtest", func(dir string) { socketDir, buildErr = dir, build(dir) })
}

func build(out string) error {
	root, err := testenv.Root()
	if err != nil {
		return err
	}
	repoRoot = root
	if moduleSO, err = testenv.BuildModule(out); err != nil {
		return err
	}
	if agentBin, err = testenv.BuildAgent(out); err != nil {
		return err
	}
	pamDebug, err = testenv.PAMModule("pam_debug.so")
	return err
}

// needBuild stops a test that cannot run here: a skip on a developer
// machine without the toolchain, a failure in CI where it must run.
func needBuild(t *testing.T) { t.Helper(); testenv.Need(t, buildErr) }

// ---- the daemon -------------------------------------------------------------

func shortSocket(t *testing.T) string { t.Helper(); return testenv.ShortSocket(t, socketDir) }

// startDaemon runs `jcmfa-agent run` in a fresh state directory with TOTP
// switched on for the org and the device, and stops it when the test ends.
func startDaemon(t *testing.T) *testenv.Agent {
	t.Helper()
	needBuild(t)
	return testenv.StartAgent(t, agentBin, socketDir)
}

// adminAt runs one jcmfa-agent admin command against the daemon at sock.
func adminAt(t *testing.T, sock string, args ...string) string {
	t.Helper()
	return testenv.Admin(t, agentBin, sock, args...)
}

// enroll requires MFA of user and sets up TOTP for them; returns the secret.
func enroll(t *testing.T, sock, user string) string {
	t.Helper()
	return testenv.Enroll(t, agentBin, sock, user)
}

func code(t *testing.T, secret string) string { t.Helper(); return testenv.Code(t, secret) }

// ---- the PAM side -------------------------------------------------------------

// errIgnored is what pam_authenticate returns when pam_jcmfa said PAM_IGNORE.
// libpam never returns PAM_IGNORE itself, so the stack written by writeStack
// follows the module with pam_debug.so auth=try_again, reached only then.
var errIgnored = pam.ErrTryAgain

// writeStack writes a private PAM config dir with one service, "sshd", whose
// auth stack exposes exactly what pam_jcmfa returned:
//
//	auth [success=done ignore=ignore default=die] pam_jcmfa.so ARGS
//	auth requisite pam_debug.so auth=try_again
func writeStack(t *testing.T, args ...string) string {
	t.Helper()
	needBuild(t)
	dir := t.TempDir()
	conf := fmt.Sprintf("auth [success=done ignore=ignore default=die] %s %s\nauth requisite %s auth=try_again\n",
		moduleSO, strings.Join(args, " "), pamDebug)
	if err := os.WriteFile(filepath.Join(dir, "sshd"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// convo records what the module showed and answers its prompts.
type convo struct {
	mu      sync.Mutex
	infos   []string
	errs    []string
	prompts []string
	answer  func(c *convo, prompt string, echo bool) (string, error)
}

func (c *convo) RespondPAM(s pam.Style, msg string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s {
	case pam.TextInfo:
		if !strings.HasPrefix(msg, "auth=") { // pam_debug.so's own note
			c.infos = append(c.infos, msg)
		}
		return "", nil
	case pam.ErrorMsg:
		c.errs = append(c.errs, msg)
		return "", nil
	case pam.PromptEchoOff, pam.PromptEchoOn:
		c.prompts = append(c.prompts, msg)
		if c.answer == nil {
			return "", errors.New("test did not expect a prompt")
		}
		return c.answer(c, msg, s == pam.PromptEchoOn)
	}
	return "", errors.New("unexpected conversation style")
}

// answers replies to the prompts in order; more prompts than answers fail
// the conversation, as a person who closed the connection would.
func answers(a ...string) func(*convo, string, bool) (string, error) {
	return func(c *convo, _ string, _ bool) (string, error) {
		n := len(c.prompts) - 1
		if n >= len(a) {
			return "", errors.New("no more answers")
		}
		return a[n], nil
	}
}

type login struct {
	err     error
	elapsed time.Duration
	conv    *convo
}

// authenticate runs one pam_authenticate for user through confDir's "sshd"
// service, with PAM_RHOST and PAM_TTY set as sshd would set them.
func authenticate(t *testing.T, confDir, user string, answer func(*convo, string, bool) (string, error)) login {
	t.Helper()
	c := &convo{answer: answer}
	tx, err := pam.StartConfDir("sshd", user, c, confDir)
	if err != nil {
		t.Fatalf("pam_start_confdir: %v", err)
	}
	defer tx.End()
	if err := tx.SetItem(pam.Rhost, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetItem(pam.Tty, "ssh"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = tx.Authenticate(0)
	return login{err: err, elapsed: time.Since(start), conv: c}
}

func wantResult(t *testing.T, l login, want error) {
	t.Helper()
	if !errors.Is(l.err, want) && !(want == nil && l.err == nil) {
		t.Fatalf("pam_authenticate = %v, want %v\ninfos: %q\nerrors: %q\nprompts: %q",
			l.err, want, l.conv.infos, l.conv.errs, l.conv.prompts)
	}
}

// ---- stand-in daemons for broken channels -------------------------------------

// fakeDaemon listens on a socket and runs script on each connection, for
// daemons that misbehave in ways the real one never does.
func fakeDaemon(t *testing.T, script func(r *bufio.Reader, w net.Conn)) string {
	t.Helper()
	return testenv.FakeDaemon(t, socketDir, script)
}

// auditEvent is the part of `jcmfa-agent audit --json` the tests read.
type auditEvent struct {
	Kind    string `json:"kind"`
	User    string `json:"user"`
	Actor   string `json:"actor"`
	Surface string `json:"surface"`
	Service string `json:"service"`
	RHost   string `json:"rhost"`
	TTY     string `json:"tty"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
}

func auditLog(t *testing.T, sock string) []auditEvent {
	t.Helper()
	var evs []auditEvent
	out := adminAt(t, sock, "audit", "--json")
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	return evs
}

// auditHas checks that the newest login (or in-band enrollment) event of user
// has this verdict and reason: the PAM result alone cannot tell a wrong code
// from a replayed one.
func auditHas(t *testing.T, sock, user, verdict, reason string) auditEvent {
	t.Helper()
	evs := auditLog(t, sock)
	for i := len(evs) - 1; i >= 0; i-- {
		if e := evs[i]; (e.Kind == "login" || e.Kind == "enroll") && e.User == user {
			if e.Verdict != verdict || e.Reason != reason {
				t.Errorf("last login of %s audited as %s/%s, want %s/%s", user, e.Verdict, e.Reason, verdict, reason)
			}
			return e
		}
	}
	t.Errorf("no login of %s in the audit log: %+v", user, evs)
	return auditEvent{}
}
