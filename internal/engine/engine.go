// Package engine is where a login is decided: it reads the store, asks the
// policy, checks the code, and writes the outcome and its audit event in one
// transaction. The daemon's channel, the CLI and the tests all go through
// this one engine; there is no second copy of a rule.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jcmfa/jcmfa/internal/accounts"
	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// Conversation is how the engine talks to the person logging in, through
// whatever client relays it.
type Conversation interface {
	Info(text string) error
	Error(text string) error
	// Ask shows prompt and returns the answer; echo says whether the input
	// may be shown as it is typed.
	Ask(echo bool, prompt string) (string, error)
}

// LoginRequest is who is logging in, and where from.
type LoginRequest struct {
	User        string
	Surface     string
	Service     string
	RHost       string
	TTY         string
	Client      string // the kind of client relaying, for the audit log
	Interactive bool   // the client can show setup text and read free answers
	// PeerUID is the uid of the process that sent the request, as the
	// kernel reports it (-1 where the platform has none: Windows pipe).
	// The channel sets it; the audit records it.
	PeerUID int
	// PeerPID is the pid of that process, as the kernel reports it (0
	// where the platform has none); grace windows read its login session.
	PeerPID int
	// Typed is the name as the client gave it when the engine has
	// resolved User to another (canonical) name; set by the engine.
	Typed string
	// AccountID is the resolved account's uid or SID ("" when the OS
	// does not know the name); set by the engine.
	AccountID string
	// origin is where the login comes from for grace windows; set by the
	// engine (grace.go).
	origin string
}

// Verdict words.
const (
	Allow = "allow"
	Skip  = "skip"
	Deny  = "deny"
)

// Verdict is the engine's final word on a login.
type Verdict struct {
	Word   string
	Reason string
}

// Engine decides logins and carries out admin changes.
type Engine struct {
	Store     *store.Store
	Directory accounts.Directory
	Log       *slog.Logger
	Now       func() time.Time
	Issuer    string // shown in authenticator apps
	Hostname  string
	// Sink, if set, also receives every audit event (the Windows Event
	// Log on Windows).
	Sink func(store.Event)
	// SessionOf names the login session of a process (grace.go); nil or
	// "": none.
	SessionOf func(pid int) string
}

// New returns an engine with the system clock and account database.
func New(st *store.Store, log *slog.Logger) *Engine {
	host, _ := os.Hostname()
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return &Engine{Store: st, Directory: accounts.NewCache(accounts.System{}), Log: log, Now: time.Now, Issuer: "jcmfa", Hostname: host, SessionOf: loginSession}
}

// ForgetAccounts drops the remembered answers of the OS account database
// (accounts.Cache), so what an admin just changed there is seen at once.
func (e *Engine) ForgetAccounts() {
	if c, ok := e.Directory.(interface{ Flush() }); ok {
		c.Flush()
	}
}

// ErrBadName is returned for a user name that cannot be a login name.
var ErrBadName = errors.New("invalid user name")

