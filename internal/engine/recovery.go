package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// Recovery codes (docs/policy.md, R-rows): single-use codes a person keeps
// on paper for the day the phone is lost and the machine is offline. They
// are accepted at every code prompt, each once, counted by the same
// attempt limit as TOTP codes, and kept only as salted hashes in the
// account's sealed recovery record (store/recovery.go).

// ErrNotEnrolled refuses recovery codes for an account with no TOTP secret:
// they stand in for the authenticator app, so there must be one first.
var ErrNotEnrolled = errors.New("not enrolled")

// lowRecovery is from how many codes left a login says so loudly: a
// login that uses one of the last three.
const lowRecovery = 3

// rowAt is the account's row with what lives beside its records (the
// recovery codes left).
func rowAt(tx *store.Tx, in policy.Input, name string) (UserRow, error) {
	r := rowOf(in, name)
	rc, _, err := tx.Recovery(name)
	if err != nil {
		return r, err
	}
	r.RecoveryCodes = len(rc.Codes)
	f, err := tx.FleetRecovery(name)
	if f != nil {
		r.FleetRecoverySet = f.Set
		r.FleetRecoveryCodes = rc.FleetLeft(f)
		r.RecoveryCodes += r.FleetRecoveryCodes
	}
	return r, err
}

// RecoveryIssue is a new set of codes, shown once.
type RecoveryIssue struct {
	User  string   `json:"user"`
	Codes []string `json:"codes"`
}

// newRecoverySet makes n codes (0: the default) and their hashes.
func newRecoverySet(n int) ([]string, []recovery.Hash, error) {
	if n == 0 {
		n = recovery.DefaultCount
	}
	codes, err := recovery.Generate(n)
	if err != nil {
		return nil, nil, err
	}
	hashes, err := recovery.HashAll(codes)
	return codes, hashes, err
}

// putRecoverySet replaces name's codes by hashes (revoking every earlier
// code) and says in detail what it did; the codes never reach the audit.
func putRecoverySet(tx *store.Tx, name, by string, hashes []recovery.Hash, now func() store.RecoveryCodes) (string, error) {
	old, had, err := tx.Recovery(name)
	if err != nil {
		return "", err
	}
	rc := now()
	rc.By, rc.Total, rc.Codes = by, len(hashes), hashes
	// What this device spent of fleet sets is not the local set's: it
	// stays, or a bundle with the same set would revive those codes.
	rc.FleetSpent = old.FleetSpent
	if err := tx.PutRecovery(name, rc); err != nil {
		return "", err
	}
	detail := fmt.Sprintf("issued %d", len(hashes))
	if had && old.HasLocal() {
		detail += fmt.Sprintf("; revoked the earlier set (%d unused)", len(old.Codes))
	}
	return detail, nil
}

// IssueRecoveryCodes makes n new recovery codes for name (the admin's
// `user recovery-codes`), revoking any earlier ones. The codes are living
// data of this device, like the used time steps: issuing them is allowed
// on a fleet-managed device too, and no bundle replaces them.
func (e *Engine) IssueRecoveryCodes(actor Actor, name string, n int) (RecoveryIssue, error) {
	ev := store.Event{Kind: "recovery-codes"}
	_, name, err := e.target(name, &ev)
	if err != nil {
		return RecoveryIssue{}, err
	}
	codes, hashes, err := newRecoverySet(n)
	if err != nil {
		return RecoveryIssue{}, err
	}
	ev.Actor, ev.Time, ev.PeerUID = string(actor), e.Now(), peerUIDOf(actor)
	err = e.Store.Update(func(tx *store.Tx) error {
		u, found, err := tx.User(name)
		if err != nil {
			return err
		}
		if !found || u.TOTP == nil {
			return fmt.Errorf("%w: %s has no TOTP secret, and recovery codes stand in for the authenticator app; enroll first: jcmfa-agent user enroll %s", ErrNotEnrolled, name, name)
		}
		if ev.Detail, err = putRecoverySet(tx, name, string(actor), hashes, e.recoveryNow); err != nil {
			return err
		}
		return e.audit(tx, ev)
	})
	if err != nil {
		return RecoveryIssue{}, err
	}
	e.logEvent(ev, nil)
	return RecoveryIssue{User: name, Codes: codes}, nil
}

