package policy

import (
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func on() store.Settings {
	s := store.DefaultSettings()
	s.OrgTOTP, s.DeviceMFA = true, true
	return s
}

var secret = &store.Secret{Key: "JBSWY3DPEHPK3PXP", Algorithm: "SHA1", Digits: 6, Period: 30}

func enrolled() store.User { return store.User{Name: "alice", Required: true, TOTP: secret} }

// row is one line of the decision table in docs/policy.md.
type row struct {
	id          string
	settings    func(*store.Settings)
	user        *store.User
	state       store.State
	policies    []store.Policy
	groups      []string
	surface     string
	interactive bool
	unknown     bool
	want        Action
	reason      string
	status      string
}

func TestDecisionTable(t *testing.T) {
	u := func(edit func(*store.User)) *store.User { x := enrolled(); edit(&x); return &x }
	e := enrolled()
	notEnrolled := u(func(x *store.User) { x.TOTP = nil })
	rows := []row{
		{id: "P1", settings: func(s *store.Settings) { s.OrgTOTP = false }, user: &e, want: Skip, reason: "org-totp-disabled"},
		{id: "P2", settings: func(s *store.Settings) { s.DeviceMFA = false }, user: &e, want: Skip, reason: "device-mfa-disabled"},
		{id: "P3", user: &e, surface: SurfaceUnlock, want: Skip, reason: "surface-exempt"},
		{id: "P24", user: nil, unknown: true, want: Deny, reason: "unknown-account"},
		{id: "P24", user: nil, unknown: true, surface: SurfaceUnlock, want: Skip, reason: "surface-exempt"},
		{id: "P24", settings: func(s *store.Settings) { s.DeviceMFA = false }, user: nil, unknown: true, want: Skip, reason: "device-mfa-disabled"},
		{id: "P4", settings: func(s *store.Settings) { s.UnlockRequiresCode = true }, user: &e, surface: SurfaceUnlock, want: Prompt, status: StatusEnrolled},
		{id: "P3", user: &e, surface: SurfaceUAC, want: Skip, reason: "surface-exempt"},
		{id: "P3", settings: func(s *store.Settings) { s.UACRequiresCode = true }, user: &e, surface: SurfaceUnlock, want: Skip, reason: "surface-exempt"},
		{id: "P24", user: nil, unknown: true, surface: SurfaceUAC, want: Skip, reason: "surface-exempt"},
		{id: "P4", settings: func(s *store.Settings) { s.UACRequiresCode = true }, user: &e, surface: SurfaceUAC, want: Prompt, status: StatusEnrolled},
		{id: "P4", settings: func(s *store.Settings) { s.UnlockRequiresCode = true }, user: &e, surface: SurfaceUAC, want: Skip, reason: "surface-exempt"},
		{id: "P5", user: nil, want: Skip, reason: "not-required", status: StatusNotRequired},
		{id: "P6", user: u(func(x *store.User) { x.Required = false }), want: Skip, reason: "not-required", status: StatusNotRequired},
		{id: "P7", user: &e, want: Prompt, status: StatusEnrolled},
		{id: "P7", user: &e, surface: SurfaceSSH, interactive: true, want: Prompt, status: StatusEnrolled},
		{id: "P7", user: &e, surface: SurfaceRDP, want: Prompt, status: StatusEnrolled},
		{id: "P8", user: &e, state: store.State{Failures: 5, Locked: true, LockedUntil: now.Add(time.Minute)}, want: Deny, reason: "locked-out", status: StatusEnrolled},
		{id: "P9", user: &e, state: store.State{Failures: 5, Locked: true, LockedUntil: now.Add(-time.Second)}, want: Prompt, status: StatusEnrolled},
		{id: "P10", user: &e, state: store.State{Failures: 5, Locked: true}, want: Deny, reason: "locked-out", status: StatusEnrolled},
		{id: "P11", user: u(func(x *store.User) { x.TOTP, x.Forced = nil, true }), interactive: true, want: ForceEnroll, status: StatusNotEnrolled},
		{id: "P12", user: u(func(x *store.User) { x.TOTP, x.Forced = nil, true }), interactive: false, want: Deny, reason: "enrollment-required", status: StatusNotEnrolled},
		{id: "P13", settings: func(s *store.Settings) { s.InBandEnrollment = false }, user: u(func(x *store.User) { x.TOTP, x.Forced = nil, true }), interactive: true, want: Deny, reason: "enrollment-required", status: StatusNotEnrolled},
		{id: "P14", user: notEnrolled, interactive: true, want: OfferEnroll, reason: "enrollment-period", status: StatusPreEnrollment},
		{id: "P15", user: notEnrolled, interactive: false, want: Skip, reason: "enrollment-period", status: StatusPreEnrollment},
		{id: "P16", user: notEnrolled, state: store.State{PeriodStart: now.Add(-6 * 24 * time.Hour)}, interactive: true, want: OfferEnroll, reason: "enrollment-period", status: StatusEnrollmentPeriod},
		{id: "P17", user: notEnrolled, state: store.State{PeriodStart: now.Add(-6 * 24 * time.Hour)}, want: Skip, reason: "enrollment-period", status: StatusEnrollmentPeriod},
		{id: "P17", settings: func(s *store.Settings) { s.InBandEnrollment = false }, user: notEnrolled, state: store.State{PeriodStart: now.Add(-time.Hour)}, interactive: true, want: Skip, reason: "enrollment-period", status: StatusEnrollmentPeriod},
		{id: "P18", user: notEnrolled, state: store.State{PeriodStart: now.Add(-7 * 24 * time.Hour)}, interactive: true, want: Deny, reason: "enrollment-expired", status: StatusEnrollmentExpired},
		{id: "P18", user: notEnrolled, state: store.State{PeriodStart: now.Add(-30 * 24 * time.Hour)}, want: Deny, reason: "enrollment-expired", status: StatusEnrollmentExpired},
		{id: "P19", user: u(func(x *store.User) { x.Required = false }), policies: []store.Policy{{ID: "1", Enabled: true, AllUsers: true}}, want: Prompt, status: StatusEnrolled},
		{id: "P19", user: nil, policies: []store.Policy{{ID: "1", Enabled: true, AllUsers: true}}, want: Skip, reason: "enrollment-period", status: StatusPreEnrollment},
		{id: "P20", user: nil, groups: []string{"staff", "wheel"}, policies: []store.Policy{{ID: "1", Enabled: true, Groups: []string{"wheel"}}}, interactive: true, want: OfferEnroll, reason: "enrollment-period", status: StatusPreEnrollment},
		{id: "P20", user: nil, groups: []string{"staff"}, policies: []store.Policy{{ID: "1", Enabled: true, Groups: []string{"wheel"}}}, want: Skip, reason: "not-required", status: StatusNotRequired},
		{id: "P21", user: u(func(x *store.User) { x.Required = false }), groups: []string{"wheel", "breakglass"}, policies: []store.Policy{{ID: "1", Enabled: true, AllUsers: true, Exclude: []string{"breakglass"}}}, want: Skip, reason: "not-required", status: StatusNotRequired},
		{id: "P22", user: u(func(x *store.User) { x.Required = false }), policies: []store.Policy{{ID: "1", Enabled: false, AllUsers: true}}, want: Skip, reason: "not-required", status: StatusNotRequired},
		{id: "P23", user: u(func(x *store.User) { x.TOTP, x.EnrollDays = nil, 30 }), state: store.State{PeriodStart: now.Add(-20 * 24 * time.Hour)}, want: Skip, reason: "enrollment-period", status: StatusEnrollmentPeriod},
		{id: "P23", settings: func(s *store.Settings) { s.EnrollDays = 3 }, user: notEnrolled, state: store.State{PeriodStart: now.Add(-4 * 24 * time.Hour)}, want: Deny, reason: "enrollment-expired", status: StatusEnrollmentExpired},
	}
	for _, r := range rows {
		t.Run(r.id, func(t *testing.T) {
			in := Input{Settings: on(), State: r.state, Policies: r.policies, Groups: r.groups, Now: now, Unknown: r.unknown}
			if r.settings != nil {
				r.settings(&in.Settings)
			}
			if r.user != nil {
				in.User, in.HasUser = *r.user, true
			}
			surface := r.surface
			if surface == "" {
				surface = SurfaceConsole
			}
			d := Decide(in, surface, r.interactive)
			if d.Action != r.want || d.Reason != r.reason {
				t.Fatalf("Decide = action %d reason %q, want action %d reason %q", d.Action, d.Reason, r.want, r.reason)
			}
			if r.status != "" && d.Status.Kind != r.status {
				t.Fatalf("status %q, want %q", d.Status.Kind, r.status)
			}
		})
	}
}

func TestFailuresLockAfterExactlyTheLimit(t *testing.T) {
	set := on()
	set.AttemptLimit, set.Lockout = 3, 10*time.Minute
	var st store.State
	for i := 1; i <= 3; i++ {
		if locked, _ := IsLocked(st, now); locked {
			t.Fatalf("locked after %d failures", i-1)
		}
		st = RecordFailure(st, set, now)
	}
	locked, until := IsLocked(st, now)
	if !locked || !until.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("after 3 failures: locked=%v until=%v", locked, until)
	}
	if locked, _ := IsLocked(st, now.Add(10*time.Minute)); locked {
		t.Fatal("still locked when the lockout has passed")
	}
	// A failure after the lock expired starts a fresh count.
	st = RecordFailure(st, set, now.Add(11*time.Minute))
	if st.Failures != 1 || st.Locked {
		t.Fatalf("after expiry: %+v", st)
	}
}

