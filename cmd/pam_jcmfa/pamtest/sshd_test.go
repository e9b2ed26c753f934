//go:build linux && cgo

package pamtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The sshd behaviour tests (right and wrong codes, publickey then code,
// password then keyboard-interactive, in-band enrollment) live in
// ../sshdtest; this harness drives the OpenSSH client instead, for the
// latency comparison in latency_test.go.

// sshdHarness is a real OpenSSH server on 127.0.0.1 with its own config,
// host key and authorized key, whose PAM service is a file of our own in
// /etc/pam.d: sshd names its PAM service after the name it was run as, so
// it runs through a symlink called jcmfa-test-<pid>-<n>, and the system's sshd
// stack is never read or touched. The file is removed when the test ends.
type sshdHarness struct {
	dir, port, key, codeFile, askpass string
}

const sshTimeout = 30 * time.Second

var sshdCount atomic.Int32 // one PAM service name per sshd

func needSSHD(t *testing.T) {
	t.Helper()
	needBuild(t)
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (sshd and /etc/pam.d)")
	}
	for _, p := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen", "setsid"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("real-sshd test needs %s (Debian: apt-get install openssh-server openssh-client)",
		strings.Join(missing, ", "))
	if inCI {
		t.Fatal(msg)
	}
	t.Skip("skipping: " + msg)
}

// jcmfaAuth is the PAM auth line for pam_jcmfa with args.
func jcmfaAuth(args ...string) string {
	return "auth required " + moduleSO + " " + strings.Join(args, " ")
}

// startSSHD writes the config and the PAM stack (authLine, then permissive
// account and session lines) and starts sshd -D on a free port.
func startSSHD(t *testing.T, sshdConfig, authLine string) *sshdHarness {
	t.Helper()
	h := &sshdHarness{dir: t.TempDir()}
	run := func(name string, args ...string) {
		if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
	}
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(h.dir, "hostkey"))
	h.key = filepath.Join(h.dir, "id")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", h.key)
	pub, err := os.ReadFile(h.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	service := fmt.Sprintf("jcmfa-test-%d-%d", os.Getpid(), sshdCount.Add(1))
	pamFile := filepath.Join("/etc/pam.d", service)
	stack := authLine + "\naccount required pam_permit.so\nsession required pam_permit.so\n"
	if err := os.WriteFile(pamFile, []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(pamFile) })

	conf := fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
UsePAM yes
PermitRootLogin yes
StrictModes no
LogLevel DEBUG1
%s
`, h.port, filepath.Join(h.dir, "hostkey"), filepath.Join(h.dir, "sshd.pid"),
		filepath.Join(h.dir, "authorized_keys"), sshdConfig)
	confPath := filepath.Join(h.dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(h.dir, service)
	if err := os.Symlink("/usr/sbin/sshd", bin); err != nil {
		t.Fatal(err)
	}
	// Privilege separation needs it; packages create it at boot.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, "-t", "-f", confPath).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v\n%s", err, b)
	}
	log := &syncBuffer{}
	cmd := exec.Command(bin, "-D", "-e", "-f", confPath)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("sshd log:\n%s", log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", "127.0.0.1:"+h.port); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %s:\n%s", h.port, log)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The OpenSSH client answers keyboard-interactive prompts through
	// SSH_ASKPASS when it has no terminal: codes from codeFile, and a
	// non-code for sshd's own password prompt.
	h.codeFile = filepath.Join(h.dir, "code")
	h.askpass = filepath.Join(h.dir, "askpass")
	script := fmt.Sprintf("#!/bin/sh\ncase \"$1\" in\n*\"'s password\"*) echo not-a-code ;;\n*) cat %s ;;\nesac\n", h.codeFile)
	if err := os.WriteFile(h.askpass, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

// login runs `ssh root@127.0.0.1 echo LOGGED-IN`, answering every code
// prompt with code. It returns whether the command ran, and how long it took.
func (h *sshdHarness) login(t *testing.T, code string, opts ...string) (bool, time.Duration, string) {
	t.Helper()
	if err := os.WriteFile(h.codeFile, []byte(code+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-w", "ssh", "-p", h.port, "-i", h.key, "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=10"}
	args = append(args, opts...)
	args = append(args, "root@127.0.0.1", "echo", "LOGGED-IN")
	cmd := exec.Command("setsid", args...) // no controlling terminal: askpass answers
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+h.askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
	start := time.Now()
	done := make(chan struct{})
	var out []byte
	go func() { out, _ = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(sshTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("ssh login hung for %v:\n%s", sshTimeout, out)
	}
	return strings.Contains(string(out), "LOGGED-IN"), time.Since(start), string(out)
}
