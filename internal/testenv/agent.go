package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// ShortSocket is a socket path in a new directory under dir. Tests keep dir
// short: sun_path holds 108 bytes on Linux (104 on macOS), and t.TempDir()
// names can be longer.
func ShortSocket(tb testing.TB, dir string) string {
	tb.Helper()
	d, err := os.MkdirTemp(dir, "d")
	if err != nil {
		tb.Fatal(err)
	}
	os.Chmod(d, 0o755) // reachable by tests that connect as another uid
	return filepath.Join(d, "agent.sock")
}

// StartChild starts cmd and stops it when the test ends (SIGINT, then
// SIGKILL after 5 s), showing the end of log if the test failed. The
// channel closes when the process exits.
func StartChild(tb testing.TB, name string, cmd *exec.Cmd, log *SyncBuffer) <-chan struct{} {
	tb.Helper()
	if err := cmd.Start(); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if tb.Failed() {
			out := log.String()
			if len(out) > 8000 {
				out = "…" + out[len(out)-8000:]
			}
			tb.Logf("%s log:\n%s", name, out)
		}
	})
	return exited
}

// DecodeJSON decodes a command's JSON output into v, or fails the test
// with the output.
func DecodeJSON(tb testing.TB, out string, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		tb.Fatalf("decode %T: %v\n%s", v, err, out)
	}
}

// OSAccount is an account every Debian (and macOS) system has and no test
// requires MFA of: a login by it is "not required", where a made-up name
// would be denied as unknown to the OS (docs/policy.md, P24).
const OSAccount = "daemon"

// StaleSocket returns the path of a socket file nothing listens on, as a
// daemon that died leaves it: connecting to it is refused (ECONNREFUSED).
func StaleSocket(tb testing.TB, dir string) string {
	tb.Helper()
	path := ShortSocket(tb, dir)
	l, err := net.Listen("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("stale socket %s: %v", path, err)
	}
	return path
}

// Agent is a real `jcmfa-agent run` in a fresh state directory, with TOTP
// switched on for the org and the device.
type Agent struct {
	Bin, Sock string
	Pid       int // the daemon's process (after wrap's exec: see StartAgentIn)
	log       SyncBuffer
}

// Log is what the daemon has written so far.
func (a *Agent) Log() string { return a.log.String() }

// StartAgent runs bin with its socket under sockDir and stops it (SIGINT,
// then SIGKILL) when the test ends, showing its log if the test failed.
func StartAgent(tb testing.TB, bin, sockDir string) *Agent {
	tb.Helper()
	return StartAgentIn(tb, bin, sockDir)
}

// StartAgentIn is StartAgent with the daemon's command line run by wrap
// (a command and its first arguments), for a daemon that must live in an
// environment the test process does not share, such as a private mount
// namespace with its own NSS. wrap must end by exec'ing the command line it
// is given, so that signals reach the daemon itself.
func StartAgentIn(tb testing.TB, bin, sockDir string, wrap ...string) *Agent {
	tb.Helper()
	a := &Agent{Bin: bin, Sock: ShortSocket(tb, sockDir)}
	argv := append(append([]string{}, wrap...), bin, "run", "--state-dir", filepath.Join(tb.TempDir(), "state"), "--socket", a.Sock)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &a.log, &a.log
	exited := StartChild(tb, "daemon", cmd, &a.log)
	a.Pid = cmd.Process.Pid
	for deadline := time.Now().Add(15 * time.Second); ; {
		if c, err := net.Dial("unix", a.Sock); err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			tb.Fatalf("daemon exited before listening:\n%s", a.Log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("daemon did not listen on %s within 15s:\n%s", a.Sock, a.Log())
		}
	}
	a.Admin(tb, "org", "totp", "enable")
	a.Admin(tb, "device", "mfa", "enable")
	return a
}

// Admin runs one jcmfa-agent command against this daemon.
func (a *Agent) Admin(tb testing.TB, args ...string) string {
	tb.Helper()
	return Admin(tb, a.Bin, a.Sock, args...)
}

// SecretRE finds the secret in an otpauth:// URI.
var SecretRE = regexp.MustCompile(`otpauth://\S*[?&]secret=([A-Z2-7]+)`)

// Enroll requires MFA of user on the daemon at sock and sets up TOTP for
// them through the CLI, as an admin would; it returns the secret.
func Enroll(tb testing.TB, bin, sock, user string) string {
	tb.Helper()
	Admin(tb, bin, sock, "user", "require", user)
	out := Admin(tb, bin, sock, "user", "enroll", user)
	m := SecretRE.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("no otpauth:// URI with a secret in `user enroll %s` output:\n%s", user, out)
	}
	return m[1]
}

// WrongCode is a code for secret that is valid nowhere in the skew window
// around now (two periods of 30 s either side), so a test that sends it is
// refused for certain, not with a chance in a million of being let in.
func WrongCode(tb testing.TB, secret string) string {
	tb.Helper()
	valid := map[string]bool{}
	now := time.Now()
	for d := -2; d <= 2; d++ {
		c, err := totp.GenerateCode(secret, now.Add(time.Duration(d)*30*time.Second))
		if err != nil {
			tb.Fatal(err)
		}
		valid[c] = true
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", (n*7919+13)%1000000); !valid[c] {
			return c
		}
	}
}

// Code is the current code for secret.
func Code(tb testing.TB, secret string) string {
	tb.Helper()
	c, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// SyncBuffer is a bytes.Buffer that one goroutine may write while
// another reads it (a daemon's log while the test inspects it).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FakeDaemon listens on a socket under sockDir and runs script on each
// connection, for daemons that misbehave in ways the real one never does
// (silent, garbled, hanging up). Connections are closed when the test ends.
func FakeDaemon(tb testing.TB, sockDir string, script func(r *bufio.Reader, c net.Conn)) string {
	tb.Helper()
	sock := ShortSocket(tb, sockDir)
	l, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				script(bufio.NewReader(c), c)
			}()
		}
	}()
	return sock
}
