package daemon

import (
	"strings"
	"testing"
	"time"

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
