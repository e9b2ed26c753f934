package store

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jcmfa/jcmfa/internal/recovery"
)

// bucketRecovery keeps each account's recovery codes, one sealed record
// per account key. They are issued on this device (by an admin or by the
// person) and spent here, so they are living data: a fleet bundle never
// replaces them (ApplyBundle leaves this bucket alone), DeleteUser keeps
// only what was spent of fleet sets (RevokeLocalRecovery), and a move to
// the account's key moves them.
var bucketRecovery = []byte("recovery")

// RecoveryCodes is an account's local set and what this device spent of
// the fleet's sets. Only the unspent local codes are kept, as salted
// hashes; a code is removed when it is used, and issuing a new local set
// replaces them, which revokes every earlier local code.
type RecoveryCodes struct {
	Issued time.Time       `json:"issued"`
	By     string          `json:"by"`    // who issued it: the audit's actor
	Total  int             `json:"total"` // how many the set had
	Codes  []recovery.Hash `json:"codes"` // the unspent ones
	// FleetSpent are the indices of fleet set codes used on this device,
	// by set id, newest set first (docs/fleet.md, "Recovery codes"). The
	// fleet set itself is configuration (User.Recovery, from the bundle);
	// this is living data, so a bundle that brings the same set again
	// cannot make a spent code usable. At most MaxFleetSpent sets are
	// remembered: an admin who restores secrets.age from an old commit
	// brings back a set this device still knows.
	FleetSpent []FleetSpent `json:"fleet_spent,omitempty"`
}

// FleetSpent is what this device used of one fleet set.
type FleetSpent struct {
	Set   string    `json:"set"`
	Spent []int     `json:"spent"` // indices into the set's Codes
	At    time.Time `json:"at"`    // the last use
}

// bucketFleetRecovery keeps each account's fleet recovery set, sealed,
// by account key. It is configuration: ApplyBundle replaces the bucket
// with the sets of the bundle's user records.
var bucketFleetRecovery = []byte("fleetrecovery")

// FleetRecovery returns name's fleet recovery set, or nil if the bundle
// in force gave none.
func (t *Tx) FleetRecovery(name string) (*FleetRecovery, error) {
	var f FleetRecovery
	found, err := t.get(bucketFleetRecovery, []byte(name), &f)
	if err != nil || !found {
		return nil, err
	}
	return &f, nil
}

// putFleetRecovery is ApplyBundle's (and a record move's) write.
func (t *Tx) putFleetRecovery(name string, f FleetRecovery) error {
	return t.put(bucketFleetRecovery, []byte(name), f)
}

// DeleteFleetRecovery drops name's fleet recovery set until the next
// bundle brings it (a reset on the device).
func (t *Tx) DeleteFleetRecovery(name string) error {
	return t.tx.Bucket(bucketFleetRecovery).Delete([]byte(name))
}

// MoveFleetRecovery moves name's fleet recovery set to the key to (an
// account's records moving to its key, engine rekey).
func (t *Tx) MoveFleetRecovery(from, to string) error {
	f, err := t.FleetRecovery(from)
	if err != nil || f == nil {
		return err
	}
	if err := t.putFleetRecovery(to, *f); err != nil {
		return err
	}
	return t.DeleteFleetRecovery(from)
}

// MaxFleetSpent bounds the fleet sets a recovery record remembers.
const MaxFleetSpent = 16

// FleetRecovery is the fleet admin's recovery code set for one account:
// salted hashes (internal/recovery) and a random set id. It comes in the
// bundle inside the user's record, sealed to the device like the TOTP
// secret, and is replaced by every bundle; re-issuing makes a new id.
type FleetRecovery struct {
	Set    string          `json:"set"`
	Issued time.Time       `json:"issued"`
	Codes  []recovery.Hash `json:"codes"`
}

