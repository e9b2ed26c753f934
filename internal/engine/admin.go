package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// UserRow is one account as admins see it (`user status`, `users`).
type UserRow struct {
	User         string     `json:"user"`
	Status       string     `json:"status"`
	StatusText   string     `json:"status_text"`
	Required     bool       `json:"required"`
	RequiredBy   string     `json:"required_by,omitempty"`
	Enrolled     bool       `json:"enrolled"`
	EnrolledAt   *time.Time `json:"enrolled_at,omitempty"`
	EnrollDays   int        `json:"enroll_days,omitempty"`
	Forced       bool       `json:"forced,omitempty"`
	PeriodUntil  *time.Time `json:"period_until,omitempty"`
	ExpiredSince *time.Time `json:"expired_since,omitempty"`
	Failures     int        `json:"failures"`
	Locked       bool       `json:"locked"`
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
	// Surfaces is the scope of the user's own requirement (empty: all).
	Surfaces []string `json:"surfaces,omitempty"`
	// RecoveryCodes is how many unspent recovery codes the account has
	// here: its local set's and the fleet set's together (R10, R16).
	// New fields go last: scripts read `users --json` in the order 0.2.0
	// printed (user, status, ...).
	RecoveryCodes int `json:"recovery_codes"`
	// FleetRecoveryCodes is the fleet set's part of them, and
	// FleetRecoverySet that set's id (empty: the bundle gave none).
	FleetRecoveryCodes int    `json:"fleet_recovery_codes,omitempty"`
	FleetRecoverySet   string `json:"fleet_recovery_set,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func rowOf(in policy.Input, name string) UserRow {
	st := policy.StatusOf(in)
	r := UserRow{
		User: name, Status: st.Kind, StatusText: st.Kind,
		Required: st.Requirement.Required, RequiredBy: st.Requirement.By,
		Enrolled: st.Enrolled, Failures: in.State.Failures, Locked: st.Locked,
		LockedUntil: timePtr(st.LockedUntil), PeriodUntil: timePtr(st.Until), ExpiredSince: timePtr(st.Since),
	}
	if in.HasUser {
		r.Forced = in.User.Forced
		r.EnrollDays = in.User.EnrollDays
		if in.User.Required {
			r.Surfaces = in.User.Surfaces
		}
		if in.User.TOTP != nil {
			r.EnrolledAt = timePtr(in.User.TOTP.EnrolledAt)
		}
	}
	switch st.Kind {
	case policy.StatusEnrollmentPeriod:
		r.StatusText = fmt.Sprintf("%s (until %s)", st.Kind, st.Until.Local().Format("2006-01-02 15:04"))
	case policy.StatusEnrollmentExpired:
		r.StatusText = fmt.Sprintf("%s (since %s)", st.Kind, st.Since.Local().Format("2006-01-02 15:04"))
	}
	if st.Locked {
		if st.LockedUntil.IsZero() {
			r.StatusText += ", locked (until an admin unlocks)"
		} else {
			r.StatusText += ", locked (until " + st.LockedUntil.Local().Format("2006-01-02 15:04") + ")"
		}
	}
	return r
}

// Actor names who made an admin change, for the audit log.
type Actor string

// overrideMark is appended to the actor of a change made with
// --local-override, so the audit log shows every override.
const overrideMark = " (local-override)"

// LocalOverride marks a change the admin makes on purpose on a fleet-managed
// device; it lasts until the next bundle replaces the configuration.
func (a Actor) LocalOverride() Actor { return a + overrideMark }

// ErrFleetManaged refuses a local edit of configuration a fleet bundle owns.
var ErrFleetManaged = errors.New("this device is managed by a fleet: change fleet.yaml and publish, or repeat with --local-override to change this device until the next bundle")

func (e *Engine) change(actor Actor, ev store.Event, fn func(tx *store.Tx) error) error {
	ev.Actor, ev.Time, ev.PeerUID = string(actor), e.Now(), peerUIDOf(actor)
	err := e.Store.Update(func(tx *store.Tx) error {
		// unlock touches living data only, which no bundle owns.
		if managed, err := tx.FleetManaged(); err != nil {
			return err
		} else if managed && ev.Kind != "unlock" && !strings.HasSuffix(string(actor), overrideMark) {
			return ErrFleetManaged
		}
		if err := fn(tx); err != nil {
			return err
		}
		return e.audit(tx, ev)
	})
	if err == nil {
		e.logEvent(ev, nil)
	}
	return err
}

// Settings returns the current settings.
func (e *Engine) Settings() (store.Settings, error) {
	var s store.Settings
	err := e.Store.View(func(tx *store.Tx) (err error) { s, err = tx.Settings(); return })
	return s, err
}

// UpdateSettings applies edit to the settings after validating the result.
func (e *Engine) UpdateSettings(actor Actor, what string, edit func(*store.Settings)) (store.Settings, error) {
	var out store.Settings
	err := e.change(actor, store.Event{Kind: "setting", Detail: what}, func(tx *store.Tx) error {
		s, err := tx.Settings()
		if err != nil {
			return err
		}
		edit(&s)
		if err := ValidateSettings(s); err != nil {
			return err
		}
		out = s
		return tx.PutSettings(s)
	})
	return out, err
}

// ValidateSettings checks the admin-set limits.
func ValidateSettings(s store.Settings) error {
	switch {
	case s.AttemptLimit < 1 || s.AttemptLimit > 100:
		return fmt.Errorf("attempt limit must be 1 to 100, not %d", s.AttemptLimit)
	case s.Lockout < 0 || s.Lockout > 30*24*time.Hour:
		return fmt.Errorf("lockout must be 0 (until an admin unlocks) up to 720h, not %s", s.Lockout)
	case s.Skew < 0 || s.Skew > 10:
		return fmt.Errorf("skew must be 0 to 10 steps, not %d", s.Skew)
	case s.EnrollDays < 1 || s.EnrollDays > 365:
		return fmt.Errorf("enrollment period must be 1 to 365 days, not %d", s.EnrollDays)
	case s.AuthDBDrift != "" && s.AuthDBDrift != "repair" && s.AuthDBDrift != "report":
		return fmt.Errorf("authdb drift must be repair or report, not %q", s.AuthDBDrift)
	case s.Grace < 0 || s.Grace > policy.MaxGrace:
		return fmt.Errorf("grace must be 0 (off) up to %s, not %s", policy.MaxGrace, s.Grace)
	}
	if err := policy.CheckSurfaces(s.GraceSurfaces); err != nil {
		return fmt.Errorf("grace surfaces: %w", err)
	}
	return policy.CheckNetworks(s.TrustedNetworks)
}

// ErrUnknownUser is returned by admin commands on a name with no record.
var ErrUnknownUser = errors.New("no such jcmfa user")

// UserStatus returns one account's row; names without a record are shown
// as the policy sees them (for example required by a group policy).
func (e *Engine) UserStatus(name string) (UserRow, error) {
	w, err := e.resolve(name)
	if err != nil {
		return UserRow{}, err
	}
	var r UserRow
	err = e.Store.View(func(tx *store.Tx) error {
		key := recordKey(tx, w)
		in, err := e.input(tx, key, e.Now())
		if err != nil {
			return err
		}
		r, err = rowAt(tx, in, key)
		return err
	})
	return r, err
}

// target resolves the account an admin command names and finds where its
// records are kept (recordKey). ev gets the account and the name as given.
func (e *Engine) target(name string, ev *store.Event) (who, string, error) {
	w, err := e.resolve(name)
	if err != nil {
		return w, "", err
	}
	var key string
	err = e.Store.View(func(tx *store.Tx) error { key = recordKey(tx, w); return nil })
	ev.User = key
	if key != w.typed {
		ev.Typed = w.typed
	}
	return w, key, err
}

// RequireOptions are the choices of `user require`.
type RequireOptions struct {
	EnrollDays int  // 0: device default
	Forced     bool // no enrollment period
	Pre        bool // pre-enrollment: the period starts at the first login
	// Surfaces scopes the requirement (policy.Surfaces); nil: every
	// surface. Requiring again replaces the scope.
	Surfaces []string
}

// RequireUser requires MFA of name. The enrollment period starts now for an
// existing account, and at its first login for one that is not known yet
// (pre-enrollment) or when opts.Pre says so. warnings are notes for the admin.
func (e *Engine) RequireUser(actor Actor, name string, opts RequireOptions) (row UserRow, warnings []string, err error) {
	if opts.EnrollDays != 0 && (opts.EnrollDays < 1 || opts.EnrollDays > 365) {
		return row, nil, fmt.Errorf("enrollment period must be 1 to 365 days, not %d", opts.EnrollDays)
	}
	if err := policy.CheckSurfaces(opts.Surfaces); err != nil {
		return row, nil, err
	}
	ev := store.Event{Kind: "require", Detail: fmt.Sprintf("days=%d forced=%v pre=%v", opts.EnrollDays, opts.Forced, opts.Pre)}
	if len(opts.Surfaces) > 0 {
		ev.Detail += " surfaces=" + strings.Join(opts.Surfaces, ",")
	}
	w, name, err := e.target(name, &ev)
	if err != nil {
		return row, nil, err
	}
	exists := w.resolved
	if !exists {
		warnings = append(warnings, fmt.Sprintf("the OS knows no account named %q yet (a directory account may resolve later): its record is kept under that name, and its enrollment period starts at its first login", name))
	} else if w.typed != name {
		warnings = append(warnings, fmt.Sprintf("%q is the account %s: its record is kept under that name", w.typed, name))
	}
	now := e.Now()
	err = e.change(actor, ev, func(tx *store.Tx) error {
		u, found, err := tx.User(name)
		if err != nil {
			return err
		}
		if !found {
			u = store.User{Name: name, Created: now}
		}
		u.Required, u.EnrollDays, u.Forced, u.Surfaces = true, opts.EnrollDays, opts.Forced, opts.Surfaces
		if err := tx.PutUser(u); err != nil {
			return err
		}
		st, err := tx.State(name)
		if err != nil {
			return err
		}
		if st.PeriodStart.IsZero() && exists && !opts.Pre {
			st.PeriodStart = now
			if err := tx.PutState(name, st); err != nil {
				return err
			}
		}
		in, err := e.input(tx, name, now)
		if err != nil {
			return err
		}
		row, err = rowAt(tx, in, name)
		return err
	})
	return row, warnings, err
}

// UnrequireUser drops the user's own requirement (policies still apply).
func (e *Engine) UnrequireUser(actor Actor, name string) (UserRow, error) {
	var row UserRow
	ev := store.Event{Kind: "unrequire"}
	_, name, err := e.target(name, &ev)
	if err != nil {
		return row, err
	}
	err = e.change(actor, ev, func(tx *store.Tx) error {
		u, found, err := tx.User(name)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w %q", ErrUnknownUser, name)
		}
		u.Required, u.Forced = false, false
		if err := tx.PutUser(u); err != nil {
			return err
		}
		in, err := e.input(tx, name, e.Now())
		if err != nil {
			return err
		}
		row, err = rowAt(tx, in, name)
		return err
	})
	return row, err
}

// EnrollUser sets TOTP up on the user's behalf and returns the new secret;
// the user counts as enrolled at once. An existing secret is replaced only
// after `user reset`, so a typo cannot lock someone out.
func (e *Engine) EnrollUser(actor Actor, name string, p totp.Params) (NewSecret, []string, error) {
	ev := store.Event{Kind: "enroll", Detail: "by admin"}
	_, name, err := e.target(name, &ev)
	if err != nil {
		return NewSecret{}, nil, err
	}
	if err := p.Validate(); err != nil {
		return NewSecret{}, nil, err
	}
	ns, err := e.newSecret(name, p)
	if err != nil {
		return NewSecret{}, nil, err
	}
	var warnings []string
	now := e.Now()
	err = e.change(actor, ev, func(tx *store.Tx) error {
		u, found, err := tx.User(name)
		if err != nil {
			return err
		}
		if found && u.TOTP != nil {
			return fmt.Errorf("%s is already enrolled; run `jcmfa-agent user reset %s` first to replace the secret", name, name)
		}
		if !found {
			u = store.User{Name: name, Created: now}
		}
		ns.Secret.EnrolledAt = now
		sec := ns.Secret
		u.TOTP = &sec
		if err := tx.PutUser(u); err != nil {
			return err
		}
		st, err := tx.State(name)
		if err != nil {
			return err
		}
		st = policy.Unlock(st)
		st.LastStep = 0
		if err := tx.PutState(name, st); err != nil {
			return err
		}
		in, err := e.input(tx, name, now)
		if err == nil && !policy.Required(in).Required {
			warnings = append(warnings, fmt.Sprintf("%s is enrolled but MFA is not required of them, so they are not asked for a code; run `jcmfa-agent user require %s`", name, name))
		}
		return err
	})
	return ns, warnings, err
}

// editState applies edit to name's records; each of also then runs in the
// same transaction (e.g. revoking recovery codes at a reset).
func (e *Engine) editState(actor Actor, kind, name string, edit func(*store.User, *store.State, time.Time), also ...func(*store.Tx, string) error) (UserRow, error) {
	var row UserRow
	ev := store.Event{Kind: kind}
	_, name, err := e.target(name, &ev)
	if err != nil {
		return row, err
	}
	err = e.change(actor, ev, func(tx *store.Tx) error {
		u, found, err := tx.User(name)
		if err != nil {
			return err
		}
		if !found && !tx.HasState(name) {
			return fmt.Errorf("%w %q", ErrUnknownUser, name)
		}
		st, err := tx.State(name)
		if err != nil {
			return err
		}
		now := e.Now()
		edit(&u, &st, now)
		if found {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		if err := tx.PutState(name, st); err != nil {
			return err
		}
		for _, fn := range also {
			if err := fn(tx, name); err != nil {
				return err
			}
		}
		in, err := e.input(tx, name, now)
		if err != nil {
			return err
		}
		row, err = rowAt(tx, in, name)
		return err
	})
	return row, err
}

// ResetUser removes the user's secret and recovery codes and restarts the
// enrollment period, so an expired user can enroll again.
func (e *Engine) ResetUser(actor Actor, name string) (UserRow, error) {
	return e.editState(actor, "reset", name, func(u *store.User, st *store.State, now time.Time) {
		u.TOTP = nil
		*st = store.State{PeriodStart: now}
		// The fleet set goes too, until the next bundle; what was spent
		// of it stays spent (R16).
	}, (*store.Tx).RevokeLocalRecovery, (*store.Tx).DeleteFleetRecovery)
}

// UnlockUser clears a lockout and the failure count.
func (e *Engine) UnlockUser(actor Actor, name string) (UserRow, error) {
	return e.editState(actor, "unlock", name, func(_ *store.User, st *store.State, _ time.Time) {
		*st = policy.Unlock(*st)
	})
}

// RemoveUser deletes the user's record and living data.
func (e *Engine) RemoveUser(actor Actor, name string) error {
	ev := store.Event{Kind: "remove"}
	_, name, err := e.target(name, &ev)
	if err != nil {
		return err
	}
	return e.change(actor, ev, func(tx *store.Tx) error {
		if _, found, err := tx.User(name); err != nil {
			return err
		} else if !found && !tx.HasState(name) {
			return fmt.Errorf("%w %q", ErrUnknownUser, name)
		}
		return tx.DeleteUser(name)
	})
}

// ListUsers calls fn with every account that has a record, in name order.
func (e *Engine) ListUsers(fn func(UserRow) error) error {
	now := e.Now()
	return e.Store.View(func(tx *store.Tx) error {
		base, err := baseInput(tx, now)
		if err != nil {
			return err
		}
		return tx.ForEachUser(func(u store.User) error {
			in := base
			in.User, in.HasUser = u, true
			in, err := userInput(tx, in, u.Name, e.Directory.Groups)
			if err != nil {
				return err
			}
			r, err := rowAt(tx, in, u.Name)
			if err != nil {
				return err
			}
			return fn(r)
		})
	})
}

// AddPolicy stores a conditional policy.
func (e *Engine) AddPolicy(actor Actor, p store.Policy) (store.Policy, error) {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return p, errors.New("a policy needs a name")
	}
	if !p.AllUsers && len(p.Groups) == 0 {
		return p, errors.New("a policy applies to all users (--all) or to groups (--groups a,b)")
	}
	if p.AllUsers && len(p.Groups) > 0 {
		return p, errors.New("give either --all or --groups, not both")
	}
	for _, g := range slices.Concat(p.Groups, p.Exclude) {
		if err := CheckName(g); err != nil {
			return p, fmt.Errorf("group: %w", err)
		}
	}
	if err := policy.CheckSurfaces(p.Surfaces); err != nil {
		return p, err
	}
	if err := policy.CheckNetworks(p.TrustedNetworks); err != nil {
		return p, err
	}
	detail := p.Name
	if len(p.Surfaces) > 0 {
		detail += " surfaces=" + strings.Join(p.Surfaces, ",")
	}
	if len(p.TrustedNetworks) > 0 {
		detail += " trusted_networks=" + strings.Join(p.TrustedNetworks, ",")
	}
	err := e.change(actor, store.Event{Kind: "policy-add", Detail: detail}, func(tx *store.Tx) error {
		id, err := tx.NewPolicyID()
		if err != nil {
			return err
		}
		p.ID, p.Created = id, e.Now()
		return tx.PutPolicy(p)
	})
	return p, err
}

// Policies lists the conditional policies.
func (e *Engine) Policies() ([]store.Policy, error) {
	var ps []store.Policy
	err := e.Store.View(func(tx *store.Tx) (err error) { ps, err = tx.Policies(); return })
	return ps, err
}

// RemovePolicy deletes a policy by id.
func (e *Engine) RemovePolicy(actor Actor, id string) error {
	return e.change(actor, store.Event{Kind: "policy-remove", Detail: id}, func(tx *store.Tx) error {
		return tx.DeletePolicy(id)
	})
}

// EnablePolicy switches a policy on or off.
func (e *Engine) EnablePolicy(actor Actor, id string, on bool) (store.Policy, error) {
	var p store.Policy
	err := e.change(actor, store.Event{Kind: "policy-enable", Detail: fmt.Sprintf("%s=%v", id, on)}, func(tx *store.Tx) (err error) {
		if p, err = tx.Policy(id); err != nil {
			return err
		}
		p.Enabled = on
		return tx.PutPolicy(p)
	})
	return p, err
}

// Audit returns up to n of the newest audit events, oldest first.
func (e *Engine) Audit(n int) ([]store.Event, error) {
	var evs []store.Event
	err := e.Store.View(func(tx *store.Tx) (err error) { evs, err = tx.Events(n); return })
	return evs, err
}
