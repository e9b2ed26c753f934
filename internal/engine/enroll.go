package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/qrterm"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

func failureReason(err error) string {
	switch {
	case errors.Is(err, totp.ErrFormat):
		return "bad-code-format"
	case errors.Is(err, totp.ErrReplayed):
		return "replayed-code"
	}
	return "wrong-code"
}

func paramsOf(s *store.Secret) totp.Params {
	return totp.Params{Algorithm: s.Algorithm, Digits: s.Digits, Period: s.Period}
}

// enrollAttempts is how many codes a person may try to confirm a new secret
// in one dialogue. These do not count towards lockout: the secret is not in
// force yet, and the person has just been shown it.
const enrollAttempts = 3

// NewSecret makes a secret for user and describes it for the person: the
// key, the otpauth:// URI and the QR rows.
type NewSecret struct {
	Secret store.Secret
	URI    string
	QR     []string
}

func (e *Engine) newSecret(user string, p totp.Params) (NewSecret, error) {
	key, uri, err := totp.NewKey(e.Issuer, e.accountLabel(user), p)
	if err != nil {
		return NewSecret{}, err
	}
	qr, err := qrterm.Rows(uri)
	if err != nil {
		return NewSecret{}, err
	}
	return NewSecret{
		Secret: store.Secret{Key: key, Algorithm: p.Algorithm, Digits: p.Digits, Period: p.Period},
		URI:    uri, QR: qr,
	}, nil
}

// groupKey writes a base32 key in groups of four, as people type it.
func groupKey(k string) string {
	var parts []string
	for len(k) > 4 {
		parts = append(parts, k[:4])
		k = k[4:]
	}
	return strings.Join(append(parts, k), " ")
}

// showSecret sends the setup instructions, one INFO per line, so a client
// relays the QR rows untouched.
func showSecret(conv Conversation, ns NewSecret) error {
	lines := []string{"Scan this QR code with your authenticator app:"}
	lines = append(lines, ns.QR...)
	lines = append(lines,
		"or enter this key by hand: "+groupKey(ns.Secret.Key),
		"("+ns.Secret.Algorithm+", "+fmt.Sprint(ns.Secret.Digits)+" digits, "+fmt.Sprint(ns.Secret.Period)+" s), or open:",
		ns.URI)
	for _, l := range lines {
		if err := conv.Info(l); err != nil {
			return err
		}
	}
	return nil
}

// enrollDialogue offers (or, when forced, requires) TOTP setup inside a login.
func (e *Engine) enrollDialogue(ctx context.Context, req LoginRequest, conv Conversation, forced, activate bool) Verdict {
	ns, err := e.newSecret(req.User, totp.Default)
	if err != nil {
		return e.internalError(req, conv, err)
	}
	if forced {
		conv.Info("Your administrator requires two-factor authentication. Set it up now to log in.")
	} else {
		conv.Info("Your administrator requires two-factor authentication. Set it up now, or press Enter to do it later.")
	}
	if showSecret(conv, ns) != nil {
		return Verdict{Deny, "cancelled"}
	}
	v, ok := e.confirm(req, conv, ns, !forced)
	if ok {
		return v
	}
	if forced {
		conv.Error(denyMessage(policy.Decision{Reason: "enrollment-required"}))
		return e.finish(req, Verdict{Deny, "enrollment-required"}, false)
	}
	return e.finish(req, Verdict{Skip, "enrollment-period"}, activate)
}

// confirm asks for a code from the new secret and saves the secret once one
// checks out. ok is false when the person declined or did not manage.
func (e *Engine) confirm(req LoginRequest, conv Conversation, ns NewSecret, mayDecline bool) (Verdict, bool) {
	prompt := fmt.Sprintf("Enter the %d-digit code from your app: ", ns.Secret.Digits)
	if mayDecline {
		prompt = fmt.Sprintf("Enter the %d-digit code from your app (or press Enter to skip): ", ns.Secret.Digits)
	}
	for i := 0; i < enrollAttempts; i++ {
		answer, err := conv.Ask(true, prompt)
		if err != nil {
			return Verdict{Deny, "cancelled"}, true
		}
		if strings.TrimSpace(answer) == "" {
			if mayDecline {
				return Verdict{}, false
			}
			continue
		}
		now := e.Now()
		step, err := totp.Verify(ns.Secret.Key, answer, now, paramsOf(&ns.Secret), 1, 0)
		if err != nil {
			conv.Error("That code does not match. Check the app shows the entry you just added, and try again.")
			continue
		}
		v, err := e.saveEnrollment(req, ns.Secret, step, now)
		if err != nil {
			return e.internalError(req, conv, err), true
		}
		if v.Word == Allow {
			conv.Info("Two-factor authentication is set up. You will be asked for a code at each login.")
		}
		return v, true
	}
	conv.Error("Setup was not completed.")
	return Verdict{}, false
}

