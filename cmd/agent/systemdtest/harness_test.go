//go:build linux

package systemdtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

var (
	agentBin string
	buildErr error
	sockDir  string // short: sun_path holds 108 bytes
)

func TestMain(m *testing.M) {
	testenv.Main(m, "jcmfa-sd", func(dir string) {
		sockDir = dir
		agentBin, buildErr = testenv.BuildAgent(dir)
	})
}

// launch is one `jcmfa-agent run` started as systemd starts a service.
type launch struct {
	passed   []*os.File    // descriptors 3, 4, ...: LISTEN_FDS
	socket   string        // --socket
	state    string        // --state-dir (shared across restarts)
	watchdog time.Duration // WATCHDOG_USEC; 0: none
}

// daemon is a running one.
type daemon struct {
	cmd    *exec.Cmd
	log    *testenv.SyncBuffer
	notes  <-chan string // what it sent to NOTIFY_SOCKET
	exited <-chan struct{}
}

func start(t *testing.T, l launch) *daemon {
	t.Helper()
	testenv.Need(t, buildErr)
	notify, notes := testenv.NotifySocket(t)
	// sh's exec keeps its pid, which LISTEN_PID and WATCHDOG_PID must be.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ WATCHDOG_PID=$$ exec "$@"`, "sh",
		agentBin, "run", "--state-dir", l.state, "--socket", l.socket)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify, fmt.Sprintf("LISTEN_FDS=%d", len(l.passed)))
	if len(l.passed) == 0 {
		cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify)
	}
	if l.watchdog > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("WATCHDOG_USEC=%d", l.watchdog.Microseconds()))
	}
	cmd.ExtraFiles = l.passed
	d := &daemon{cmd: cmd, log: &testenv.SyncBuffer{}, notes: notes}
	cmd.Stdout, cmd.Stderr = d.log, d.log
	d.exited = testenv.StartChild(t, "daemon", cmd, d.log)
	return d
}

// await returns the first notification that starts with prefix, failing
// the test if none comes within 15 s.
func (d *daemon) await(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	exited := d.exited
	for {
		select {
		case n := <-d.notes:
			if strings.HasPrefix(n, prefix) {
				return n
			}
		case <-exited:
			// What it sent just before exiting may still be on its way.
			exited, deadline = nil, time.After(time.Second)
		case <-deadline:
			if exited == nil {
				t.Fatalf("daemon exited without sending %q:\n%s", prefix, d.log)
			}
			t.Fatalf("no %q from the daemon within 15s:\n%s", prefix, d.log)
		}
	}
}

// stop sends SIGTERM, as systemctl stop does, and waits for the exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("daemon did not stop within 15s of SIGTERM:\n%s", d.log)
	}
}

// systemdSocket makes the socket a jcmfa-agent.socket unit would, with a
// mode the daemon's own socket never has (0660), so a chmod would show,
// and returns it with the descriptor to pass.
func systemdSocket(t *testing.T) (string, *net.UnixListener, *os.File) {
	t.Helper()
	path := testenv.ShortSocket(t, sockDir)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false) // the test removes its directory
	t.Cleanup(func() { l.Close() })
	if err := os.Chmod(path, 0o660); err != nil {
		t.Fatal(err)
	}
	f, err := l.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return path, l, f
}

