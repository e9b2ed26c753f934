//go:build linux && cgo

package pamtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestRealSSHDLatency measures what the module adds to an SSH login
// (publickey then keyboard-interactive, one code prompt) on one sshd,
// against pam_permit.so (no prompt) and google-authenticator-libpam (one
// code prompt). It only reports; it runs when JCMFA_SSH_LATENCY=1:
//
//	JCMFA_SSH_LATENCY=1 go test -run RealSSHDLatency -v ./cmd/pam_jcmfa/pamtest
func TestRealSSHDLatency(t *testing.T) {
	if os.Getenv("JCMFA_SSH_LATENCY") == "" {
		t.Skip("set JCMFA_SSH_LATENCY=1 to measure SSH login latency")
	}
	needSSHD(t)
	const n = 15
	config := `KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey,keyboard-interactive`
	kbd := []string{"-o", "PreferredAuthentications=publickey,keyboard-interactive"}

	type stack struct {
		name  string
		h     *sshdHarness
		code  func(i int) string
		runs  int
		times []time.Duration
	}
	var stacks []*stack
	noCode := func(int) string { return "" }

	stacks = append(stacks, &stack{name: "pam_permit (no prompt)", code: noCode, runs: n,
		h: startSSHD(t, config, "auth required pam_permit.so")})

	if ga := findPAMModule("pam_google_authenticator.so"); ga != "" {
		secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
		gaFile := filepath.Join(t.TempDir(), "google_authenticator")
		// Codes may be reused here, so that n logins fit in one time step.
		if err := os.WriteFile(gaFile, []byte(secret+"\n\" TOTP_AUTH\n"), 0o400); err != nil {
			t.Fatal(err)
		}
		stacks = append(stacks, &stack{name: "google-authenticator (code)", runs: n,
			code: func(int) string { return code(t, secret) },
			h:    startSSHD(t, config, fmt.Sprintf("auth required %s secret=%s user=root", ga, gaFile))})
	} else {
		t.Log("pam_google_authenticator.so not installed (Debian: libpam-google-authenticator): not compared")
	}

	// Two daemons: root is not required of one and enrolled in the other.
	skipD := startDaemon(t)
	stacks = append(stacks, &stack{name: "pam_jcmfa, no code needed (skip)", code: noCode, runs: n,
		h: startSSHD(t, config, jcmfaAuth("socket="+skipD.sock, "skip=success"))})
	codeD := startDaemon(t)
	adminAt(t, codeD.sock, "user", "require", "root")
	// A code is accepted once per step: before each login (untimed) root
	// gets a fresh secret, so every login is a first use.
	stacks = append(stacks, &stack{name: "pam_jcmfa (code)", runs: n,
		h: startSSHD(t, config, jcmfaAuth("socket="+codeD.sock, "skip=success")),
		code: func(i int) string {
			if i > 0 {
				adminAt(t, codeD.sock, "user", "reset", "root")
			}
			m := secretRE.FindStringSubmatch(adminAt(t, codeD.sock, "user", "enroll", "root"))
			if m == nil {
				t.Fatal("no secret from user enroll")
			}
			return code(t, m[1])
		}})

	// Round robin, so that load from anything else on the machine falls on
	// every stack alike.
	for i := 0; i < n; i++ {
		for _, s := range stacks {
			if i >= s.runs {
				continue
			}
			ok, took, out := s.h.login(t, s.code(i), kbd...)
			if !ok {
				t.Fatalf("%s: login %d failed:\n%s", s.name, i, out)
			}
			s.times = append(s.times, took)
		}
	}
	for _, s := range stacks {
		sort.Slice(s.times, func(i, j int) bool { return s.times[i] < s.times[j] })
		t.Logf("ssh login, %-36s median %v  min %v  (%d logins)", s.name+":",
			s.times[len(s.times)/2].Round(100*time.Microsecond), s.times[0].Round(100*time.Microsecond), len(s.times))
	}
}

func findPAMModule(name string) string {
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu/security", "/lib/x86_64-linux-gnu/security",
		"/usr/lib/aarch64-linux-gnu/security", "/usr/lib64/security", "/lib/security", "/usr/lib/security"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name)
		}
	}
	return ""
}
