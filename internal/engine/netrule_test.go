package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/store"
)

func (f *fixture) loginFrom(user, rhost string, answers ...string) (Verdict, *script) {
	s := &script{answers: answers}
	v := f.eng.Login(context.Background(), LoginRequest{User: user, Surface: "ssh", RHost: rhost, Client: "test"}, s)
	return v, s
}

// TestTrustedNetworkSkipsTheCodeAndIsAudited is rows N1 and N5 through
// the engine: the skip names the network in the audit, and a locked
// account stays locked from a trusted network.
func TestTrustedNetworkSkipsTheCodeAndIsAudited(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.must(f.eng.UpdateSettings("test", "nets", func(s *store.Settings) { s.TrustedNetworks = []string{"10.0.0.0/8"} }))

	v, s := f.loginFrom("alice", "10.4.5.6")
	wantVerdict(t, v, Skip, "trusted-network")
	if len(s.asks) != 0 {
		t.Fatalf("asked %v from a trusted network", s.asks)
	}
	f.eng.Store.Settle()
	evs, _ := f.eng.Audit(1)
	if evs[0].Reason != "trusted-network" || evs[0].RHost != "10.4.5.6" || !strings.Contains(evs[0].Detail, "10.0.0.0/8 (settings)") {
		t.Fatalf("audit %+v", evs[0])
	}
	v, _ = f.loginFrom("alice", "192.0.2.1", f.code(sec))
	wantVerdict(t, v, Allow, "totp")

	// N5: lock the account from outside, then come from inside.
	for i := 0; i < 5; i++ {
		f.loginFrom("alice", "192.0.2.1", "000000")
	}
	if !f.status("alice").Locked {
		t.Fatal("not locked after 5 wrong codes")
	}
	v, s = f.loginFrom("alice", "10.4.5.6")
	wantVerdict(t, v, Deny, "locked-out")
	if len(s.asks) != 0 {
		t.Fatalf("asked %v", s.asks)
	}
	if _, err := f.eng.UpdateSettings("test", "bad", func(s *store.Settings) { s.TrustedNetworks = []string{"10.0.0.1/8"} }); err == nil {
		t.Fatal("accepted a network with host bits")
	}
}
