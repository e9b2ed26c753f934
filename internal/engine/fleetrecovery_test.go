package engine

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
)

// Fleet recovery codes (docs/fleet.md, "Recovery codes"; docs/policy.md
// R13–R18). The fleet side (internal/fleet) makes the set and publish puts
// it in the user's bundle record; here the bundle is applied directly, as
// the daemon's fleet agent does, and logins run through the engine.

// newFleetSet is what `fleet recovery-codes add` keeps: n codes' salted
// hashes and a random set id.
func newFleetSet(t *testing.T, n int) ([]string, *store.FleetRecovery) {
	t.Helper()
	codes, hashes, err := newRecoverySet(n)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return codes, &store.FleetRecovery{Set: hex.EncodeToString(id), Issued: time.Now().UTC(), Codes: hashes}
}

// applyFleetSet applies a bundle (serial) that gives user, as enrolled
// here, the fleet set fs (nil: none).
func (f *fixture) applyFleetSet(user string, serial int64, fs *store.FleetRecovery) {
	f.t.Helper()
	var u store.User
	f.eng.Store.View(func(tx *store.Tx) error { u, _, _ = tx.User(user); return nil })
	if u.TOTP == nil {
		f.t.Fatalf("%s is not enrolled", user)
	}
	u.Recovery = fs
	f.applyUser(u, serial)
}

// applyUser applies a bundle (serial) that holds u.
func (f *fixture) applyUser(u store.User, serial int64) {
	f.t.Helper()
	set := store.DefaultSettings()
	set.OrgTOTP, set.DeviceMFA, set.AttemptLimit = true, true, 20
	if err := f.eng.Store.ApplyBundle(store.Bundle{Record: store.FleetRecord{Managed: true, Serial: serial}, Settings: set, Users: []store.User{u}}, nil); err != nil {
		f.t.Fatal(err)
	}
}

func TestFleetRecoveryCodeLogsInOncePerDevice(t *testing.T) { // R13, R14, R10
	f := newFixture(t)
	f.enroll("alice")
	codes, fs := newFleetSet(t, 5)
	f.applyFleetSet("alice", 1, fs)
	if r := f.status("alice"); r.RecoveryCodes != 5 || r.FleetRecoveryCodes != 5 || r.FleetRecoverySet != fs.Set {
		t.Fatalf("status %+v: want 5 codes, all of fleet set %s", r, fs.Set)
	}
	// Any form, as a local code (R4).
	v, s := f.login("alice", strings.ToUpper(strings.ReplaceAll(codes[0], "-", " ")))
	wantVerdict(t, v, Allow, "recovery-code")
	if len(s.infos) != 1 || !strings.Contains(s.infos[0], "4 recovery codes left") {
		t.Fatalf("told %q", s.infos)
	}
	evs, _ := f.eng.Audit(1)
	if want := "fleet set " + fs.Set + ": 4 recovery codes left"; evs[0].Reason != "recovery-code" || evs[0].Detail != want {
		t.Fatalf("audit %+v, want detail %q", evs[0], want)
	}
	// R5: the second use is a wrong code.
	v, _ = f.login("alice", codes[0])
	wantVerdict(t, v, Deny, "wrong-code")
	// R14: the next bundle brings the same set; the spent code stays spent.
	f.applyFleetSet("alice", 2, fs)
	v, _ = f.login("alice", codes[0])
	wantVerdict(t, v, Deny, "wrong-code")
	if r := f.status("alice"); r.FleetRecoveryCodes != 4 {
		t.Fatalf("after the same set again: %d fleet codes left, want 4", r.FleetRecoveryCodes)
	}
	v, _ = f.login("alice", codes[1])
	wantVerdict(t, v, Allow, "recovery-code")
	// A bundle without the set (removed by the admin) revokes it.
	f.applyFleetSet("alice", 3, nil)
	v, _ = f.login("alice", codes[2])
	wantVerdict(t, v, Deny, "wrong-code")
	if r := f.status("alice"); r.RecoveryCodes != 0 || r.FleetRecoverySet != "" {
		t.Fatalf("status after removal %+v", r)
	}
}