func (e *Engine) recoveryNow() store.RecoveryCodes { return store.RecoveryCodes{Issued: e.Now()} }

// SelfRecoveryCodes is `jcmfa-agent recovery-codes`: the person proves a
// current TOTP code (checked and counted as at a login; a recovery code is
// not proof), and in the same transaction gets n new codes, which revoke
// the earlier ones. The codes are sent as INFO lines to this peer only.
func (e *Engine) SelfRecoveryCodes(ctx context.Context, req LoginRequest, n int, conv Conversation) Verdict {
	if req.Surface == "" {
		req.Surface = "cli"
	}
	if _, refused := e.identify(&req, conv); refused != nil {
		return *refused
	}
	codes, hashes, err := newRecoverySet(n)
	if err != nil {
		conv.Error(err.Error())
		return e.auditRecovery(req, Verdict{Deny, "protocol"}, "")
	}
	var in policy.Input
	err = e.Store.View(func(tx *store.Tx) (err error) {
		in, err = e.input(tx, req.User, e.Now())
		return err
	})
	if err != nil {
		return e.internalError(req, conv, err)
	}
	if v, refused := recoveryRefusal(in, conv); refused {
		return e.auditRecovery(req, v, "")
	}
	answer, err := conv.Ask(false, "Verification code: ")
	if err != nil {
		return Verdict{Deny, "cancelled"}
	}
	var v Verdict
	var replayWait time.Duration
	var lockedNow bool
	var status policy.Status
	ev := loginEvent(req, Verdict{})
	ev.Kind = "recovery-codes"
	err = e.Store.Update(func(tx *store.Tx) error {
		now := e.Now()
		in, err := e.input(tx, req.User, now)
		if err != nil {
			return err
		}
		status = policy.StatusOf(in)
		if rv, refused := recoveryRefusal(in, nil); refused {
			v = rv
		} else {
			c := e.checkTOTP(in, answer, now)
			verr := c.err
			st := in.State
			switch {
			case verr == nil:
				st = policy.RecordSuccess(st, c.step)
				v = Verdict{Allow, "totp"}
				if ev.Detail, err = putRecoverySet(tx, req.User, "self", hashes, e.recoveryNow); err != nil {
					return err
				}
			case errors.Is(verr, totp.ErrReplayed):
				// As at a login (D3, D13): refused, not counted.
				v = Verdict{Deny, "replayed-code"}
				replayWait = c.nextCode
			case errors.Is(verr, totp.ErrFormat), errors.Is(verr, totp.ErrWrong):
				st = policy.RecordFailure(st, in.Settings, now)
				v = Verdict{Deny, failureReason(verr)}
				lockedNow = st.Locked
			default:
				return verr
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
	case v.Word == Allow:
		conv.Info(fmt.Sprintf("Your %d new recovery codes (each works once, at any code prompt; earlier codes no longer work):", len(codes)))
		for _, c := range codes {
			conv.Info("  " + c)
		}
		conv.Info("Keep them somewhere safe, away from this device. They are not shown again.")
		return Verdict{Allow, "recovery-codes"}
	case v.Reason == "replayed-code":
		conv.Error(replayMessage(replayWait))
	case lockedNow:
		conv.Error("Wrong verification code. Too many failed attempts: the account is now locked.")
	case v.Reason == "wrong-code", v.Reason == "bad-code-format":
		conv.Error("Wrong verification code (the one your authenticator app shows now): no recovery codes were made.")
	case v.Reason == "locked-out":
		conv.Error(denyMessage(policy.Decision{Reason: "locked-out", Status: status}))
	default:
		conv.Error("You need TOTP set up before you can make recovery codes.")
	}
	return v
}

// recoveryRefusal says why an account cannot make its own recovery codes
// now (conv, if set, is told): it has no secret, or it is locked out
// (locked wins, as at a login).
func recoveryRefusal(in policy.Input, conv Conversation) (Verdict, bool) {
	st := policy.StatusOf(in)
	switch {
	case !st.Enrolled:
		if conv != nil {
			conv.Error("You have not set up a verification code, so there is nothing to recover: set it up first (jcmfa-agent enroll), then make recovery codes.")
		}
		return Verdict{Deny, "not-enrolled"}, true
	case st.Locked:
		if conv != nil {
			conv.Error(denyMessage(policy.Decision{Reason: "locked-out", Status: st}))
		}
		return Verdict{Deny, "locked-out"}, true
	}
	return Verdict{}, false
}

// auditRecovery records a refused request for recovery codes that
// changed nothing.
func (e *Engine) auditRecovery(req LoginRequest, v Verdict, detail string) Verdict {
	ev := loginEvent(req, v)
	ev.Kind, ev.Time, ev.Detail = "recovery-codes", e.Now(), detail
	err := e.Store.Update(func(tx *store.Tx) error { return e.audit(tx, ev) })
	e.logEvent(ev, err)
	return v
}

// spendRecovery checks a login's answer, one the TOTP check refused, as a
// recovery code of the account's, and spends it if it is one: inside the
// login's write transaction, so two logins with one code cannot both
// succeed. It runs only for an answer shaped like a recovery code; a TOTP
// login never gets here. Two sets may stand side by side (R16): the local
// one (issued on this device) and the fleet one (the bundle's, kept by
// ApplyBundle beside the user's record); a code of either works once. left is how many codes of both remain
// after this one; detail says which set it was, for the audit.
func spendRecovery(tx *store.Tx, name, answer string, now time.Time) (left int, detail string, used bool, err error) {
	canon, ok := recovery.Normalize(answer)
	if !ok {
		return 0, "", false, nil
	}
	rc, _, err := tx.Recovery(name)
	if err != nil {
		return 0, "", false, err
	}
	fleet, err := tx.FleetRecovery(name)
	if err != nil {
		return 0, "", false, err
	}
	if i := recovery.Match(rc.Codes, canon); i >= 0 {
		rc.Codes = slices.Delete(rc.Codes, i, i+1)
		left = len(rc.Codes) + rc.FleetLeft(fleet)
		return left, recoveryDetail(len(rc.Codes)), true, tx.PutRecovery(name, rc)
	}
	if fleet == nil {
		return 0, "", false, nil
	}
	i := recovery.Match(fleet.Codes, canon)
	if i < 0 || slices.Contains(rc.Spent(fleet.Set), i) {
		// Spent here already (R14): the bundle that brought the set
		// again does not make it usable.
		return 0, "", false, nil
	}
	rc.SpendFleet(fleet.Set, i, now)
	setLeft := rc.FleetLeft(fleet)
	detail = fmt.Sprintf("fleet set %s: %s", fleet.Set, recoveryDetail(setLeft))
	return len(rc.Codes) + setLeft, detail, true, tx.PutRecovery(name, rc)
}

// looksLikeRecovery reports whether an answer has a recovery code's shape,
// so refusing it says "wrong code", not "not a code".
func looksLikeRecovery(answer string) bool {
	_, ok := recovery.Normalize(answer)
	return ok
}

func recoveryDetail(left int) string {
	if left == 1 {
		return "1 recovery code left"
	}
	return fmt.Sprintf("%d recovery codes left", left)
}

// recoveryMessage is what a login that used a recovery code is told.
func recoveryMessage(left int) string {
	switch {
	case left == 0:
		return "Recovery code accepted. That was your last one: make new ones with `jcmfa-agent recovery-codes` once you have your authenticator app again, or ask your administrator."
	case left < lowRecovery:
		return fmt.Sprintf("Recovery code accepted: %s. Make new ones with `jcmfa-agent recovery-codes` once you have your authenticator app again, or ask your administrator.", recoveryDetail(left))
	}
	return fmt.Sprintf("Recovery code accepted: %s.", recoveryDetail(left))
}
