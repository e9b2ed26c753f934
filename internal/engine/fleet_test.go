package engine

import (
	"errors"
	"testing"

	"github.com/jcmfa/jcmfa/internal/store"
)

func TestFleetManagedDeviceRefusesLocalEditsWithoutOverride(t *testing.T) {
	f := newFixture(t)
	f.enroll("alice")
	if err := f.eng.Store.ApplyBundle(store.Bundle{Record: store.FleetRecord{Managed: true, Serial: 1},
		Settings: store.DefaultSettings()}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.eng.RequireUser("uid:0", "bob", RequireOptions{}); !errors.Is(err, ErrFleetManaged) {
		t.Fatalf("require on a managed device: err = %v, want ErrFleetManaged", err)
	}
	if _, err := f.eng.UpdateSettings("uid:0", "attempts", func(s *store.Settings) { s.AttemptLimit = 3 }); !errors.Is(err, ErrFleetManaged) {
		t.Fatalf("settings on a managed device: err = %v", err)
	}
	// Unlock is living data: allowed without an override.
	if _, err := f.eng.UnlockUser("uid:0", "alice"); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if _, _, err := f.eng.RequireUser(Actor("uid:0").LocalOverride(), "bob", RequireOptions{}); err != nil {
		t.Fatalf("require with --local-override: %v", err)
	}
	evs, _ := f.eng.Audit(1)
	if len(evs) != 1 || evs[0].Actor != "uid:0 (local-override)" {
		t.Fatalf("the override is not shown in the audit log: %+v", evs)
	}
}