func TestNewFleetSetRevokesTheOldAtTheNextBundle(t *testing.T) { // R15, R14
	f := newFixture(t)
	f.enroll("alice")
	old, a := newFleetSet(t, 3)
	f.applyFleetSet("alice", 1, a)
	v, _ := f.login("alice", old[0])
	wantVerdict(t, v, Allow, "recovery-code")
	codes, b := newFleetSet(t, 3)
	f.applyFleetSet("alice", 2, b)
	v, _ = f.login("alice", old[1])
	wantVerdict(t, v, Deny, "wrong-code")
	v, _ = f.login("alice", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
	// The admin restores an old secrets.age (set a again): this device
	// remembers what it spent of a.
	f.applyFleetSet("alice", 3, a)
	v, _ = f.login("alice", old[0])
	wantVerdict(t, v, Deny, "wrong-code")
	v, _ = f.login("alice", old[1])
	wantVerdict(t, v, Allow, "recovery-code")
}

func TestLocalAndFleetRecoveryCodesBothWork(t *testing.T) { // R16
	f := newFixture(t)
	f.enroll("alice")
	local := f.issue("alice", 2)
	fleetCodes, fs := newFleetSet(t, 3)
	f.applyFleetSet("alice", 1, fs)
	if r := f.status("alice"); r.RecoveryCodes != 5 || r.FleetRecoveryCodes != 3 {
		t.Fatalf("status %+v: want 5 left, 3 of them the fleet's", r)
	}
	v, s := f.login("alice", local[0])
	wantVerdict(t, v, Allow, "recovery-code")
	evs, _ := f.eng.Audit(1)
	if evs[0].Detail != "1 recovery code left" || !strings.Contains(s.infos[0], "4 recovery codes left") {
		t.Fatalf("local code: audit %q (the local set's count), told %q (both sets)", evs[0].Detail, s.infos)
	}
	v, _ = f.login("alice", fleetCodes[0])
	wantVerdict(t, v, Allow, "recovery-code")
	// A new local set revokes the local codes only, and what was spent of
	// the fleet set stays spent.
	f.issue("alice", 2)
	v, _ = f.login("alice", local[1])
	wantVerdict(t, v, Deny, "wrong-code")
	v, _ = f.login("alice", fleetCodes[0])
	wantVerdict(t, v, Deny, "wrong-code")
	v, _ = f.login("alice", fleetCodes[1])
	wantVerdict(t, v, Allow, "recovery-code")
	// A reset (here, by a local override) revokes both until the next
	// bundle; that bundle brings the fleet set back, spent codes spent.
	var u store.User
	f.eng.Store.View(func(tx *store.Tx) error { u, _, _ = tx.User("alice"); return nil })
	if _, err := f.eng.ResetUser(Actor("uid:0").LocalOverride(), "alice"); err != nil {
		t.Fatal(err)
	}
	if r := f.status("alice"); r.RecoveryCodes != 0 || r.FleetRecoverySet != "" {
		t.Fatalf("status after a reset %+v: want no codes", r)
	}
	u.Recovery = fs
	f.applyUser(u, 2)
	for _, c := range fleetCodes[:2] {
		v, _ = f.login("alice", c)
		wantVerdict(t, v, Deny, "wrong-code")
	}
	v, _ = f.login("alice", fleetCodes[2])
	wantVerdict(t, v, Allow, "recovery-code")
}

func TestSameFleetRecoveryCodeInParallelIsAcceptedOnce(t *testing.T) { // R7, R14
	f := newFixture(t)
	f.enroll("alice")
	codes, fs := newFleetSet(t, 2)
	f.applyFleetSet("alice", 1, fs)
	var wg sync.WaitGroup
	verdicts := make(chan Verdict, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _ := f.login("alice", codes[0])
			verdicts <- v
		}()
	}
	wg.Wait()
	close(verdicts)
	allowed := 0
	for v := range verdicts {
		if v.Word == Allow {
			allowed++
		} else if v.Reason != "wrong-code" {
			t.Errorf("refused as %q, want wrong-code", v.Reason)
		}
	}
	if allowed != 1 {
		t.Fatalf("one fleet code accepted %d times", allowed)
	}
	if r := f.status("alice"); r.FleetRecoveryCodes != 1 {
		t.Fatalf("status %+v: want 1 fleet code left", r)
	}
}

// The spent indices are bounded: a record remembers the newest
// store.MaxFleetSpent sets.
func TestFleetSpentSetsAreBounded(t *testing.T) { // R14
	var rc store.RecoveryCodes
	now := time.Now()
	for i := 0; i < store.MaxFleetSpent+5; i++ {
		rc.SpendFleet(strings.Repeat("0", 31)+string(recovery.Alphabet[i]), 0, now)
	}
	if len(rc.FleetSpent) != store.MaxFleetSpent {
		t.Fatalf("%d sets remembered, want %d", len(rc.FleetSpent), store.MaxFleetSpent)
	}
	last := strings.Repeat("0", 31) + string(recovery.Alphabet[store.MaxFleetSpent+4])
	rc.SpendFleet(last, 3, now)
	if rc.FleetSpent[0].Set != last || len(rc.Spent(last)) != 2 {
		t.Fatalf("newest set first with both indices: %+v", rc.FleetSpent[0])
	}
}

// A record moved to its account's key (MigrateAccounts) takes its fleet
// set and what was spent of it along.
func TestFleetRecoverySetMovesWithTheRecord(t *testing.T) { // R14, R3
	f := newFixture(t)
	f.eng.Directory = fakeDir{"bob": nil}
	f.enroll("alice@corp.example")
	codes, fs := newFleetSet(t, 3)
	f.applyFleetSet("alice@corp.example", 1, fs)
	v, _ := f.login("alice@corp.example", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
	aliases(f)
	if warnings, err := f.eng.MigrateAccounts(); err != nil || len(warnings) != 0 {
		t.Fatal(warnings, err)
	}
	v, _ = f.login("alice", codes[0])
	wantVerdict(t, v, Deny, "wrong-code")
	v, _ = f.login("alice", codes[1])
	wantVerdict(t, v, Allow, "recovery-code")
	if r := f.status("alice"); r.FleetRecoverySet != fs.Set || r.FleetRecoveryCodes != 1 {
		t.Fatalf("status after the move %+v", r)
	}
}
