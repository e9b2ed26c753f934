package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// keyFleet holds the record of the last applied fleet bundle. It is written
// only by ApplyBundle, in the same transaction as the configuration it
// describes, so the two can never disagree after a crash.
var keyFleet = []byte("fleet")

// metaPrefix keeps records that other packages keep in the meta bucket apart
// from the store's own (schema, check, audit_seq, fleet).
const metaPrefix = "x/"

// FleetRecord is what this device remembers of the bundle in force.
type FleetRecord struct {
	Managed   bool      `json:"managed"`
	Device    string    `json:"device"`  // the name the admin gave this device
	Serial    int64     `json:"serial"`  // the bundle's content serial; never goes down
	Hash      string    `json:"hash"`    // sha256 of the bundle as published (the TUF target)
	Version   int64     `json:"version"` // the TUF snapshot version it came with, for status
	Published time.Time `json:"published"`
	AppliedAt time.Time `json:"applied_at"`
	// AdminRecipients are the age keys the outbox is sealed to.
	AdminRecipients []string `json:"admin_recipients,omitempty"`
	// Delivered maps each user whose secret came in a bundle to that
	// secret's fingerprint. A local secret whose fingerprint differs was
	// enrolled here (in-band, or by a local override) and is still on its
	// way to the admin: see ApplyBundle.
	Delivered map[string]string `json:"delivered,omitempty"`
	// Spelled maps an account's key on this device to the name the
	// bundle gave it, where they differ (the admin wrote ALICE, the
	// device's account is alice): the outbox names a user as the
	// admin's fleet.yaml does.
	Spelled map[string]string `json:"spelled,omitempty"`
}

// BundleName is how the fleet's bundle names the account kept under key.
func (r FleetRecord) BundleName(key string) string {
	if n, ok := r.Spelled[key]; ok {
		return n
	}
	return key
}

// Bundle is the configuration a fleet bundle carries, decrypted and checked.
type Bundle struct {
	Record   FleetRecord // Managed, Device, Serial, Hash, Version, Published
	Settings Settings
	Users    []User
	Policies []Policy
	// ResetBefore drops a secret enrolled on this device before the given
	// time even if it never reached the admin (the admin reset the user).
	ResetBefore map[string]time.Time
}

// CheckRecovery drops every fleet recovery set in b that a device must
// not take (FleetRecovery.Check: too many codes, a malformed hash or id)
// and says what it dropped, one line per user, for the audit. The rest of
// the bundle applies, as for a user named twice (daemon keyByAccount):
// the user keeps the secret and requirement the bundle gives, and has no
// fleet codes on this device until a good set arrives.
func (b *Bundle) CheckRecovery() (problems []string) {
	for i := range b.Users {
		u := &b.Users[i]
		if u.Recovery == nil {
			continue
		}
		if err := u.Recovery.Check(); err != nil {
			problems = append(problems, fmt.Sprintf("user %q: fleet recovery codes refused: %v", u.Name, err))
			u.Recovery = nil
		}
	}
	return problems
}

// ErrBundleRollback refuses a bundle older than the one in force.
var ErrBundleRollback = errors.New("bundle is older than the one in force")

// SecretFingerprint names a secret without revealing it.
func SecretFingerprint(s *Secret) string {
	if s == nil {
		return ""
	}
	h := sha256.Sum256([]byte("jcmfa secret fingerprint\x00" + s.Key))
	return hex.EncodeToString(h[:8])
}

// LocalEnrollment reports whether u holds a secret that no bundle delivered.
func (r FleetRecord) LocalEnrollment(u User) bool {
	return u.TOTP != nil && r.Delivered[u.Name] != SecretFingerprint(u.TOTP)
}

// Fleet returns the record of the bundle in force; found is false on a
// device that never applied one.
func (t *Tx) Fleet() (rec FleetRecord, found bool, err error) {
	found, err = t.get(bucketMeta, keyFleet, &rec)
	return rec, found, err
}

// FleetManaged reports whether a fleet bundle governs this device's
// configuration.
func (t *Tx) FleetManaged() (bool, error) {
	rec, _, err := t.Fleet()
	return rec.Managed, err
}

// Meta reads a record another package keeps in the meta bucket (sealed like
// every other value); found is false if there is none.
func (t *Tx) Meta(name string, v any) (bool, error) {
	return t.get(bucketMeta, []byte(metaPrefix+name), v)
}

// PutMeta saves such a record.
func (t *Tx) PutMeta(name string, v any) error {
	return t.put(bucketMeta, []byte(metaPrefix+name), v)
}

// ApplyBundle replaces the configuration (settings, users and their secrets
// and fleet recovery sets, policies) with b in one transaction, and records ev in the audit log in
// that same commit. Living data (the state bucket: used time steps,
// failures, lockouts) and the audit log are never touched, so a crash leaves
// either the old configuration or the new one, never a mix.
//
// A secret enrolled on this device that no bundle delivered yet (in-band
// enrollment waiting in the outbox) survives a bundle that has no secret for
// that user, unless the bundle resets the user after that enrollment: without
// this, a person who set up TOTP at an SSH login would lose it at the next
// poll and be asked to enroll again.
func (s *Store) ApplyBundle(b Bundle, ev *Event) error {
	return s.db.Update(func(btx *bolt.Tx) error {
		t := &Tx{tx: btx, s: s}
		old, _, err := t.Fleet()
		if err != nil {
			return err
		}
		if old.Managed && b.Record.Serial < old.Serial {
			return fmt.Errorf("%w (serial %d, in force %d)", ErrBundleRollback, b.Record.Serial, old.Serial)
		}
		// Secrets enrolled here and not yet delivered back by the fleet.
		pending := map[string]User{}
		err = t.ForEachUser(func(u User) error {
			if old.LocalEnrollment(u) && !u.TOTP.EnrolledAt.Before(b.ResetBefore[u.Name]) {
				pending[u.Name] = u
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bucketConfig, bucketUsers, bucketPolicies, bucketFleetRecovery} {
			if err := btx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := btx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := t.PutSettings(b.Settings); err != nil {
			return err
		}
		rec := b.Record
		rec.Delivered = map[string]string{}
		for _, u := range b.Users {
			if u.TOTP != nil {
				rec.Delivered[u.Name] = SecretFingerprint(u.TOTP)
			} else if p, ok := pending[u.Name]; ok {
				u.TOTP = p.TOTP
			}
			delete(pending, u.Name)
			if u.Recovery != nil {
				if err := t.putFleetRecovery(u.Name, *u.Recovery); err != nil {
					return err
				}
			}
			if err := t.PutUser(u); err != nil {
				return err
			}
		}
		// Users the bundle does not name but who enrolled here (required by
		// a group policy, say) keep their record until the admin collects it.
		for _, u := range pending {
			if err := t.PutUser(u); err != nil {
				return err
			}
		}
		for _, p := range b.Policies {
			if err := t.PutPolicy(p); err != nil {
				return err
			}
		}
		if err := t.put(bucketMeta, keyFleet, rec); err != nil {
			return err
		}
		if ev != nil {
			return t.AppendEvent(ev)
		}
		return nil
	})
}

// LeaveFleet clears the managed flag: local admin edits are allowed again
// and the configuration stays as the last bundle left it.
func (s *Store) LeaveFleet() error {
	return s.Update(func(t *Tx) error {
		rec, found, err := t.Fleet()
		if err != nil || !found {
			return err
		}
		rec.Managed = false
		return t.put(bucketMeta, keyFleet, rec)
	})
}
