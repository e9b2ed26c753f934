package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/recovery"
)

func secret(k string, at time.Time) *Secret {
	return &Secret{Key: k, Algorithm: "SHA1", Digits: 6, Period: 30, EnrolledAt: at}
}

func TestBundleReplacesConfigurationAndKeepsLivingData(t *testing.T) {
	s, _, _ := openTemp(t)
	now := time.Now().UTC()
	err := s.Update(func(tx *Tx) error {
		tx.PutSettings(Settings{AttemptLimit: 9, EnrollDays: 3, Skew: 1})
		tx.PutUser(User{Name: "old", Required: true})
		tx.PutPolicy(Policy{ID: "1", Name: "local", AllUsers: true, Enabled: true})
		tx.PutState("alice", State{LastStep: 77, Failures: 2})
		return tx.AppendEvent(&Event{Kind: "login", User: "alice"})
	})
	if err != nil {
		t.Fatal(err)
	}
	b := Bundle{
		Record:   FleetRecord{Managed: true, Device: "web1", Serial: 3, Hash: "h3"},
		Settings: Settings{OrgTOTP: true, DeviceMFA: true, AttemptLimit: 5, EnrollDays: 7},
		Users:    []User{{Name: "alice", Required: true, TOTP: secret("AAAA", now)}},
		Policies: []Policy{{ID: "f1", Name: "ops", Groups: []string{"ops"}, Enabled: true}},
	}
	if err := s.ApplyBundle(b, &Event{Kind: "fleet-apply"}); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		st, _ := tx.Settings()
		if !st.OrgTOTP || st.AttemptLimit != 5 {
			t.Errorf("settings = %+v", st)
		}
		if _, found, _ := tx.User("old"); found {
			t.Error("a user the bundle does not name survived")
		}
		if u, _, _ := tx.User("alice"); u.TOTP == nil || u.TOTP.Key != "AAAA" {
			t.Errorf("alice = %+v", u)
		}
		if ps, _ := tx.Policies(); len(ps) != 1 || ps[0].Name != "ops" {
			t.Errorf("policies = %+v", ps)
		}
		if st, _ := tx.State("alice"); st.LastStep != 77 || st.Failures != 2 {
			t.Errorf("living data overwritten: %+v", st)
		}
		evs, _ := tx.Events(10)
		if len(evs) != 2 || evs[0].Kind != "login" || evs[1].Kind != "fleet-apply" {
			t.Errorf("audit = %+v", evs)
		}
		if m, _ := tx.FleetManaged(); !m {
			t.Error("not marked fleet-managed")
		}
		return nil
	})
}

func TestBundleKeepsInBandEnrollmentUntilDeliveredOrReset(t *testing.T) {
	s, _, _ := openTemp(t)
	t0 := time.Now().UTC().Add(-time.Hour)
	apply := func(serial int64, users []User, reset map[string]time.Time) {
		t.Helper()
		if err := s.ApplyBundle(Bundle{Record: FleetRecord{Managed: true, Serial: serial}, Settings: DefaultSettings(),
			Users: users, ResetBefore: reset}, nil); err != nil {
			t.Fatal(err)
		}
	}
	key := func(name string) string {
		var k string
		s.View(func(tx *Tx) error {
			if u, _, _ := tx.User(name); u.TOTP != nil {
				k = u.TOTP.Key
			}
			return nil
		})
		return k
	}
	apply(1, []User{{Name: "bob", Required: true}}, nil)
	// bob enrolls in-band; carol, required only by a group policy, too.
	s.Update(func(tx *Tx) error {
		tx.PutUser(User{Name: "bob", Required: true, TOTP: secret("BOBLOCAL", t0)})
		return tx.PutUser(User{Name: "carol", TOTP: secret("CAROL", t0)})
	})
	apply(2, []User{{Name: "bob", Required: true}}, nil)
	if key("bob") != "BOBLOCAL" || key("carol") != "CAROL" {
		t.Fatalf("in-band enrollments lost: bob=%q carol=%q", key("bob"), key("carol"))
	}
	// The fleet delivers bob's secret (collected from the outbox).
	apply(3, []User{{Name: "bob", Required: true, TOTP: secret("BOBLOCAL", t0)}}, nil)
	// The admin resets bob: the bundle drops his secret.
	apply(4, []User{{Name: "bob", Required: true}}, map[string]time.Time{"bob": time.Now()})
	if key("bob") != "" {
		t.Fatalf("bob kept a delivered secret the fleet withdrew")
	}
	// A reset older than the enrollment does not drop it.
	apply(5, []User{{Name: "bob", Required: true}}, map[string]time.Time{"carol": t0.Add(-time.Minute)})
	if key("carol") != "CAROL" {
		t.Fatal("an old reset dropped a newer enrollment")
	}
}

