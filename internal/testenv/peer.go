//go:build !windows

package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Nobody is the uid (and gid) the unprivileged peer tests run as.
const Nobody = 65534

// ChildEnv names the environment variable that tells a re-executed test
// binary which child role to play (see AsUID); the package's init or
// TestMain reads it.
const ChildEnv = "JCMFA_TEST_CHILD"

// AsUID returns a command that runs this test binary again as uid (and
// gid = uid), with ChildEnv=role and env added, and no tests selected: the
// binary is copied where that uid can execute it, removed when the test
// ends. The socket's directory must be reachable by uid (ShortSocket and
// RunDaemon make it 0755). Needs root: a skip, or a failure under CI.
func AsUID(tb testing.TB, uid int, role string, env ...string) *exec.Cmd {
	tb.Helper()
	if os.Geteuid() != 0 {
		Need(tb, errors.New("needs root to run a peer as another uid (CI runs as root)"))
	}
	dir, err := os.MkdirTemp("", "jcmfa-peer")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "peer.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append([]string{ChildEnv + "=" + role, "PATH=/usr/bin:/bin"}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	return cmd
}

// FloodStats is what Flood saw, printed by the child as one line.
type FloodStats struct {
	Connected, Refused, Failed int64
}

func (f FloodStats) String() string {
	return fmt.Sprintf("flood connected=%d refused=%d failed=%d", f.Connected, f.Refused, f.Failed)
}

// Flood is the hostile local user of issue 13: it keeps conns connections
// to sock open for d, each idle (it sends nothing), and opens a new one as
// soon as the daemon closes one. A connection the daemon refuses for being
// over the caps counts as Refused (it said reason=busy), one that could
// not even connect as Failed. It stops by itself after d; every
// connection is closed when it returns.
func Flood(sock string, conns int, d time.Duration) FloodStats {
	var st FloodStats
	var connected, refused, failed atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 512)
			for time.Now().Before(end) {
				c, err := net.DialTimeout("unix", sock, time.Until(end))
				if err != nil {
					failed.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				connected.Add(1)
				c.SetReadDeadline(end)
				var got []byte
				for {
					n, err := c.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						break
					}
				}
				if strings.Contains(string(got), "reason=busy") {
					refused.Add(1)
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	st.Connected, st.Refused, st.Failed = connected.Load(), refused.Load(), failed.Load()
	return st
}

// ReadUntil reads lines from r until one starts with prefix, or fails the
// test at the deadline; it returns that line and the lines before it.
func ReadUntil(tb testing.TB, r *bufio.Reader, prefix string, timeout time.Duration) (string, []string) {
	tb.Helper()
	type res struct {
		line string
		err  error
	}
	var before []string
	deadline := time.After(timeout)
	for {
		ch := make(chan res, 1)
		go func() { l, err := r.ReadString('\n'); ch <- res{l, err} }()
		select {
		case x := <-ch:
			if x.err != nil && x.line == "" {
				tb.Fatalf("child ended before %q: %v\n%s", prefix, x.err, strings.Join(before, ""))
			}
			if strings.HasPrefix(x.line, prefix) {
				return strings.TrimSpace(x.line), before
			}
			before = append(before, x.line)
			if x.err == io.EOF {
				tb.Fatalf("child ended before %q:\n%s", prefix, strings.Join(before, ""))
			}
		case <-deadline:
			tb.Fatalf("no %q from the child within %v:\n%s", prefix, timeout, strings.Join(before, ""))
		}
	}
}
