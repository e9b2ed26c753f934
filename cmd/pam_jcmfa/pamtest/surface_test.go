//go:build linux && cgo

package pamtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/msteinert/pam/v2"
)

// TestModuleDerivesTheSurfaceFromTheService: the module names the surface
// from PAM_SERVICE (sudo, su and pkexec's polkit-1 are sudo; sshd is ssh;
// the rest console), a surface= argument overrides it, and the daemon
// refuses a surface it does not know (row S5).
func TestModuleDerivesTheSurfaceFromTheService(t *testing.T) {
	d := startDaemon(t)
	cases := []struct{ service, args, surface, verdict, reason string }{
		{"sudo", "", "sudo", "skip", "not-required"},
		{"sudo-i", "", "sudo", "skip", "not-required"},
		{"su", "", "sudo", "skip", "not-required"},
		{"su-l", "", "sudo", "skip", "not-required"},
		{"polkit-1", "", "sudo", "skip", "not-required"},
		{"pkexec", "", "sudo", "skip", "not-required"},
		{"sshd", "", "ssh", "skip", "not-required"},
		{"login", "", "console", "skip", "not-required"},
		{"sudo", "surface=rdp", "rdp", "skip", "not-required"},
		{"login", "surface=telnet", "telnet", "deny", "protocol"},
	}
	for _, tc := range cases {
		t.Run(tc.service+"/"+tc.args, func(t *testing.T) {
			dir := t.TempDir()
			conf := fmt.Sprintf("auth required %s socket=%s %s\n", moduleSO, d.Sock, tc.args)
			if err := os.WriteFile(filepath.Join(dir, tc.service), []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			tx, err := pam.StartConfDir(tc.service, "root", &convo{}, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.End()
			tx.Authenticate(0)
			evs := auditLog(t, d.Sock)
			ev := evs[len(evs)-1]
			if ev.Surface != tc.surface || ev.Verdict != tc.verdict || ev.Reason != tc.reason || ev.Service != tc.service {
				t.Fatalf("audited %+v, want surface %s verdict %s/%s", ev, tc.surface, tc.verdict, tc.reason)
			}
		})
	}
}
