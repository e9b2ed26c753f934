// Package policy holds every rule that decides whether a login needs a code:
// org and device switches, per-user requirement, conditional policies,
// enrollment periods and lockout. It is pure: the engine reads the store and
// the OS, calls these functions, and writes back what they return. The
// decision table in docs/policy.md is tested row by row in policy_test.go.
package policy

import (
	"slices"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
)

// Surfaces a login can come from (surface.go lists them and checks a
// surface a client sends).
const (
	SurfaceSSH     = "ssh"
	SurfaceConsole = "console"
	// SurfaceSudo is a privilege change inside a session: sudo, su,
	// sudo -i, su -l and pkexec (the PAM module derives it from
	// PAM_SERVICE).
	SurfaceSudo   = "sudo"
	SurfaceGUI    = "gui"
	SurfaceRDP    = "rdp"
	SurfaceUnlock = "unlock"
	// SurfaceUAC is a Windows elevation prompt that asks for credentials
	// (consent.exe on the secure desktop, docs/windows.md).
	SurfaceUAC = "uac"
)

// Status kinds shown to admins.
const (
	StatusEnrolled          = "enrolled"
	StatusNotEnrolled       = "not-enrolled" // required with forced enrollment, not set up yet
	StatusEnrollmentPeriod  = "enrollment-period"
	StatusEnrollmentExpired = "enrollment-expired"
	StatusPreEnrollment     = "pre-enrollment"
	StatusNotRequired       = "not-required"
)

// Input is everything a decision depends on, read in one transaction.
type Input struct {
	Settings store.Settings
	User     store.User // zero with HasUser false when there is no record
	HasUser  bool
	State    store.State
	Policies []store.Policy
	Groups   []string // the account's OS groups; only consulted by group policies
	Now      time.Time
	// Unknown says the OS knows no account by the login's name and no
	// record is kept under it: it might be any account (a spelling the
	// daemon's account database cannot resolve right now), so it must
	// not get a weaker verdict than the account it might be.
	Unknown bool
	// Surface is the login's surface; Decide sets it. Empty (a status
	// listing) means any: a scoped requirement counts as required.
	Surface string
	// RHost is the login's remote host as the client sent it (PAM_RHOST);
	// it matters only to trusted networks (netrule.go).
	RHost string
	// Origin is where the login comes from for grace windows (grace.go);
	// empty: none the daemon can tell. Fence is the store's crash fence:
	// windows opened before it are void.
	Origin string
	Fence  time.Time
}

// Requirement says whether MFA is required of the user and why.
type Requirement struct {
	Required bool
	By       string // "user" or "policy:<id>"
	// TrustedNetwork is set when every source that requires MFA here is
	// a policy whose trusted networks hold the login's remote host: the
	// account counts as required (status, lockout), but no code is asked
	// (row N2). It names the network.
	TrustedNetwork string
}

// Required applies the user's own setting, then the enabled conditional
// policies: a policy matches all users or members of its groups, minus
// members of its excluded groups. Each counts only on the surfaces it is
// scoped to (InScope), so the requirement is their union (row S4).
func Required(in Input) Requirement {
	if in.HasUser && in.User.Required && InScope(in.User.Surfaces, in.Surface) {
		return Requirement{Required: true, By: "user"}
	}
	var lifted Requirement
	for _, p := range in.Policies {
		if !p.Enabled || intersects(p.Exclude, in.Groups) || !InScope(p.Surfaces, in.Surface) {
			continue
		}
		if p.AllUsers || intersects(p.Groups, in.Groups) {
			if n := TrustedNetwork(p.TrustedNetworks, in.RHost); n != "" {
				if lifted.By == "" {
					lifted = Requirement{Required: true, By: "policy:" + p.ID, TrustedNetwork: n}
				}
				continue
			}
			return Requirement{Required: true, By: "policy:" + p.ID}
		}
	}
	return lifted
}

