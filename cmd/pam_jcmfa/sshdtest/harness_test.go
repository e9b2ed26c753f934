// Package sshdtest logs into a real sshd on 127.0.0.1 whose PAM stack runs
// the real pam_jcmfa.so against a real jcmfa daemon, with
// golang.org/x/crypto/ssh answering keyboard-interactive as a person would.
//
// sshd names its PAM service after its program name, so each test runs a
// copy of /usr/sbin/sshd under a private name with a private config, host
// key and port, and a PAM file /etc/pam.d/<that name> that is removed
// afterwards; the machine's own sshd and /etc/pam.d/sshd are never touched.
// Needs root, openssh-server, a C compiler and libpam0g-dev; without them the
// tests skip, or fail when $CI is set.
package sshdtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
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

	"github.com/jcmfa/jcmfa/internal/testenv"

	"golang.org/x/crypto/ssh"
)

var (
	moduleSO, agentBin string
	prereq             error // why the tests cannot run here
	work               string
)

func TestMain(m *testing.M) {
	testenv.Main(m, "jcmfa-sshd", func(dir string) {
		os.Chmod(dir, 0o755) // sshd reads its config and keys from here
		work, prereq = dir, build(dir)
	})
}

func build(out string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (to run sshd and add a PAM service and test accounts)")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		return fmt.Errorf("needs openssh-server (apt-get install openssh-server)")
	}
	var err error
	if moduleSO, err = testenv.BuildModule(out); err != nil {
		return err
	}
	agentBin, err = testenv.BuildAgent(out)
	return err
}

func need(tb testing.TB) { tb.Helper(); testenv.Need(tb, prereq) }

// ---- the daemon ---------------------------------------------------------------

type agent struct{ *testenv.Agent }

func startAgent(tb testing.TB) agent { return agent{testenv.StartAgent(tb, agentBin, work)} }

// enroll requires and enrolls user and returns the TOTP secret.
func (a agent) enroll(tb testing.TB, user string) string {
	tb.Helper()
	return testenv.Enroll(tb, agentBin, a.Sock, user)
}

func code(tb testing.TB, secret string) string { tb.Helper(); return testenv.Code(tb, secret) }

// ---- accounts -------------------------------------------------------------------

var userMu sync.Mutex

// osUser creates a local account for the test (sshd refuses unknown names)
// and deletes it afterwards.
func osUser(tb testing.TB, name string) {
	userMu.Lock()
	defer userMu.Unlock()
	exec.Command("userdel", name).Run()
	if out, err := exec.Command("useradd", "--no-create-home", "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
		tb.Fatalf("useradd %s: %v %s", name, err, out)
	}
	tb.Cleanup(func() { exec.Command("userdel", name).Run() })
}

// ---- sshd -------------------------------------------------------------------------

type sshd struct {
	addr      string
	pamFile   string
	log       *bytes.Buffer
	logw      *lockedWriter
	clientKey ssh.Signer
}

var sshdSeq int

// startSSHD runs a private sshd on 127.0.0.1 with the given PAM stack and
// extra configuration lines.
func startSSHD(tb testing.TB, pamStack string, config ...string) *sshd {
	tb.Helper()
	sshdSeq++
	name := fmt.Sprintf("sshd-jcmfa-test-%d-%d", os.Getpid(), sshdSeq)
	dir, _ := os.MkdirTemp(work, "sshd")
	os.Chmod(dir, 0o755)
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	bin := filepath.Join(dir, name)
	data, err := os.ReadFile("/usr/sbin/sshd")
	if err != nil {
		tb.Fatal(err)
	}
	os.WriteFile(bin, data, 0o755)
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		tb.Fatalf("ssh-keygen: %v %s", err, out)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644)

	s := &sshd{pamFile: "/etc/pam.d/" + name, log: &bytes.Buffer{}, clientKey: signer}
	if err := os.WriteFile(s.pamFile, []byte(pamStack), 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.Remove(s.pamFile) })

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.addr = "127.0.0.1:" + strconv.Itoa(port)
	cfg := []string{
		"Port " + strconv.Itoa(port), "ListenAddress 127.0.0.1", "HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "pid"), "UsePAM yes", "KbdInteractiveAuthentication yes",
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"), "StrictModes no",
		"MaxStartups 200", "MaxAuthTries 10", "LogLevel VERBOSE",
	}
	cfg = append(config, cfg...) // sshd keeps the first value: the test's win
	cfgFile := filepath.Join(dir, "sshd_config")
	os.WriteFile(cfgFile, []byte(strings.Join(cfg, "\n")+"\n"), 0o644)
	cmd := exec.Command(bin, "-D", "-e", "-f", cfgFile)
	s.logw = &lockedWriter{w: s.log}
	cmd.Stderr = s.logw
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			return s
		}
		time.Sleep(30 * time.Millisecond)
	}
	tb.Fatalf("sshd did not start:\n%s", s.log)
	return nil
}

// waitLog waits until sshd's log contains substr or the time is up.
func (s *sshd) waitLog(substr string, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(s.logString(), substr) {
			return
		}
	}
}

func (s *sshd) logString() string {
	s.logw.mu.Lock()
	defer s.logw.mu.Unlock()
	return s.log.String()
}

// setPAM replaces the PAM stack; sshd reads it at the next connection.
func (s *sshd) setPAM(tb testing.TB, stack string) {
	if err := os.WriteFile(s.pamFile, []byte(stack), 0o644); err != nil {
		tb.Fatal(err)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// kbd answers every keyboard-interactive question with answer and records
// what sshd showed.
type kbd struct {
	mu        sync.Mutex
	answer    func(question string) string
	questions []string
	instr     []string
}

func (k *kbd) challenge(name, instruction string, questions []string, echos []bool) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if instruction != "" {
		k.instr = append(k.instr, instruction)
	}
	answers := make([]string, len(questions))
	for i, q := range questions {
		k.questions = append(k.questions, q)
		answers[i] = k.answer(q)
	}
	return answers, nil
}

// login runs one SSH authentication with the given methods and closes the
// connection; it returns sshd's refusal as an error.
func (s *sshd) login(user string, methods ...ssh.AuthMethod) error {
	cfg := &ssh.ClientConfig{User: user, Auth: methods, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second}
	c, err := ssh.Dial("tcp", s.addr, cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

// stack is a PAM service whose password step always passes (pam_permit
// stands in for pam_unix, so no test account needs a password), followed
// by auth, as `jcmfa-agent setup ssh` arranges it.
func stack(auth string) string {
	return "auth required pam_permit.so\n" + auth + "\naccount required pam_permit.so\nsession required pam_permit.so\n"
}

func (a agent) pamLine() string {
	return fmt.Sprintf("auth required %s socket=%s timeout=5", moduleSO, a.Sock)
}
