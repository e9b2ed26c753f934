// Package plugintest runs the login-window plugin's own C code (plugin.c,
// flow.c and the shared cshim client, exactly what goes into jcmfa.bundle)
// on Linux, against a real jcmfa daemon; ui_test.go adds ui_macos.c, the
// AppKit prompt, over a recording stand-in for objc_msgSend.
//
// authplugin/harness/ap_harness.c plays the macOS authorization engine (the
// AuthorizationCallbacks: context values, hints, SetResult, DidDeactivate)
// and the person at the login window (scripted answers). TestMain builds it
// with `make -C authplugin harness` under ASan/UBSan, and the daemon with
// `go build ./cmd/agent`. Without a C compiler and make the tests skip, or
// fail when $CI is set.
package plugintest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

var (
	harnessBin string
	uiBin      string // ap_uiharness: the same plus ui_macos.c over fake AppKit
	uiBuildErr error
	agentBin   string
	repoRoot   string
	buildErr   error
	inCI       = os.Getenv("CI") != ""
	socketDir  string // short: sun_path is 104 bytes on macOS, 108 here
)

func TestMain(m *testing.M) {
	testenv.Main(m, "jcmfa-ap", func(dir string) { socketDir, buildErr = dir, build(dir) })
}

func build(out string) error {
	root, err := testenv.Root()
	if err != nil {
		return err
	}
	repoRoot = root
	if err := testenv.Make("authplugin", "harness", out, "needs build-essential"); err != nil {
		return err
	}
	harnessBin = filepath.Join(out, "ap_harness")
	// A missing clang stops only the tests of ui_macos.c (needUI).
	if uiBuildErr = testenv.Make("authplugin", "uiharness", out, "needs clang"); uiBuildErr == nil {
		uiBin = filepath.Join(out, "ap_uiharness")
	}
	agentBin, err = testenv.BuildAgent(out)
	return err
}

// needBuild stops a test that cannot run here: a skip on a developer
// machine without the toolchain, a failure in CI where it must run.
func needBuild(t *testing.T) { t.Helper(); testenv.Need(t, buildErr) }

func shortSocket(t *testing.T) string { t.Helper(); return testenv.ShortSocket(t, socketDir) }

// ---- the daemon -------------------------------------------------------------------

// startDaemon runs `jcmfa-agent run` in a fresh state directory with TOTP
// switched on for the org and the device; it is stopped when the test ends.
func startDaemon(t *testing.T) string {
	t.Helper()
	needBuild(t)
	return testenv.StartAgent(t, agentBin, socketDir).Sock
}

func admin(t *testing.T, sock string, args ...string) string {
	t.Helper()
	return testenv.Admin(t, agentBin, sock, args...)
}

// enroll requires MFA of user and sets up TOTP for them; returns the secret.
func enroll(t *testing.T, sock, user string) string {
	t.Helper()
	return testenv.Enroll(t, agentBin, sock, user)
}

func code(t *testing.T, secret string) string { t.Helper(); return testenv.Code(t, secret) }

// lastLogin is the newest audited login of user: the plugin's result alone
// cannot tell a wrong code from a replayed one.
func lastLogin(t *testing.T, sock, user string) (verdict, reason, surface string) {
	t.Helper()
	var evs []struct {
		Kind, User, Verdict, Reason, Surface string
	}
	out := admin(t, sock, "audit", "--json")
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if e := evs[i]; e.Kind == "login" && e.User == user {
			return e.Verdict, e.Reason, e.Surface
		}
	}
	return "", "", ""
}

// fakeDaemon listens on a socket and hands each connection to script, for
// daemons that misbehave in ways the real one never does.
func fakeDaemon(t *testing.T, script func(r *bufio.Reader, c net.Conn)) string {
	t.Helper()
	return testenv.FakeDaemon(t, socketDir, script)
}

// ---- the plugin -------------------------------------------------------------------

// run is what one mechanism invocation did, as ap_harness reports it.
type run struct {
	out     map[string][]string
	log     string
	elapsed time.Duration
}

func (r run) get(key string) string {
	if v := r.out[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

func (r run) String() string {
	return fmt.Sprintf("harness said %v\nplugin log:\n%s", r.out, r.log)
}

// invoke loads the plugin, creates, invokes, deactivates and destroys one
// mechanism, and fails the test if the engine contract was broken.
func invoke(t *testing.T, args ...string) run {
	t.Helper()
	needBuild(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(harnessBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{out: map[string][]string{}, log: stderr.String(), elapsed: time.Since(start)}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.out[k] = append(r.out[k], v)
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		t.Fatalf("plugin broke the engine contract (SetResult once, DidDeactivate on Deactivate):\n%s", r)
	}
	if err != nil {
		t.Fatalf("ap_harness %v: %v\n%s", args, err, r)
	}
	return r
}

// at returns the harness arguments for a login at the login window by the
// account with uid 501, named user, against the daemon at sock.
func at(sock, user string, more ...string) []string {
	return append([]string{"--uid", "501", "--uidmap", "501=" + user, "--right", "system.login.console",
		"--set", "socket=" + sock, "--set", "timeout=5"}, more...)
}

func wantResult(t *testing.T, r run, want string) {
	t.Helper()
	if got := r.get("result"); got != want {
		t.Fatalf("mechanism result = %q, want %q\n%s", got, want, r)
	}
}

func wantPrompts(t *testing.T, r run, n int) {
	t.Helper()
	if got := len(r.out["prompt"]); got != n {
		t.Fatalf("prompted %d times, want %d\n%s", got, n, r)
	}
}
