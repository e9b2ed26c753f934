//go:build linux && cgo

package benchtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshSamples is the number of timed logins per PAM stack.
const sshSamples = 300

// accounts creates the OS accounts sshd needs (it refuses unknown names)
// for the first n users, with no home and a locked password, and removes
// them when the run ends.
func accounts(tb testing.TB, n int) {
	tb.Helper()
	for i := range n {
		name := userName(i)
		exec.Command("userdel", name).Run() // a leftover of an interrupted run
		if out, err := exec.Command("useradd", "--no-create-home", "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
			tb.Fatalf("useradd %s: %v %s", name, err, out)
		}
		atExit(func() { exec.Command("userdel", name).Run() })
	}
}

type sshServer struct {
	addr    string
	pamFile string
	log     bytes.Buffer
}

// startSSHD runs a copy of /usr/sbin/sshd under a private name (its PAM
// service name) on 127.0.0.1, keyboard-interactive only, so every login
// goes through the PAM stack in /etc/pam.d/<name>.
func startSSHD(tb testing.TB) *sshServer {
	tb.Helper()
	name := fmt.Sprintf("jcmfa-bench-sshd-%d", os.Getpid())
	dir := filepath.Join(work, "sshd")
	os.MkdirAll(dir, 0o755)
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	bin := filepath.Join(dir, name)
	data, err := os.ReadFile("/usr/sbin/sshd")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		tb.Fatal(err)
	}
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		tb.Fatalf("ssh-keygen: %v %s", err, out)
	}
	s := &sshServer{pamFile: "/etc/pam.d/" + name}
	atExit(func() { os.Remove(s.pamFile) })
	s.setPAM(tb, "auth required pam_permit.so")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.addr = "127.0.0.1:" + strconv.Itoa(port)
	cfg := []string{
		"Port " + strconv.Itoa(port), "ListenAddress 127.0.0.1", "HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "pid"), "UsePAM yes",
		"KbdInteractiveAuthentication yes", "PasswordAuthentication no", "PubkeyAuthentication no",
		"AuthenticationMethods keyboard-interactive", "UseDNS no",
		"MaxStartups 200", "MaxAuthTries 10", "LogLevel ERROR",
	}
	cfgFile := filepath.Join(dir, "sshd_config")
	os.WriteFile(cfgFile, []byte(strings.Join(cfg, "\n")+"\n"), 0o644)
	cmd := exec.Command(bin, "-D", "-e", "-f", cfgFile)
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return s.log.Write(p) })
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	atExit(func() { cmd.Process.Kill(); <-done })
	for range 200 {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("sshd did not start")
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// setPAM replaces the PAM stack; sshd reads it at the next connection.
func (s *sshServer) setPAM(tb testing.TB, auth string) {
	stack := auth + "\naccount required pam_permit.so\nsession required pam_permit.so\n"
	if err := os.WriteFile(s.pamFile, []byte(stack), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// login is one whole SSH authentication: TCP connect, key exchange,
// keyboard-interactive answered with answer, then disconnect.
func (s *sshServer) login(user, answer string) error {
	kbd := ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		a := make([]string, len(qs))
		for i := range a {
			a[i] = answer
		}
		return a, nil
	})
	cfg := &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{kbd},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second}
	c, err := ssh.Dial("tcp", s.addr, cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

// BenchmarkSSH: whole SSH logins to one sshd, its PAM stack switched
// between the modules. The logins of the four stacks are interleaved
// (round robin, one login each in turn) so that anything else the machine
// does falls on every stack alike; each stack's PAM file is written before
// its login, untimed.
func BenchmarkSSH(b *testing.B) {
	need(b)
	loginSetup(b)
	if err := peerFiles(); err != nil {
		b.Fatal(err)
	}
	accounts(b, sshUsers)
	srv := startSSHD(b)
	modules := []string{"pam_permit", "google-authenticator", "pam_oath", "pam_jcmfa"}
	cases := map[string]loginCase{}
	for _, m := range modules {
		cases[m] = caseFor(m)
	}
	// Only the first sshUsers have OS accounts; the same records of used
	// steps as in BenchmarkPAM.
	cases["pam_oath"] = allocator("pam_oath").first(sshUsers).fresh
	cases["pam_jcmfa"] = allocator("pam_jcmfa").first(sshUsers).fresh
	lat := map[string]latencies{}
	one := func(m string) time.Duration {
		srv.setPAM(b, stackFor(m))
		user, answer := cases[m]()
		if m == "pam_permit" || m == "google-authenticator" {
			user = userName(int(time.Now().UnixNano()) % sshUsers)
		}
		t0 := time.Now()
		err := srv.login(user, answer)
		took := time.Since(t0)
		if err != nil {
			b.Fatalf("%s: ssh login %s: %v\nsshd: %s", m, user, err, srv.log.String())
		}
		return took
	}
	for _, m := range modules {
		for range 5 {
			one(m)
		}
	}
	b.ResetTimer()
	for range b.N {
		for range sshSamples {
			for _, m := range modules {
				lat[m] = append(lat[m], one(m))
			}
		}
	}
	b.StopTimer()
	for _, m := range modules {
		b.Run(m, func(b *testing.B) { report(b, secSSH, m, lat[m]) })
	}
}