// CheckName rejects names that no OS accepts as a login name and that would
// confuse logs: empty, overlong, control characters, invalid UTF-8.
func CheckName(name string) error {
	if name == "" || len(name) > 256 || !utf8.ValidString(name) {
		return fmt.Errorf("%w %q", ErrBadName, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '/' {
			return fmt.Errorf("%w %q: it contains %q", ErrBadName, name, r)
		}
	}
	return nil
}

// inputFor is input for the account w, marking a name the OS cannot
// resolve and no record is kept under as Unknown (policy row P24).
func (e *Engine) inputFor(tx *store.Tx, w who, now time.Time) (policy.Input, error) {
	in, err := e.input(tx, w.key, now)
	if err != nil || w.resolved || in.HasUser {
		return in, err
	}
	in.Unknown = !tx.HasState(w.key)
	return in, nil
}

// groupsFunc returns an account's OS groups.
type groupsFunc func(name string) ([]string, error)

// input reads what a decision about name depends on, asking the OS for
// the account's groups when an enabled policy needs them.
func (e *Engine) input(tx *store.Tx, name string, now time.Time) (policy.Input, error) {
	return e.inputWith(tx, name, now, e.Directory.Groups)
}

// inputWith is input with the groups taken from groups: a login's write
// transaction reuses what its first read looked up, so no OS lookup (NSS,
// possibly a directory server) runs while every login waits on the commit.
func (e *Engine) inputWith(tx *store.Tx, name string, now time.Time, groups groupsFunc) (policy.Input, error) {
	in, err := baseInput(tx, now)
	if err != nil {
		return in, err
	}
	if in.User, in.HasUser, err = tx.User(name); err != nil {
		return in, err
	}
	return userInput(tx, in, name, groups)
}

// baseInput reads what every user's decision shares.
func baseInput(tx *store.Tx, now time.Time) (policy.Input, error) {
	in := policy.Input{Now: now}
	var err error
	if in.Settings, err = tx.Settings(); err != nil {
		return in, err
	}
	in.Policies, err = tx.Policies()
	return in, err
}

// userInput completes an input whose settings, policies and user record
// are already read (a listing reads the first two once for every user).
func userInput(tx *store.Tx, in policy.Input, name string, groups groupsFunc) (policy.Input, error) {
	var err error
	if in.State, err = tx.State(name); err != nil {
		return in, err
	}
	in.Groups = nil
	if policy.NeedsGroups(in.Policies) {
		if in.Groups, err = groups(name); err != nil {
			return in, fmt.Errorf("groups of %s: %w", name, err)
		}
	}
	return in, nil
}

// audit records ev in the store (inside tx) and in the structured log.
func (e *Engine) audit(tx *store.Tx, ev store.Event) error {
	if ev.Time.IsZero() {
		ev.Time = e.Now()
	}
	return tx.AppendEvent(&ev)
}

func (e *Engine) logEvent(ev store.Event, err error) {
	if e.Sink != nil {
		e.Sink(ev)
	}
	// The log is read as text (journalctl, a terminal): its JSON escapes
	// C0 controls but not C1 or bidirectional overrides.
	ev = ev.Printable()
	attrs := []any{"kind", ev.Kind, "user", ev.User}
	for _, kv := range [][2]string{{"typed", ev.Typed}, {"account_id", ev.AccountID}, {"surface", ev.Surface}, {"service", ev.Service}, {"rhost", ev.RHost}, {"tty", ev.TTY},
		{"verdict", ev.Verdict}, {"reason", ev.Reason}, {"actor", ev.Actor}, {"detail", ev.Detail}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	if ev.PeerUID != nil {
		attrs = append(attrs, "peer_uid", *ev.PeerUID)
	}
	if err != nil {
		e.Log.Error("audit", append(attrs, "error", err.Error())...)
		return
	}
	e.Log.Info("audit", attrs...)
}

func loginEvent(req LoginRequest, v Verdict) store.Event {
	peer := req.PeerUID
	return store.Event{Kind: "login", User: req.User, Typed: req.Typed, AccountID: req.AccountID, Surface: req.Surface, Service: req.Service,
		RHost: req.RHost, TTY: req.TTY, Verdict: v.Word, Reason: v.Reason, Actor: req.Client, PeerUID: &peer}
}

// identify resolves req.User to its account and rewrites req to be about
// it: User becomes the key of the account's records, Typed the name as
// given when that differs. A verdict is returned (already audited and
// told to the person) when the name cannot stand for an account.
func (e *Engine) identify(req *LoginRequest, conv Conversation) (who, *Verdict) {
	w, err := e.resolve(req.User)
	if err != nil {
		if errors.Is(err, ErrBadName) {
			// Audit what was sent, truncated: the sinks escape it.
			req.User, req.Typed = "", truncate(req.User, 64)
			v := Verdict{Deny, "protocol"}
			conv.Error(err.Error())
			ev := loginEvent(*req, v)
			err := e.Store.Record("", func(tx *store.Tx) error { return e.audit(tx, ev) })
			e.logEvent(ev, err)
			return w, &v
		}
		req.Typed = req.User
		req.User = ""
		v := e.internalError(*req, conv, err)
		return w, &v
	}
	req.User, req.Typed, req.AccountID = w.key, w.typedIfOther(), w.id
	if err := e.adoptTypedRecord(w); err != nil {
		v := e.internalError(*req, conv, err)
		return w, &v
	}
	return w, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Login runs one login dialogue and returns the verdict. Every verdict is
// audited. Errors inside the engine deny (fail closed).
func (e *Engine) Login(ctx context.Context, req LoginRequest, conv Conversation) Verdict {
	if req.Surface == "" {
		req.Surface = policy.SurfaceConsole
	}
	if refused := e.checkSurface(&req, conv); refused != nil {
		return *refused
	}
	w, refused := e.identify(&req, conv)
	if refused != nil {
		return *refused
	}
	now := e.Now()
	var d policy.Decision
	var groups []string
	err := e.Store.ViewUser(req.User, func(tx *store.Tx) error {
		in, err := e.inputFor(tx, w, now)
		if err != nil {
			return err
		}
		groups = in.Groups
		in.RHost = req.RHost
		if in.Settings.Grace > 0 {
			req.origin = e.originOf(req)
			in.Origin, in.Fence = req.origin, e.Store.Fence()
		}
		d = policy.Decide(in, req.Surface, req.Interactive)
		return nil
	})
	if err != nil {
		return e.internalError(req, conv, err)
	}
	switch d.Action {
	case policy.Skip:
		return e.finishDetail(req, Verdict{Skip, d.Reason}, d.Status.Kind == policy.StatusPreEnrollment, d.Detail)
	case policy.Deny:
		conv.Error(denyMessage(d))
		return e.finish(req, Verdict{Deny, d.Reason}, false)
	case policy.OfferEnroll, policy.ForceEnroll:
		return e.enrollDialogue(ctx, req, conv, d.Action == policy.ForceEnroll, d.Status.Kind == policy.StatusPreEnrollment)
	}
	answer, err := conv.Ask(false, "Verification code: ")
	if err != nil {
		return Verdict{Deny, "cancelled"} // the client is gone; nothing was tried
	}
	return e.checkCode(req, conv, answer, groups)
}

// finish audits a verdict that changes no account state, except that a
// pre-enrolled account becomes active at its first login: its enrollment
// period starts now.
func (e *Engine) finish(req LoginRequest, v Verdict, activate bool) Verdict {
	return e.finishDetail(req, v, activate, "")
}

// finishDetail is finish with the audit event's detail (why it was
// skipped: the trusted network that matched).
func (e *Engine) finishDetail(req LoginRequest, v Verdict, activate bool, detail string) Verdict {
	ev := loginEvent(req, v)
	ev.Detail = detail
	err := e.Store.Record(req.User, func(tx *store.Tx) error {
		if v.Word == Deny {
			// Any deny clears the account's grace windows (row G4).
			if err := clearGrace(tx, req.User); err != nil {
				return err
			}
		}
		if activate {
			st, err := tx.State(req.User)
			if err != nil {
				return err
			}
			if st.PeriodStart.IsZero() {
				st.PeriodStart = e.Now()
				if err := tx.PutState(req.User, st); err != nil {
					return err
				}
			}
		}
		return e.audit(tx, ev)
	})
	e.logEvent(ev, err)
	if err != nil && v.Word != Deny {
		// Could not record the outcome: refuse rather than let an
		// unaudited login through.
		return Verdict{Deny, "internal"}
	}
	return v
}

func (e *Engine) internalError(req LoginRequest, conv Conversation, err error) Verdict {
	v := Verdict{Deny, "internal"}
	conv.Error("The login agent could not check this login. Contact your administrator.")
	ev := loginEvent(req, v)
	ev.Detail = err.Error()
	e.logEvent(ev, err)
	// Best effort: the store may be the thing that is broken.
	e.Store.Record(req.User, func(tx *store.Tx) error { return e.audit(tx, ev) })
	return v
}

func denyMessage(d policy.Decision) string {
	switch d.Reason {
	case "locked-out":
		if d.Status.LockedUntil.IsZero() {
			return "Too many failed verification attempts: this account is locked. Ask your administrator to unlock it."
		}
		return fmt.Sprintf("Too many failed verification attempts: try again after %s, or ask your administrator to unlock the account.",
			d.Status.LockedUntil.Local().Format("15:04 MST"))
	case "enrollment-expired":
		return fmt.Sprintf("Your time to set up a verification code ended on %s. Contact your administrator to reset your enrollment.",
			d.Status.Since.Local().Format("2006-01-02"))
	case "enrollment-required":
		return "You must set up a verification code before you can log in here. Contact your administrator, or log in over SSH to set it up."
	case "unknown-account":
		return "The login agent cannot tell which account this name belongs to, so it cannot check a verification code for it. Log in with your account's own user name."
	}
	return "Access denied."
}

// checkCode verifies an answer in one write transaction: the lockout is
// checked again there, so parallel attempts cannot exceed the limit, and the
// accepted step is recorded in the same commit that allows the login.
// groups are the account's OS groups as the first read found them.
func (e *Engine) checkCode(req LoginRequest, conv Conversation, answer string, groups []string) Verdict {
	known := func(string) ([]string, error) { return groups, nil }
	var v Verdict
	var lockedNow, byFence bool
	var lockedUntil time.Time
	var nextCode time.Duration // a replay: how long until the app shows a usable code
	recoveryLeft := -1         // a recovery code was used: how many are left
	ev := loginEvent(req, Verdict{})
	err := e.Store.Record(req.User, func(tx *store.Tx) error {
		now := e.Now()
		in, err := e.inputWith(tx, req.User, now, known)
		if err != nil {
			return err
		}
		in.RHost = req.RHost
		// No grace here: the person is already answering a code, and a
		// window another login opened meanwhile must not turn that into
		// "state-changed". req.origin opens this login's window below.
		d := policy.Decide(in, req.Surface, req.Interactive)
		if d.Action != policy.Prompt {
			if err := clearGrace(tx, req.User); err != nil {
				return err
			}
			// The account changed while the person typed (reset, unlock,
			// policy): decide again rather than check a stale secret.
			if d.Action == policy.Deny {
				v = Verdict{Deny, d.Reason}
			} else {
				v = Verdict{Deny, "state-changed"}
			}
		} else {
			c := e.checkTOTP(in, answer, now)
			verr := c.err
			st := in.State
			switch {
			case verr == nil:
				st = policy.RecordSuccess(st, c.step)
				st = policy.OpenGrace(st, in, req.origin, req.Surface)
				v = Verdict{Allow, "totp"}
			case c.byFence:
				// A valid code refused only by the fence after an
				// unclean restart: not the person's failure.
				v, byFence = Verdict{Deny, "replayed-code"}, true
				ev.Detail = "refused by the fence after an unclean daemon restart"
			case errors.Is(verr, totp.ErrReplayed):
				// A code already used (a second session within the same
				// time step) guesses nothing: refused, audited, and not
				// counted toward the lockout (row D3).
				v = Verdict{Deny, "replayed-code"}
				nextCode = c.nextCode
				ev.Detail = fmt.Sprintf("not counted; next code in %ds", ceilSeconds(nextCode))
			case errors.Is(verr, totp.ErrFormat), errors.Is(verr, totp.ErrWrong):
				// Only an answer the TOTP check refused, shaped like a
				// recovery code, is looked up as one (recovery.go).
				left, detail, used, rerr := spendRecovery(tx, req.User, answer, now)
				if rerr != nil {
					return rerr
				}
				if used {
					st = policy.RecordSuccess(st, 0)
					v, recoveryLeft = Verdict{Allow, "recovery-code"}, left
					ev.Detail = detail
					break
				}
				st = policy.RecordFailure(st, in.Settings, now)
				v = Verdict{Deny, failureReason(verr)}
				if looksLikeRecovery(answer) {
					v.Reason = "wrong-code"
				}
				lockedNow, lockedUntil = st.Locked, st.LockedUntil
			default:
				return verr
			}
			if v.Word == Deny {
				st.Grace = nil // any deny clears the windows (G4)
			}
			if err := tx.PutState(req.User, st); err != nil {
				return err
			}
		}
		ev.Verdict, ev.Reason, ev.Time = v.Word, v.Reason, now
		return e.audit(tx, ev)
	})
	if err != nil {
		return e.internalError(req, conv, err)
	}
	e.logEvent(ev, nil)
	switch {
	case v.Word == Allow && recoveryLeft >= 0:
		conv.Info(recoveryMessage(recoveryLeft))
	case byFence:
		conv.Error("The login agent restarted after an unexpected stop and refuses the codes of the last minute or so. Wait for your app to show a new code, then try again.")
	case v.Reason == "locked-out":
		conv.Error(denyMessage(policy.Decision{Reason: "locked-out", Status: policy.Status{LockedUntil: lockedUntil}}))
	case v.Word == Deny && lockedNow:
		conv.Error("Wrong verification code. Too many failed attempts: the account is now locked.")
	case v.Reason == "replayed-code":
		conv.Error(replayMessage(nextCode))
	case v.Reason == "bad-code-format":
		conv.Error("That is not a verification code: enter the digits shown in your authenticator app.")
	case v.Word == Deny && v.Reason == "wrong-code":
		conv.Error("Wrong verification code.")
	case v.Word == Deny:
		conv.Error("The account changed during the login. Try again.")
	}
	return v
}

// fenceStep is the last time step the store's fence refuses for secrets
// of p's period: the fence's own step plus the skew (store/fence.go).
func fenceStep(fence time.Time, p totp.Params, skew int) int64 {
	if fence.IsZero() {
		return 0
	}
	period := p.Period
	if period == 0 {
		period = totp.Default.Period
	}
	return totp.Step(fence, period) + int64(skew)
}

// fenced reports whether answer would have been accepted without the
// fence, i.e. the fence alone refused it.
func fenced(key, answer string, now time.Time, p totp.Params, skew int, last int64) bool {
	_, err := totp.Verify(key, answer, now, p, skew, last)
	return err == nil
}

// Name of a user as it shows in authenticator apps.
func (e *Engine) accountLabel(user string) string {
	if e.Hostname == "" {
		return user
	}
	return user + "@" + strings.SplitN(e.Hostname, ".", 2)[0]
}
