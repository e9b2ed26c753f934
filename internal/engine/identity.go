package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jcmfa/jcmfa/internal/accounts"
	"github.com/jcmfa/jcmfa/internal/store"
)

// who is the account a name stands for, decided once per request: every
// record, lockout and audit event of the request is keyed by key, whatever
// spelling arrived (docs/policy.md, "One account, one record").
type who struct {
	typed    string // the name as given
	key      string // the account's canonical name, or Fold(typed) when unresolved
	id       string // uid or SID; "" when unresolved
	resolved bool   // the OS account database knows the name
}

// typedIfOther is the name as given when it is not the key: the audit
// shows both only when they differ.
func (w who) typedIfOther() string {
	if w.typed == w.key {
		return ""
	}
	return w.typed
}

// ErrLookup means the OS account database could not be asked (NSS or a
// directory failing): the name's account is not known, so a login fails
// closed.
var ErrLookup = errors.New("cannot look the account up")

// resolve checks a name and asks the OS which account it is.
func (e *Engine) resolve(name string) (who, error) {
	w := who{typed: name}
	if err := CheckName(name); err != nil {
		return w, err
	}
	a, found, err := e.Directory.Lookup(name)
	if err != nil {
		return w, fmt.Errorf("%w %q in the OS account database (NSS, directory): %v", ErrLookup, name, err)
	}
	if found && CheckName(a.Name) == nil {
		w.key, w.id, w.resolved = a.Name, a.ID, true
		return w, nil
	}
	w.key = accounts.Fold(name)
	return w, nil
}

// hasRecord reports whether anything is kept under key. It opens
// nothing: whether a record is whole is for whoever reads it.
func hasRecord(tx *store.Tx, key string) bool {
	return tx.HasUser(key) || tx.HasState(key)
}

// recordKey is the record an admin command about w acts on: the one kept
// under the name exactly as the admin gave it, if there is one (`users`
// lists records by their key, and a record left under another spelling —
// see MigrateAccounts — must stay reachable), else the account's own.
func recordKey(tx *store.Tx, w who) string {
	if w.typed != w.key && hasRecord(tx, w.typed) {
		return w.typed
	}
	return w.key
}

// rekey moves the records kept under from to the account's key to, inside
// tx, and audits it; it returns the event it audited. Nothing is moved
// over an existing record: then moved is false and the caller reports the
// conflict.
func (e *Engine) rekey(tx *store.Tx, from, to, detail string) (ev store.Event, moved bool, err error) {
	if hasRecord(tx, to) {
		return ev, false, nil
	}
	u, found, err := tx.User(from)
	if err != nil {
		return ev, false, err
	}
	st, err := tx.State(from)
	if err != nil {
		return ev, false, err
	}
	hadState := tx.HasState(from)
	rc, hadCodes, err := tx.Recovery(from)
	if err != nil {
		return ev, false, err
	}
	// The fleet set is configuration under the same key: it moves too.
	if err := tx.MoveFleetRecovery(from, to); err != nil {
		return ev, false, err
	}
	if err := tx.DeleteUser(from); err != nil {
		return ev, false, err
	}
	// The record moves whole (fleet spent indices too): none stays behind.
	if err := tx.DeleteRecovery(from); err != nil {
		return ev, false, err
	}
	if hadCodes {
		if err := tx.PutRecovery(to, rc); err != nil {
			return ev, false, err
		}
	}
	if found {
		u.Name = to
		if err := tx.PutUser(u); err != nil {
			return ev, false, err
		}
	}
	if hadState {
		if err := tx.PutState(to, st); err != nil {
			return ev, false, err
		}
	}
	ev = store.Event{Kind: "rekey", User: to, Typed: from, Actor: "daemon", Detail: detail}
	return ev, true, e.audit(tx, ev)
}