// fleetSetID is the shape of a set id: 16 random bytes in hex.
var fleetSetID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Check refuses a fleet set a device must not take: a bundle is signed,
// but what it carries is still bounded (at most recovery.MaxCount codes,
// each a SaltSize salt and a SHA-256 sum, and a well-formed id).
func (f *FleetRecovery) Check() error {
	if !fleetSetID.MatchString(f.Set) {
		return fmt.Errorf("recovery set id %q is not 32 hex digits", f.Set)
	}
	if len(f.Codes) < 1 || len(f.Codes) > recovery.MaxCount {
		return fmt.Errorf("recovery set %s has %d codes; a set has 1 to %d", f.Set, len(f.Codes), recovery.MaxCount)
	}
	for i, h := range f.Codes {
		if len(h.Salt) != recovery.SaltSize || len(h.Sum) != recovery.SumSize {
			return fmt.Errorf("recovery set %s: code %d is malformed (salt %d bytes, sum %d; want %d and %d)", f.Set, i, len(h.Salt), len(h.Sum), recovery.SaltSize, recovery.SumSize)
		}
	}
	return nil
}

// Spent reports which of set's codes this device used.
func (rc RecoveryCodes) Spent(set string) []int {
	for _, s := range rc.FleetSpent {
		if s.Set == set {
			return s.Spent
		}
	}
	return nil
}

// FleetLeft is how many of f's codes this device has not used.
func (rc RecoveryCodes) FleetLeft(f *FleetRecovery) int {
	if f == nil {
		return 0
	}
	n := len(f.Codes)
	for _, i := range rc.Spent(f.Set) {
		if i >= 0 && i < len(f.Codes) {
			n--
		}
	}
	return n
}

// SpendFleet records code i of set as used at now: that set moves to the
// front, and the oldest beyond MaxFleetSpent is forgotten.
func (rc *RecoveryCodes) SpendFleet(set string, i int, now time.Time) {
	s := FleetSpent{Set: set, At: now}
	if j := slices.IndexFunc(rc.FleetSpent, func(s FleetSpent) bool { return s.Set == set }); j >= 0 {
		s.Spent = rc.FleetSpent[j].Spent
		rc.FleetSpent = slices.Delete(rc.FleetSpent, j, j+1)
	}
	s.Spent = append(slices.Clone(s.Spent), i)
	rc.FleetSpent = append([]FleetSpent{s}, rc.FleetSpent...)
	if len(rc.FleetSpent) > MaxFleetSpent {
		rc.FleetSpent = rc.FleetSpent[:MaxFleetSpent]
	}
}

// HasLocal reports whether rc holds a local set (issued on this device),
// spent or not, as opposed to only what was used of fleet sets.
func (rc RecoveryCodes) HasLocal() bool { return rc.Total > 0 }

// Recovery returns name's recovery record; found is false if there is
// none. A record that fails to open is an error, as every other.
func (t *Tx) Recovery(name string) (rc RecoveryCodes, found bool, err error) {
	found, err = t.get(bucketRecovery, []byte(name), &rc)
	return rc, found, err
}

// PutRecovery saves name's recovery record, replacing the earlier one.
func (t *Tx) PutRecovery(name string, rc RecoveryCodes) error {
	return t.put(bucketRecovery, []byte(name), rc)
}

// DeleteRecovery removes name's recovery record, what was spent of fleet
// sets included: only for a record that moves to another key.
func (t *Tx) DeleteRecovery(name string) error {
	return t.tx.Bucket(bucketRecovery).Delete([]byte(name))
}

// RevokeLocalRecovery revokes name's local codes but keeps what this
// device spent of fleet sets: the next bundle brings the fleet set back
// (a reset or a removal on a fleet-managed device lasts until then), and
// a spent code must stay spent.
func (t *Tx) RevokeLocalRecovery(name string) error {
	rc, found, err := t.Recovery(name)
	if errors.Is(err, ErrTampered) {
		// Nothing in it can be trusted, and the admin must be able to
		// reset or remove the account: it goes (`user status` showed
		// the error, R8).
		return t.DeleteRecovery(name)
	}
	if err != nil || !found {
		return err
	}
	if len(rc.FleetSpent) == 0 {
		return t.DeleteRecovery(name)
	}
	return t.PutRecovery(name, RecoveryCodes{FleetSpent: rc.FleetSpent})
}
