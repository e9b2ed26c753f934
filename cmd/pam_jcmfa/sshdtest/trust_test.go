package sshdtest

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
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
