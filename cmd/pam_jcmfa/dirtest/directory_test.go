//go:build linux

package dirtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestHarnessResolvesTheDirectoryCaseInsensitively proves the set-up before
// anything is asked of jcmfa: inside the namespace NSS answers ALICE with
// alice's own entry and puts bob in mfa-staff, all from slapd; outside it,
// the machine has never heard of alice.
func TestHarnessResolvesTheDirectoryCaseInsensitively(t *testing.T) {
	e := start(t)

	for _, name := range []string{"alice", "ALICE", "Alice"} {
		out, rc := e.inside(t, "getent", "passwd", name)
		if rc != 0 || !strings.HasPrefix(out, "alice:") || !strings.Contains(out, ":70001:") {
			t.Errorf("in the namespace, getent passwd %s = %q (exit %d), want alice's entry, uid 70001", name, out, rc)
		}
	}
	if out, rc := e.inside(t, "id", "-Gn", "bob"); rc != 0 || !strings.Contains(" "+out+" ", " mfa-staff") {
		t.Errorf("in the namespace, id -Gn bob = %q (exit %d), want mfa-staff among them", out, rc)
	}
	if out, rc := e.inside(t, "getent", "passwd", "nobody-in-the-directory"); rc != 2 {
		t.Errorf("in the namespace, getent passwd of an unknown name = %q (exit %d), want exit 2 (not found)", out, rc)
	}
	for _, name := range []string{"alice", "ALICE"} {
		if out, err := exec.Command("getent", "passwd", name).CombinedOutput(); err == nil {
			t.Errorf("outside the namespace, getent passwd %s found %q: the machine's NSS reads the directory", name, out)
		}
	}
}

// TestDirectoryGroupPolicyCoversItsMember: bob is in mfa-staff only in the
// directory; a policy on mfa-staff requires MFA of him, while alice, in no
// such group, stays not required.
func TestDirectoryGroupPolicyCoversItsMember(t *testing.T) {
	e := start(t)
	e.Admin(t, "policy", "add", "staff", "--groups", "mfa-staff")
	staff := "policy:" + e.policyID(t, "staff")

	bob := e.userStatus(t, "bob")
	if !bob.Required || bob.RequiredBy != staff || bob.Status == "not-required" {
		t.Errorf("user status bob = required %v by %q, status %q: want required by %s (the policy staff)",
			bob.Required, bob.RequiredBy, bob.Status, staff)
	}
	if v := e.cliLogin(t, "bob", "000000"); v == "skip not-required" || !strings.HasPrefix(v, "skip enrollment-period") {
		t.Errorf("login bob = %q, want skip enrollment-period (required by the policy, not enrolled)", v)
	}
	// The control: the same login for someone outside the group.
	if v := e.cliLogin(t, "alice", "000000"); v != "skip not-required" {
		t.Errorf("login alice = %q, want skip not-required (in no policy group)", v)
	}
}