func TestBundleRollbackRefused(t *testing.T) {
	s, _, _ := openTemp(t)
	if err := s.ApplyBundle(Bundle{Record: FleetRecord{Managed: true, Serial: 5}, Settings: DefaultSettings()}, nil); err != nil {
		t.Fatal(err)
	}
	err := s.ApplyBundle(Bundle{Record: FleetRecord{Managed: true, Serial: 4}, Settings: DefaultSettings()}, nil)
	if !errors.Is(err, ErrBundleRollback) {
		t.Fatalf("err = %v, want ErrBundleRollback", err)
	}
}

// fleetSet is a well-formed fleet recovery set of n codes.
func fleetSet(t *testing.T, id string, n int) *FleetRecovery {
	t.Helper()
	codes, err := recovery.Generate(n)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := recovery.HashAll(codes)
	if err != nil {
		t.Fatal(err)
	}
	return &FleetRecovery{Set: id, Codes: hs}
}

// A bundle is signed, but a device still bounds what it takes: a bad
// fleet recovery set is dropped for its user only, and says why; the
// rest of the bundle (that user's secret included) applies.
func TestBadFleetRecoverySetsAreDroppedAndTheRestApplies(t *testing.T) { // R17
	s, _, _ := openTemp(t)
	now := time.Now().UTC()
	const id = "00112233445566778899aabbccddeeff"
	badSalt := fleetSet(t, id, 2)
	badSalt.Codes[1].Salt = badSalt.Codes[1].Salt[:3]
	badSum := fleetSet(t, id, 2)
	badSum.Codes[0].Sum = append(badSum.Codes[0].Sum, 0)
	cases := map[string]*FleetRecovery{
		"over":   fleetSet(t, id, recovery.MaxCount), // made below to 51
		"salt":   badSalt,
		"sum":    badSum,
		"id":     fleetSet(t, "../../etc", 2),
		"upper":  fleetSet(t, strings.ToUpper(id), 2),
		"empty":  {Set: id},
		"good":   fleetSet(t, id, recovery.MaxCount),
		"nocode": nil,
	}
	cases["over"].Codes = append(cases["over"].Codes, cases["over"].Codes[0])
	b := Bundle{Record: FleetRecord{Managed: true, Serial: 1}, Settings: DefaultSettings()}
	for _, name := range []string{"empty", "good", "id", "nocode", "over", "salt", "sum", "upper"} {
		b.Users = append(b.Users, User{Name: name, Required: true, TOTP: secret("AAAA", now), Recovery: cases[name]})
	}
	bad := b.CheckRecovery()
	if len(bad) != 6 {
		t.Fatalf("%d refusals, want 6: %q", len(bad), bad)
	}
	for _, want := range []string{`user "over": fleet recovery codes refused: recovery set ` + id + ` has 51 codes; a set has 1 to 50`,
		`user "salt": fleet recovery codes refused: recovery set ` + id + `: code 1 is malformed`, `user "id"`, `user "upper"`, `user "empty"`, `user "sum"`} {
		if !strings.Contains(strings.Join(bad, "\n"), want) {
			t.Errorf("refusals %q do not say %q", bad, want)
		}
	}
	if err := s.ApplyBundle(b, nil); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		return tx.ForEachUser(func(u User) error {
			if u.TOTP == nil {
				t.Errorf("%s lost the bundle's secret", u.Name)
			}
			if u.Recovery != nil {
				t.Errorf("%s: the user record holds the fleet set", u.Name)
			}
			f, err := tx.FleetRecovery(u.Name)
			if err != nil || (f != nil) != (u.Name == "good") {
				t.Errorf("%s: recovery set kept = %v (%v)", u.Name, f != nil, err)
			}
			return nil
		})
	})
}

// What a device spent of fleet sets is living data: a reset or a removal
// keeps it (the next bundle brings the set back), a move takes it along.
func TestRevokeLocalRecoveryKeepsFleetSpent(t *testing.T) { // R14
	s, _, _ := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		rc := RecoveryCodes{Total: 2, Codes: fleetSet(t, "x", 2).Codes}
		rc.SpendFleet("00112233445566778899aabbccddeeff", 4, time.Now())
		if err := tx.PutRecovery("alice", rc); err != nil {
			return err
		}
		if err := tx.PutRecovery("bob", RecoveryCodes{Total: 1, Codes: rc.Codes[:1]}); err != nil {
			return err
		}
		if err := tx.DeleteUser("alice"); err != nil {
			return err
		}
		return tx.RevokeLocalRecovery("bob")
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		rc, found, err := tx.Recovery("alice")
		if err != nil || !found || len(rc.Codes) != 0 || rc.HasLocal() || len(rc.Spent("00112233445566778899aabbccddeeff")) != 1 {
			t.Errorf("alice after removal: %+v found=%v err=%v; want the fleet spent index only", rc, found, err)
		}
		if _, found, _ := tx.Recovery("bob"); found {
			t.Error("bob's record (local codes only) survived the revocation")
		}
		return nil
	})
}