// adoptTypedRecord moves a record kept under the spelling a login used to
// the account's key, the first time that spelling resolves to an account
// that has no record of its own (for example a name required while the
// directory could not resolve it).
func (e *Engine) adoptTypedRecord(w who) error {
	if !w.resolved || w.typed == w.key {
		return nil
	}
	// Most logins by another spelling find nothing to move: look before
	// taking a write transaction, which would commit (and fsync) the
	// logins' rolling one first.
	var has bool
	if err := e.Store.View(func(tx *store.Tx) error { has = hasRecord(tx, w.typed); return nil }); err != nil || !has {
		return err
	}
	var moved bool
	var ev store.Event
	err := e.Store.Update(func(tx *store.Tx) (err error) {
		if !hasRecord(tx, w.typed) {
			return nil
		}
		ev, moved, err = e.rekey(tx, w.typed, w.key, "a login as "+strconv.Quote(w.typed)+" resolved to the account "+w.key+" (id "+w.id+")")
		return err
	})
	if moved {
		e.logEvent(ev, err)
	}
	return err
}

// migrationMeta marks a store whose records are keyed by account
// (this version's rule); older stores are keyed by the name as typed.
const migrationMeta = "accounts-keyed"

// MigrateAccounts rekeys, once per store, every record kept under a name
// that the OS now resolves to an account with another canonical name (a
// store written before records were keyed by account). A record whose
// account already has one is left where it is, audited as a conflict and
// returned as a warning: the admin removes the one they do not want with
// `user remove NAME` (NAME as `users` shows it), and the next start tries
// again. The daemon calls this at start, before it serves.
func (e *Engine) MigrateAccounts() (warnings []string, err error) {
	var done bool
	var keys []string
	err = e.Store.View(func(tx *store.Tx) error {
		if _, err := tx.Meta(migrationMeta, &done); err != nil || done {
			return err
		}
		keys, err = tx.RecordKeys()
		return err
	})
	if err != nil || done {
		return nil, err
	}
	// Ask the OS outside the write transaction: a directory may be slow.
	type move struct{ from, to, id string }
	var moves []move
	for _, k := range keys {
		w, err := e.resolve(k)
		if errors.Is(err, ErrLookup) {
			return nil, fmt.Errorf("migrating records to accounts: %w; the daemon tries again at its next start", err)
		}
		if err == nil && w.resolved && w.key != k {
			moves = append(moves, move{k, w.key, w.id})
		}
	}
	var evs []store.Event
	err = e.Store.Update(func(tx *store.Tx) error {
		evs, warnings = nil, nil
		for _, m := range moves {
			ev, moved, err := e.rekey(tx, m.from, m.to, fmt.Sprintf("upgrade: %q is the account %s (id %s)", m.from, m.to, m.id))
			if err != nil {
				return err
			}
			if moved {
				evs = append(evs, ev)
				continue
			}
			msg := fmt.Sprintf("records are kept for both %q and %q, which are one account (id %s): logins use %q's. "+
				"To drop the other: `jcmfa-agent user remove %s`. To keep it instead: `jcmfa-agent user remove %s`, "+
				"then restart the daemon, which moves it to %q",
				m.from, m.to, m.id, m.to, m.from, m.to, m.to)
			warnings = append(warnings, msg)
			ev = store.Event{Kind: "rekey-conflict", User: m.to, Typed: m.from, Actor: "daemon", Detail: msg}
			if err := e.audit(tx, ev); err != nil {
				return err
			}
			evs = append(evs, ev)
		}
		if len(warnings) > 0 {
			return nil // not done: the next start looks again
		}
		return tx.PutMeta(migrationMeta, true)
	})
	for _, ev := range evs {
		e.logEvent(ev, err)
	}
	return warnings, err
}

// peerUIDOf reads the uid out of an actor written by the channel
// ("uid:N"), so admin changes record their peer like logins do.
func peerUIDOf(a Actor) *int {
	s, ok := strings.CutPrefix(string(a), "uid:")
	if !ok {
		return nil
	}
	s, _, _ = strings.Cut(s, " ")
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil
	}
	return &n
}

// AccountKey is the key a fleet bundle's user name is kept under on this
// device: the account's canonical name, or the name folded as an unknown
// one is (bundles may name accounts that do not exist here yet).
func (e *Engine) AccountKey(name string) (string, error) {
	w, err := e.resolve(name)
	return w.key, err
}