// NeedsGroups reports whether any enabled policy looks at groups, so the
// engine can skip the OS lookup when none does.
func NeedsGroups(policies []store.Policy) bool {
	for _, p := range policies {
		if p.Enabled && (len(p.Groups) > 0 || len(p.Exclude) > 0) {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// Status is what an admin sees for one account.
type Status struct {
	Kind        string
	Requirement Requirement
	Enrolled    bool
	Until       time.Time // end of the enrollment period (enrollment-period)
	Since       time.Time // when the period ended (enrollment-expired)
	Locked      bool
	LockedUntil time.Time // zero with Locked: until an admin unlocks
}

// EnrollDays is the length of the user's enrollment period.
func EnrollDays(in Input) int {
	if in.HasUser && in.User.EnrollDays > 0 {
		return in.User.EnrollDays
	}
	if in.Settings.EnrollDays > 0 {
		return in.Settings.EnrollDays
	}
	return store.DefaultSettings().EnrollDays
}

// StatusOf computes the account's status at in.Now.
func StatusOf(in Input) Status {
	st := Status{Requirement: Required(in)}
	st.Enrolled = in.HasUser && in.User.TOTP != nil
	st.Locked, st.LockedUntil = IsLocked(in.State, in.Now)
	switch {
	case !st.Requirement.Required:
		st.Kind = StatusNotRequired
	case st.Enrolled:
		st.Kind = StatusEnrolled
	case in.HasUser && in.User.Forced:
		st.Kind = StatusNotEnrolled
	case in.State.PeriodStart.IsZero():
		st.Kind = StatusPreEnrollment
	default:
		end := in.State.PeriodStart.Add(time.Duration(EnrollDays(in)) * 24 * time.Hour)
		if in.Now.Before(end) {
			st.Kind, st.Until = StatusEnrollmentPeriod, end
		} else {
			st.Kind, st.Since = StatusEnrollmentExpired, end
		}
	}
	return st
}

// IsLocked reports whether failed attempts have locked the account now.
func IsLocked(s store.State, now time.Time) (bool, time.Time) {
	if !s.Locked {
		return false, time.Time{}
	}
	if s.LockedUntil.IsZero() || now.Before(s.LockedUntil) {
		return true, s.LockedUntil
	}
	return false, time.Time{}
}

// Action is what the daemon does next with a login.
type Action int

const (
	Skip        Action = iota // no code needed: verdict skip
	Prompt                    // ask for a code
	OfferEnroll               // offer in-band setup; the person may decline
	ForceEnroll               // in-band setup is the only way in
	Deny                      // refuse without asking
)

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	Reason string // the verdict reason for Skip and Deny
	Status Status
	// Detail says why, for the audit (the trusted network that matched).
	Detail string
}

// Decide is the decision table of docs/policy.md for a login on surface.
// interactive says the client can show setup text and read free answers.
func Decide(in Input, surface string, interactive bool) Decision {
	in.Surface = surface
	s := in.Settings
	switch {
	case !s.OrgTOTP:
		return Decision{Action: Skip, Reason: "org-totp-disabled"}
	case !s.DeviceMFA:
		return Decision{Action: Skip, Reason: "device-mfa-disabled"}
	case surface == SurfaceUnlock && !s.UnlockRequiresCode,
		surface == SurfaceUAC && !s.UACRequiresCode:
		return Decision{Action: Skip, Reason: "surface-exempt"}
	case in.Unknown:
		return Decision{Action: Deny, Reason: "unknown-account"}
	}
	st := StatusOf(in)
	inband := interactive && s.InBandEnrollment
	switch st.Kind {
	case StatusNotRequired:
		return Decision{Action: Skip, Reason: "not-required", Status: st}
	case StatusEnrolled:
		if st.Locked {
			// Before trusted networks: a locked account stays locked
			// wherever it logs in from (row N5).
			return Decision{Action: Deny, Reason: "locked-out", Status: st}
		}
		if n := trustedHere(in, st); n != "" {
			return Decision{Action: Skip, Reason: "trusted-network", Status: st, Detail: n}
		}
		if w, ok := graceWindow(in); ok {
			return Decision{Action: Skip, Reason: "grace", Status: st, Detail: GraceDetail(w)}
		}
		return Decision{Action: Prompt, Status: st}
	case StatusNotEnrolled:
		if inband {
			return Decision{Action: ForceEnroll, Status: st}
		}
		return Decision{Action: Deny, Reason: "enrollment-required", Status: st}
	case StatusPreEnrollment, StatusEnrollmentPeriod:
		if inband {
			return Decision{Action: OfferEnroll, Reason: "enrollment-period", Status: st}
		}
		return Decision{Action: Skip, Reason: "enrollment-period", Status: st}
	default: // StatusEnrollmentExpired
		return Decision{Action: Deny, Reason: "enrollment-expired", Status: st}
	}
}

// RecordFailure counts one failed attempt and locks the account when the
// limit is reached. An expired lock starts a fresh count.
func RecordFailure(s store.State, set store.Settings, now time.Time) store.State {
	if s.Locked {
		if locked, _ := IsLocked(s, now); !locked {
			s.Locked, s.LockedUntil, s.Failures = false, time.Time{}, 0
		}
	}
	s.Failures++
	limit := set.AttemptLimit
	if limit <= 0 {
		limit = store.DefaultSettings().AttemptLimit
	}
	if s.Failures >= limit && !s.Locked {
		s.Locked = true
		if set.Lockout > 0 {
			s.LockedUntil = now.Add(set.Lockout)
		} else {
			s.LockedUntil = time.Time{}
		}
	}
	return s
}

// RecordSuccess clears the failure count and remembers the accepted step.
func RecordSuccess(s store.State, step int64) store.State {
	s.Failures, s.Locked, s.LockedUntil = 0, false, time.Time{}
	if step > s.LastStep {
		s.LastStep = step
	}
	return s
}

// Unlock clears a lockout (admin action).
func Unlock(s store.State) store.State {
	s.Failures, s.Locked, s.LockedUntil = 0, false, time.Time{}
	return s
}