// saveEnrollment stores a confirmed secret. The confirming code's step is
// recorded as used, so the same code cannot log in a second time.
func (e *Engine) saveEnrollment(req LoginRequest, sec store.Secret, step int64, now time.Time) (Verdict, error) {
	var v Verdict
	ev := enrollEvent(req, now)
	err := e.Store.Update(func(tx *store.Tx) error {
		u, found, err := tx.User(req.User)
		if err != nil {
			return err
		}
		if found && u.TOTP != nil {
			v = Verdict{Deny, "already-enrolled"}
			ev.Verdict, ev.Reason = v.Word, v.Reason
			return e.audit(tx, ev)
		}
		if !found {
			u = store.User{Name: req.User, Created: now}
		}
		sec.EnrolledAt = now
		u.TOTP = &sec
		if err := tx.PutUser(u); err != nil {
			return err
		}
		st, err := tx.State(req.User)
		if err != nil {
			return err
		}
		st = policy.Unlock(st)
		st.LastStep = step
		if st.PeriodStart.IsZero() {
			st.PeriodStart = now
		}
		if err := tx.PutState(req.User, st); err != nil {
			return err
		}
		v = Verdict{Allow, "enrolled"}
		ev.Verdict, ev.Reason = v.Word, v.Reason
		return e.audit(tx, ev)
	})
	e.logEvent(ev, err)
	return v, err
}

// SelfEnroll is the `jcmfa-agent enroll` dialogue: an account sets up its own
// TOTP while it is required and not yet enrolled (period not expired).
func (e *Engine) SelfEnroll(ctx context.Context, req LoginRequest, conv Conversation) Verdict {
	if _, refused := e.identify(&req, conv); refused != nil {
		return *refused
	}
	v, audited := e.selfEnroll(req, conv)
	if !audited {
		e.auditEnroll(req, v)
	}
	return v
}

// selfEnroll runs the dialogue; audited says the outcome is in the audit
// already (saveEnrollment and internalError record their own).
func (e *Engine) selfEnroll(req LoginRequest, conv Conversation) (v Verdict, audited bool) {
	var st policy.Status
	var set store.Settings
	err := e.Store.View(func(tx *store.Tx) error {
		in, err := e.input(tx, req.User, e.Now())
		st, set = policy.StatusOf(in), in.Settings
		return err
	})
	if err != nil {
		return e.internalError(req, conv, err), true
	}
	switch {
	case !set.OrgTOTP:
		conv.Error("TOTP is not enabled for your organisation; there is nothing to set up.")
		return Verdict{Deny, "org-totp-disabled"}, false
	case st.Kind == policy.StatusEnrolled:
		conv.Error("You are already enrolled. To start again with a new secret, ask your administrator to reset your enrollment.")
		return Verdict{Deny, "already-enrolled"}, false
	case st.Kind == policy.StatusNotRequired:
		conv.Error("Two-factor authentication is not required of your account on this device.")
		return Verdict{Deny, "not-required"}, false
	case st.Kind == policy.StatusEnrollmentExpired:
		conv.Error(denyMessage(policy.Decision{Reason: "enrollment-expired", Status: st}))
		return Verdict{Deny, "enrollment-expired"}, false
	}
	ns, err := e.newSecret(req.User, totp.Default)
	if err != nil {
		return e.internalError(req, conv, err), true
	}
	if showSecret(conv, ns) != nil {
		return Verdict{Deny, "cancelled"}, false
	}
	v, ok := e.confirm(req, conv, ns, false)
	if !ok {
		return Verdict{Deny, "enrollment-not-confirmed"}, false
	}
	// confirm's verdict came from saveEnrollment or internalError, unless
	// the person went away mid-dialogue.
	return v, v.Reason != "cancelled"
}

// auditEnroll records the outcome of a self-enrollment that stored
// nothing: every ENROLL a peer opens leaves a trace with its uid.
func (e *Engine) auditEnroll(req LoginRequest, v Verdict) {
	ev := enrollEvent(req, e.Now())
	ev.Verdict, ev.Reason = v.Word, v.Reason
	err := e.Store.Update(func(tx *store.Tx) error { return e.audit(tx, ev) })
	e.logEvent(ev, err)
}

func enrollEvent(req LoginRequest, now time.Time) store.Event {
	ev := loginEvent(req, Verdict{})
	ev.Kind, ev.Time = "enroll", now
	return ev
}
