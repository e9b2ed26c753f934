package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
)

func (f *fixture) loginOn(user, surface string, answers ...string) (Verdict, *script) {
	s := &script{answers: answers}
	v := f.eng.Login(context.Background(), LoginRequest{User: user, Surface: surface, Client: "test"}, s)
	return v, s
}

// TestRDPOnlyPolicyAsksAtRDPNotAtConsoleLogon is row S2 with the words the
// Windows credential provider relays as the surface (credprovider/
// credential.cpp, Credential::Surface: "rdp" for a remote session, "gui"
// for the console logon, "unlock", "uac"). The real DLL against the real
// agent, both under wine, is `make test-wine-dll` (credprovider/test:
// cp_harness rdp-only, with a user required --surfaces rdp).
func TestRDPOnlyPolicyAsksAtRDPNotAtConsoleLogon(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.must(f.eng.UnrequireUser("test", "alice"))
	f.must(f.eng.AddPolicy("test", store.Policy{Name: "rdp-only", Enabled: true, AllUsers: true, Surfaces: []string{policy.SurfaceRDP}}))

	v, s := f.loginOn("alice", policy.SurfaceGUI)
	wantVerdict(t, v, Skip, "not-required")
	if len(s.asks) != 0 {
		t.Fatalf("console logon asked %v", s.asks)
	}
	v, s = f.loginOn("alice", policy.SurfaceRDP, f.code(sec))
	wantVerdict(t, v, Allow, "totp")
	if len(s.asks) != 1 {
		t.Fatalf("rdp asked %d times, want 1", len(s.asks))
	}
}

// TestScopedPolicyAndUserRequirementAddUp is row S4: the requirement on a
// surface is the union of the user's own scope and every policy's.
func TestScopedPolicyAndUserRequirementAddUp(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.require("test", "alice", RequireOptions{Surfaces: []string{policy.SurfaceSSH}})
	f.must(f.eng.AddPolicy("test", store.Policy{Name: "sudo", Enabled: true, AllUsers: true, Surfaces: []string{policy.SurfaceSudo}}))

	for _, surface := range []string{policy.SurfaceSSH, policy.SurfaceSudo} {
		f.clock = f.clock.Add(30e9)
		v, _ := f.loginOn("alice", surface, f.code(sec))
		wantVerdict(t, v, Allow, "totp")
	}
	v, _ := f.loginOn("alice", policy.SurfaceConsole)
	wantVerdict(t, v, Skip, "not-required")
	if r := f.status("alice"); !r.Required || strings.Join(r.Surfaces, ",") != "ssh" {
		t.Fatalf("status %+v, want required on ssh", r)
	}
	// Requiring again without --surfaces replaces the scope: every surface.
	f.require("test", "alice", RequireOptions{})
	v, _ = f.loginOn("alice", policy.SurfaceConsole)
	if v.Word != Deny || v.Reason != "cancelled" { // asked, nobody answered
		t.Fatalf("console after re-require: %v, want a code asked", v)
	}
}

// TestUnknownSurfaceIsRefused is row S5: a surface the daemon does not
// know is a protocol error, audited, never a skip.
func TestUnknownSurfaceIsRefused(t *testing.T) {
	f := newFixture(t)
	f.enroll("alice")
	for _, bad := range []string{"telnet", "SSH", "cli", strings.Repeat("x", 300)} {
		v, s := f.loginOn("alice", bad)
		wantVerdict(t, v, Deny, "protocol")
		if len(s.errs) != 1 || !strings.Contains(s.errs[0], "does not know the login surface") {
			t.Fatalf("%q: told %v", bad, s.errs)
		}
	}
	f.eng.Store.Settle()
	evs, err := f.eng.Audit(1)
	if err != nil || len(evs) != 1 || evs[0].Reason != "protocol" || len(evs[0].Surface) > 70 {
		t.Fatalf("audit %+v %v", evs, err)
	}
	if _, _, err := f.eng.RequireUser("test", "alice", RequireOptions{Surfaces: []string{"telnet"}}); err == nil {
		t.Fatal("require accepted an unknown surface")
	}
	if _, err := f.eng.AddPolicy("test", store.Policy{Name: "x", Enabled: true, AllUsers: true, Surfaces: []string{"telnet"}}); err == nil {
		t.Fatal("policy add accepted an unknown surface")
	}
}