// TestDaemonServesSystemdsSocketAndLeavesItQueueing is socket
// activation end to end: the daemon serves the passed socket, says
// READY=1 once it does, pings the watchdog, says STOPPING=1 at SIGTERM,
// and leaves the socket file as systemd made it (same inode, same mode).
// A login that connects while no daemon runs waits in the queue and is
// answered by the next daemon.
func TestDaemonServesSystemdsSocketAndLeavesItQueueing(t *testing.T) {
	path, _, f := systemdSocket(t)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	d := start(t, launch{passed: []*os.File{f}, socket: path, state: state, watchdog: 600 * time.Millisecond})
	ready := d.await(t, "READY=1")
	if !strings.Contains(ready, "STATUS=serving logins on "+path) {
		t.Fatalf("READY notification %q lacks the status", ready)
	}
	// Ready means answering.
	testenv.Admin(t, agentBin, path, "users")
	if !strings.Contains(d.log.String(), "serving the socket systemd passed") {
		t.Fatalf("log does not say it serves systemd's socket:\n%s", d.log)
	}
	pings := 0
	for end := time.After(time.Second); pings >= 0; {
		select {
		case n := <-d.notes:
			if n == "WATCHDOG=1" {
				pings++
			}
		case <-end:
			if pings < 3 {
				t.Fatalf("%d watchdog pings in 1s with WatchdogSec=0.6s, want about 5", pings)
			}
			pings = -1
		}
	}

	d.stop(t)
	if n := d.await(t, "STOPPING=1"); !strings.Contains(n, "STATUS=stopping") {
		t.Fatalf("STOPPING notification %q lacks the status", n)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the daemon removed systemd's socket: %v", err)
	}
	if !os.SameFile(before, after) || after.Mode() != before.Mode() {
		t.Fatalf("systemd's socket changed: %v → %v (same file: %v)", before.Mode(), after.Mode(), os.SameFile(before, after))
	}

	// A login during the restart: connect and say HELLO with no daemon
	// running; the kernel queues it on systemd's socket.
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		t.Fatalf("connecting while the daemon is down: %v (systemd's socket no longer listens)", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("HELLO 1 pam\n")); err != nil {
		t.Fatal(err)
	}
	d2 := start(t, launch{passed: []*os.File{f}, socket: path, state: state})
	d2.await(t, "READY=1")
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "HELLO 1\n" {
		t.Fatalf("the queued login got %q, %v from the restarted daemon, want HELLO 1:\n%s", line, err, d2.log)
	}
}

// TestPassedSocketElsewhereIsServedWithAWarning: --socket and the socket
// unit disagree; logins reach the passed socket, so that is served, and
// the log names both paths. Nothing is created at --socket.
func TestPassedSocketElsewhereIsServedWithAWarning(t *testing.T) {
	path, _, f := systemdSocket(t)
	other := filepath.Join(filepath.Dir(path), "other.sock")
	d := start(t, launch{passed: []*os.File{f}, socket: other, state: filepath.Join(t.TempDir(), "state")})
	d.await(t, "READY=1")
	testenv.Admin(t, agentBin, path, "users")
	var warned bool
	for _, line := range strings.Split(d.log.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, path) && strings.Contains(line, other) {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no warning naming %s and %s:\n%s", path, other, d.log)
	}
	if _, err := os.Lstat(other); err == nil {
		t.Fatalf("the daemon created %s as well", other)
	}
}

// TestWrongPassedSocketsStopTheDaemon: a socket unit that passes two
// sockets is a mistake the daemon names rather than guesses around.
func TestWrongPassedSocketsStopTheDaemon(t *testing.T) {
	_, _, f1 := systemdSocket(t)
	_, _, f2 := systemdSocket(t)
	d := start(t, launch{passed: []*os.File{f1, f2}, socket: testenv.ShortSocket(t, sockDir), state: filepath.Join(t.TempDir(), "state")})
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("daemon still running with two passed sockets:\n%s", d.log)
	}
	if d.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(d.log.String(), "systemd passed 2 sockets") {
		t.Fatalf("exit %d, log:\n%s\nwant a failure naming the two sockets", d.cmd.ProcessState.ExitCode(), d.log)
	}
	select {
	case n := <-d.notes:
		if strings.HasPrefix(n, "READY=1") {
			t.Fatalf("said READY=1 without a socket to serve")
		}
	default:
	}
}

// TestWithoutSystemdTheDaemonMakesItsOwnSocket: no LISTEN_FDS, as when
// started by hand or by make trial: the daemon creates its socket (0666)
// and removes it when it stops, as it always has.
func TestWithoutSystemdTheDaemonMakesItsOwnSocket(t *testing.T) {
	path := testenv.ShortSocket(t, sockDir)
	d := start(t, launch{socket: path, state: filepath.Join(t.TempDir(), "state")})
	d.await(t, "READY=1")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o666 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("own socket: %v %v, want a 0666 socket", fi, err)
	}
	d.stop(t)
	if _, err := os.Lstat(path); err == nil {
		t.Fatal("its own socket is left behind after a clean stop")
	}
}
