package store

import (
	"errors"
	"testing"
	"time"
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
