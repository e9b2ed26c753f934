package store

import (
	"time"

	"github.com/jcmfa/jcmfa/internal/printable"
)

// Settings are the org and device switches and the limits the policy uses.
// They are configuration: a fleet bundle replaces them.
type Settings struct {
	OrgTOTP   bool `json:"org_totp"`   // TOTP enabled for the organisation
	DeviceMFA bool `json:"device_mfa"` // MFA enabled on this device

	AttemptLimit int           `json:"attempt_limit"` // consecutive failures before lockout
	Lockout      time.Duration `json:"lockout"`       // 0: locked until an admin unlocks
	Skew         int           `json:"skew"`          // accepted time steps either side of now
	EnrollDays   int           `json:"enroll_days"`   // default enrollment period

	UnlockRequiresCode bool `json:"unlock_requires_code"` // ask at the "unlock" surface too
	// UACRequiresCode: ask at the "uac" surface too (a Windows elevation
	// prompt, consent.exe, that asks for credentials; docs/windows.md).
	UACRequiresCode  bool `json:"uac_requires_code"`
	InBandEnrollment bool `json:"inband_enrollment"` // offer setup at login during the period
	// AuthDBDrift is what the macOS daemon does when jcmfa:verify is
	// missing from or misplaced in system.login.console (an OS update
	// replaced the rule): "repair" (put it back; "" reads as repair) or
	// "report" (only log and audit: an MDM owns the rule). internal/authdb.
	AuthDBDrift string `json:"authdb_drift,omitempty"`
	// TrustedNetworks are CIDR prefixes whose logins (by remote host, an
	// IP literal) are not asked for a code (policy/netrule.go).
	TrustedNetworks []string `json:"trusted_networks,omitempty"`
	// Grace is how long an allowed code spares the same account from the
	// same origin on GraceSurfaces (policy/grace.go); 0: off.
	Grace         time.Duration `json:"grace,omitempty"`
	GraceSurfaces []string      `json:"grace_surfaces,omitempty"` // empty: policy.DefaultGraceSurfaces
}

// DefaultSettings are the safe defaults of a fresh device: nothing is
// enforced until an admin enables TOTP for the org and MFA for the device.
func DefaultSettings() Settings {
	return Settings{
		AttemptLimit:     5,
		Lockout:          15 * time.Minute,
		Skew:             1,
		EnrollDays:       7,
		InBandEnrollment: true,
		AuthDBDrift:      "repair",
	}
}

// User is one account's configuration: whether MFA is required of it and its
// TOTP secret. A fleet bundle replaces it; living data is in State.
type User struct {
	Name       string    `json:"name"`
	Required   bool      `json:"required"`              // required by the admin for this user
	EnrollDays int       `json:"enroll_days,omitempty"` // 0: the device default
	Forced     bool      `json:"forced,omitempty"`      // no enrollment period: set up at next login
	TOTP       *Secret   `json:"totp,omitempty"`        // nil: not enrolled
	Created    time.Time `json:"created"`
	// Surfaces scopes Required to these surfaces (policy.Surfaces);
	// empty: every surface.
	Surfaces []string `json:"surfaces,omitempty"`
	// Recovery is the fleet admin's recovery code set for this account
	// as a bundle carries it (sealed like the TOTP secret). It is only
	// in transit here: ApplyBundle keeps it in a bucket of its own
	// (Tx.FleetRecovery), read only for an answer shaped like a recovery
	// code, so a TOTP login decodes no hashes, and PutUser never stores
	// it. The codes this device spent of it are living data in the
	// recovery record (recovery.go).
	Recovery *FleetRecovery `json:"recovery,omitempty"`
}

// Secret is an enrolled TOTP key and its parameters (RFC 6238).
type Secret struct {
	Key        string    `json:"key"` // base32, as shown to the user
	Algorithm  string    `json:"algorithm"`
	Digits     int       `json:"digits"`
	Period     int       `json:"period"`
	EnrolledAt time.Time `json:"enrolled_at"`
}

// State is an account's living data, written by the daemon at each login and
// never overwritten by configuration.
type State struct {
	// PeriodStart is when the enrollment period began; zero means the
	// account has not become active yet (pre-enrollment).
	PeriodStart time.Time `json:"period_start,omitempty"`
	LastStep    int64     `json:"last_step,omitempty"` // highest time step accepted
	Failures    int       `json:"failures,omitempty"`  // consecutive failed attempts
	Locked      bool      `json:"locked,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitempty"` // zero with Locked: until an admin unlocks
	// Grace are the account's open grace windows, newest first, at most
	// policy.GraceCap (policy/grace.go).
	Grace []GraceWindow `json:"grace,omitempty"`
}

// GraceWindow is one allowed code's window: where it came from and what
// it was opened under.
type GraceWindow struct {
	Origin   string    `json:"origin"`   // "ip:ADDR" or "session:BOOT:ID tty:TTY"
	Surface  string    `json:"surface"`  // of the login that opened it
	At       time.Time `json:"at"`       // when the code was allowed
	Secret   string    `json:"secret"`   // policy.SecretID of the secret then
	Settings string    `json:"settings"` // policy.SettingsID of the settings then
}

// Policy is a conditional policy: it requires MFA of all users or of members
// of Groups, except members of Exclude.
type Policy struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Enabled  bool      `json:"enabled"`
	AllUsers bool      `json:"all_users"`
	Groups   []string  `json:"groups,omitempty"`
	Exclude  []string  `json:"exclude,omitempty"`
	Created  time.Time `json:"created"`
	// Surfaces scopes the policy to these surfaces (policy.Surfaces);
	// empty: every surface.
	Surfaces []string `json:"surfaces,omitempty"`
	// TrustedNetworks lift this policy's requirement for logins from
	// these CIDR prefixes (policy/netrule.go).
	TrustedNetworks []string `json:"trusted_networks,omitempty"`
}

// Event is one audit record.
type Event struct {
	Seq   uint64    `json:"seq"`
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`            // login, enroll, reset, unlock, setting, ...
	User  string    `json:"user,omitempty"`  // the account: its canonical name
	Typed string    `json:"typed,omitempty"` // the name as given, when it differs
	// AccountID is the account's uid (Linux, macOS) or SID (Windows), as
	// the OS resolved the name at the time; empty for a name it did not
	// know.
	AccountID string `json:"account_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
	// PeerUID is the uid of the process that asked (the kernel's word, via
	// SO_PEERCRED / LOCAL_PEERCRED); -1 on Windows, where the pipe admits
	// SYSTEM and Administrators only. Nil only in events written before
	// it was recorded, and in the daemon's own (fleet, migration).
	PeerUID *int   `json:"peer_uid,omitempty"`
	Surface string `json:"surface,omitempty"`
	Service string `json:"service,omitempty"`
	RHost   string `json:"rhost,omitempty"`
	TTY     string `json:"tty,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Printable is ev with every text field escaped for a display (a terminal,
// the Event Log, a log viewer): some come from less-privileged parties.
func (ev Event) Printable() Event {
	for _, f := range []*string{&ev.Kind, &ev.User, &ev.Typed, &ev.Actor, &ev.Surface, &ev.Service,
		&ev.RHost, &ev.TTY, &ev.Verdict, &ev.Reason, &ev.Detail} {
		*f = printable.Escape(*f)
	}
	return ev
}
