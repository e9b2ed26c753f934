//go:build linux && cgo

package pamtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/testenv"
)

// fixedAnswer answers every prompt with the same text.
type fixedAnswer string

func (fixedAnswer) Info(string) error                  { return nil }
func (fixedAnswer) Error(string) error                 { return nil }
func (a fixedAnswer) Ask(bool, string) (string, error) { return string(a), nil }

// runAgent starts `jcmfa-agent run` on stateDir and waits for its socket;
// the returned func stops it with sig and returns its log.
func runAgent(t *testing.T, stateDir, sock string) (stop func(sig os.Signal) string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "daemon.log")
	lf, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agentBin, "run", "--state-dir", stateDir, "--socket", sock)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stopped := false
	stop = func(sig os.Signal) string {
		if !stopped {
			stopped = true
			cmd.Process.Signal(sig)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
		b, _ := os.ReadFile(log)
		return string(b)
	}
	t.Cleanup(func() { stop(os.Interrupt) })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return stop
		}
		select {
		case <-exited:
			t.Fatalf("daemon exited before listening:\n%s", stop(os.Kill))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not listen:\n%s", stop(os.Kill))
		}
	}
}

// login runs `jcmfa-agent login USER --code CODE` and returns its last line.
func cliLogin(t *testing.T, sock, user, code string) string {
	t.Helper()
	out, _ := exec.Command(agentBin, "--socket", sock, "login", user, "--code", code).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// The daemon answers a login before its commit reaches the disk. Killed
// with SIGKILL right after allowing a code, it must not let the same code
// in after a restart, whether or not the write made it: the restarted
// daemon sees the unclean stop and fences. A clean stop leaves no fence.
func TestDaemonKilledAfterAllowStillRefusesTheCode(t *testing.T) {
	needBuild(t)
	state := filepath.Join(t.TempDir(), "state")
	sock := shortSocket(t)

	stop := runAgent(t, state, sock)
	adminAt(t, sock, "org", "totp", "enable")
	adminAt(t, sock, "device", "mfa", "enable")
	secret := enroll(t, sock, "root")
	code := testenv.Code(t, secret)
	// Over the socket from this process, so that the kill follows the
	// verdict within microseconds, well inside the 10 ms before the
	// rolling transaction is committed.
	c := ipc.Client{Path: sock, Kind: "test"}
	v, err := c.Login(engine.LoginRequest{User: "root", Surface: "ssh", Interactive: false}, fixedAnswer(code))
	stop(syscall.SIGKILL) // no clean close: the rolling transaction dies with it
	if err != nil || v.Word != engine.Allow {
		t.Fatalf("first login: %v %v, want allow", v, err)
	}

	stop = runAgent(t, state, sock)
	if got := cliLogin(t, sock, "root", code); got != "deny replayed-code" {
		t.Fatalf("same code after the kill and a restart: %q, want deny replayed-code", got)
	}
	log := stop(os.Interrupt)
	if !strings.Contains(log, "stopped without closing the store") {
		t.Fatalf("restarted daemon did not report the unclean stop:\n%s", log)
	}

	stop = runAgent(t, state, sock)
	if log := stop(os.Interrupt); strings.Contains(log, "stopped without closing the store") {
		t.Fatalf("a clean stop was taken for a crash:\n%s", log)
	}
}
