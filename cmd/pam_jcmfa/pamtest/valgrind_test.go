//go:build linux && cgo

package pamtest

import (
	"bufio"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msteinert/pam/v2"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

// TestModuleUnderValgrind runs whole logins through pam_drive (a plain
// libpam application) under valgrind's memcheck: no invalid access, no
// leak, and no file descriptor left open by the module, on each path a
// login can take. Needs valgrind (Debian: apt-get install valgrind).
func TestModuleUnderValgrind(t *testing.T) {
	needBuild(t)
	vg, err := exec.LookPath("valgrind")
	if err != nil {
		if inCI {
			t.Fatal("valgrind is not installed (Debian: apt-get install valgrind)")
		}
		t.Skip("skipping: valgrind is not installed (Debian: apt-get install valgrind)")
	}
	out := filepath.Dir(moduleSO)
	if b, err := exec.Command("make", "-C", filepath.Join(repoRoot, "cmd/pam_jcmfa"), "OUT="+out, "pam-drive").CombinedOutput(); err != nil {
		t.Fatalf("building pam_drive: %v\n%s", err, b)
	}
	drive := filepath.Join(out, "pam_drive")

	d := startDaemon(t)
	secret := enroll(t, d.Sock, "alice")
	d.Admin(t, "user", "require", "carol")
	silent := fakeDaemon(t, func(r *bufio.Reader, _ net.Conn) { r.ReadString('\n'); r.ReadString('\n') })

	for _, tc := range []struct {
		name    string
		socket  string
		user    string
		answers []string
		want    error
	}{
		{"right code", d.Sock, "alice", []string{code(t, secret)}, nil},
		{"wrong code", d.Sock, "alice", []string{"000000x"}, pam.ErrAuth},
		{"not required", d.Sock, testenv.OSAccount, nil, errIgnored},
		{"enrollment offered and declined", d.Sock, "carol", []string{""}, errIgnored},
		{"conversation fails at the prompt", d.Sock, "alice", nil, pam.ErrConv},
		{"daemon absent", filepath.Join(shortSocket(t), "none.sock"), "alice", nil, pam.ErrAuth},
		{"daemon silent", silent, "alice", nil, pam.ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeStack(t, "socket="+tc.socket, "timeout=3", "debug")
			args := append([]string{"--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
				"--track-fds=yes", "--error-exitcode=99", drive, conf, "sshd", tc.user}, tc.answers...)
			cmd := exec.Command(vg, args...)
			cmd.Stdin = nil
			b, err := cmd.CombinedOutput()
			log := string(b)
			var exit *exec.ExitError
			rc := 0
			if errors.As(err, &exit) {
				rc = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if rc == 99 || !strings.Contains(log, "ERROR SUMMARY: 0 errors") {
				t.Fatalf("valgrind found errors:\n%s", log)
			}
			wantRC := 0
			if tc.want != nil {
				wantRC = int(tc.want.(pam.Error))
			}
			if rc != wantRC {
				t.Errorf("pam_authenticate under valgrind = %d, want %d (%v)\n%s", rc, wantRC, tc.want, log)
			}
			if fds := openedFDs(log); len(fds) > 0 {
				t.Errorf("left open at exit: %q\n%s", fds, log)
			}
		})
	}
}

// openedFDs lists the descriptors valgrind's --track-fds found open at
// exit that pam_drive did not inherit (go test may pass some down).
func openedFDs(log string) []string {
	var open []string
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		_, rest, ok := strings.Cut(l, "== Open ")
		if !ok {
			continue
		}
		if i+1 < len(lines) && strings.Contains(lines[i+1], "<inherited from parent>") {
			continue
		}
		open = append(open, rest)
	}
	return open
}
