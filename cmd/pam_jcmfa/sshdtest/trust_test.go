package sshdtest

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

// loginFrom is login with the client's socket bound to src (a loopback
// address such as 127.0.0.2), so sshd sees that as the remote host, as
// `ssh -b 127.0.0.2` would make it.
func (s *sshd) loginFrom(src, user string, methods ...ssh.AuthMethod) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 20 * time.Second}
	conn, err := d.Dial("tcp", s.addr)
	if err != nil {
		return err
	}
	cfg := &ssh.ClientConfig{User: user, Auth: methods, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second}
	c, chans, reqs, err := ssh.NewClientConn(conn, s.addr, cfg)
	if err != nil {
		conn.Close()
		return err
	}
	return ssh.NewClient(c, chans, reqs).Close()
}

// TestSSHTrustedNetworkSkipsTheCode is row N1 over the real sshd: the same
// account from 127.0.0.2 (trusted) is not asked, from 127.0.0.1 it is.
func TestSSHTrustedNetworkSkipsTheCode(t *testing.T) {
	need(t)
	a := startAgent(t)
	osUser(t, "jcmfa-e2enet")
	sec := a.enroll(t, "jcmfa-e2enet")
	a.Admin(t, "settings", "--trusted-networks", "127.0.0.2/32")
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no", "UseDNS no")

	k := codeAnswer(t, sec)
	if err := s.loginFrom("127.0.0.2", "jcmfa-e2enet", ssh.KeyboardInteractive(k.challenge)); err != nil {
		t.Fatalf("login from the trusted 127.0.0.2: %v\nsshd:\n%s", err, s.logString())
	}
	if len(k.questions) != 0 {
		t.Fatalf("asked %q from a trusted network", k.questions)
	}
	audit := a.Admin(t, "audit", "-n", "1")
	if !strings.Contains(audit, "trusted-network") || !strings.Contains(audit, "127.0.0.2") {
		t.Fatalf("audit:\n%s", audit)
	}

	k = codeAnswer(t, sec)
	if err := s.loginFrom("127.0.0.1", "jcmfa-e2enet", ssh.KeyboardInteractive(k.challenge)); err != nil {
		t.Fatalf("login from 127.0.0.1 with the code: %v\nsshd:\n%s", err, s.logString())
	}
	if len(k.questions) != 1 || !strings.Contains(k.questions[0], "Verification code") {
		t.Fatalf("127.0.0.1 was asked %q, want the code", k.questions)
	}
}

// TestSSHGraceWindowSparesTheSameAddress is row G1 over the real sshd: after
// a login with the code from 127.0.0.1, the next login from 127.0.0.1 is not
// asked, and one from 127.0.0.2 is.
func TestSSHGraceWindowSparesTheSameAddress(t *testing.T) {
	need(t)
	a := startAgent(t)
	osUser(t, "jcmfa-e2egrace")
	sec := a.enroll(t, "jcmfa-e2egrace")
	a.Admin(t, "settings", "--grace", "10m")
	s := startSSHD(t, stack(a.pamLine()), "PasswordAuthentication no", "UseDNS no")

	k := codeAnswer(t, sec)
	if err := s.loginFrom("127.0.0.1", "jcmfa-e2egrace", ssh.KeyboardInteractive(k.challenge)); err != nil || len(k.questions) != 1 {
		t.Fatalf("first login: %v, asked %q\nsshd:\n%s", err, k.questions, s.logString())
	}
	k = codeAnswer(t, sec)
	if err := s.loginFrom("127.0.0.1", "jcmfa-e2egrace", ssh.KeyboardInteractive(k.challenge)); err != nil || len(k.questions) != 0 {
		t.Fatalf("second login from 127.0.0.1: %v, asked %q\nsshd:\n%s", err, k.questions, s.logString())
	}
	audit := a.Admin(t, "audit", "-n", "1")
	if !strings.Contains(audit, "grace") {
		t.Fatalf("audit:\n%s", audit)
	}
	wrong := testenv.WrongCode(t, sec)
	k = &kbd{answer: func(string) string { return wrong }}
	err := s.loginFrom("127.0.0.2", "jcmfa-e2egrace", ssh.KeyboardInteractive(k.challenge))
	if len(k.questions) == 0 || !strings.Contains(k.questions[0], "Verification code") {
		t.Fatalf("127.0.0.2 was not asked (err %v, questions %q)", err, k.questions)
	}
}
