package daemon

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/fleet"
	"github.com/jcmfa/jcmfa/internal/fleetclient"
	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
)

// A bundle names accounts as the admin spelled them in fleet.yaml; the
// device keeps them under its own accounts' keys, remembers the spelling
// for the outbox, and uses the first of two names for one account.
func TestBundleUsersAreKeyedByAccount(t *testing.T) {
	canonical := map[string]string{"ALICE": "alice", "alice": "alice", "alias": "alice", "bob": "bob"}
	a := &FleetAgent{accountKey: func(n string) (string, error) { return canonical[n], nil }}
	reset := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	b := store.Bundle{
		Users:       []store.User{{Name: "ALICE", Required: true}, {Name: "bob"}, {Name: "alias", Required: false}},
		ResetBefore: map[string]time.Time{"ALICE": reset},
	}
	conflicts, err := a.keyByAccount(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Users) != 2 || b.Users[0].Name != "alice" || !b.Users[0].Required || b.Users[1].Name != "bob" {
		t.Fatalf("users %+v", b.Users)
	}
	if len(conflicts) != 1 || !strings.Contains(conflicts[0], `"ALICE" and "alias"`) {
		t.Fatalf("conflicts %q", conflicts)
	}
	if b.Record.BundleName("alice") != "ALICE" || b.Record.BundleName("bob") != "bob" {
		t.Fatalf("spelled %v", b.Record.Spelled)
	}
	if !b.ResetBefore["alice"].Equal(reset) {
		t.Fatalf("reset-before not carried to the account: %v", b.ResetBefore)
	}
}

// A signed bundle is still bounded: a bad fleet recovery set is dropped
// for its user, named in the fleet-apply audit event and the log, and the
// rest of the bundle, that user included, applies (docs/policy.md R17).
func TestBadFleetRecoverySetIsNamedAndTheRestApplies(t *testing.T) { // R17
	var log strings.Builder
	a := &FleetAgent{log: slog.New(slog.NewTextHandler(&log, nil)), now: time.Now}
	good := &store.FleetRecovery{Set: "00112233445566778899aabbccddeeff",
		Codes: []recovery.Hash{{Salt: make([]byte, recovery.SaltSize), Sum: make([]byte, recovery.SumSize)}}}
	over := &store.FleetRecovery{Set: good.Set}
	for range recovery.MaxCount + 1 {
		over.Codes = append(over.Codes, good.Codes[0])
	}
	res := fleetclient.Result{Changed: true, Payload: fleet.Payload{Device: "a", Serial: 2,
		Users: []store.User{{Name: "alice", Recovery: over, TOTP: &store.Secret{Key: "K"}}, {Name: "bob", Recovery: good}}}}
	b, ev, err := a.bundleOf(res)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Users) != 2 || b.Users[0].Recovery != nil || b.Users[0].TOTP == nil || b.Users[1].Recovery != good {
		t.Fatalf("users %+v", b.Users)
	}
	want := `user "alice": fleet recovery codes refused: recovery set ` + good.Set + ` has 51 codes; a set has 1 to 50`
	if !strings.Contains(ev.Detail, want) || !strings.Contains(log.String(), "recovery codes refused") {
		t.Fatalf("event %q / log %q do not name the refusal", ev.Detail, log.String())
	}
}