func TestLockoutZeroLastsUntilAdminUnlock(t *testing.T) {
	set := on()
	set.AttemptLimit, set.Lockout = 1, 0
	st := RecordFailure(store.State{}, set, now)
	if locked, _ := IsLocked(st, now.Add(365*24*time.Hour)); !locked {
		t.Fatal("lock with lockout 0 expired by itself")
	}
	if locked, _ := IsLocked(Unlock(st), now); locked {
		t.Fatal("Unlock did not unlock")
	}
}

func TestSuccessResetsFailuresAndKeepsHighestStep(t *testing.T) {
	st := RecordSuccess(store.State{Failures: 4, LastStep: 100}, 99)
	if st.Failures != 0 || st.LastStep != 100 {
		t.Fatalf("%+v", st)
	}
	if st = RecordSuccess(st, 101); st.LastStep != 101 {
		t.Fatalf("%+v", st)
	}
}

// FuzzDecide: no combination of state makes an enrolled, required user on a
// protected surface get in without a code, and nothing panics.
func FuzzDecide(f *testing.F) {
	f.Add(true, true, true, false, false, int64(0), 0, false, "console", true, 7)
	f.Add(true, true, false, true, false, int64(-9), 3, true, "ssh", false, 0)
	f.Fuzz(func(t *testing.T, org, dev, required, forced, hasSecret bool, periodAgoH int64, failures int, locked bool, surface string, interactive bool, days int) {
		in := Input{Settings: on(), Now: now, HasUser: true}
		in.Settings.OrgTOTP, in.Settings.DeviceMFA = org, dev
		in.User = store.User{Name: "u", Required: required, Forced: forced, EnrollDays: days % 400}
		if hasSecret {
			in.User.TOTP = secret
		}
		if periodAgoH != 0 {
			in.State.PeriodStart = now.Add(-time.Duration(periodAgoH%100000) * time.Hour)
		}
		in.State.Failures, in.State.Locked = failures, locked
		d := Decide(in, surface, interactive)
		protected := org && dev && required && surface != SurfaceUnlock && surface != SurfaceUAC
		if protected && hasSecret && d.Action != Prompt && d.Action != Deny {
			t.Fatalf("enrolled required user got action %d (%s) without a code", d.Action, d.Reason)
		}
		if protected && hasSecret && locked && d.Action != Deny {
			t.Fatalf("locked user got action %d", d.Action)
		}
	})
}
