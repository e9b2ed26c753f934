package store

import (
	"time"

	"github.com/jcmfa/jcmfa/internal/recovery"
)

// bucketRecovery keeps each account's recovery codes, one sealed record
// per account key. They are issued on this device (by an admin or by the
// person) and spent here, so they are living data: a fleet bundle never
// replaces them (ApplyBundle leaves this bucket alone), DeleteUser removes
// them, and a move to the account's key moves them.
var bucketRecovery = []byte("recovery")

// RecoveryCodes is an account's current set. Only the unspent codes are
// kept, as salted hashes; a code is removed when it is used, and issuing
// a new set replaces the record, which revokes every earlier code.
type RecoveryCodes struct {
	Issued time.Time       `json:"issued"`
	By     string          `json:"by"`    // who issued it: the audit's actor
	Total  int             `json:"total"` // how many the set had
	Codes  []recovery.Hash `json:"codes"` // the unspent ones
}

// Recovery returns name's recovery codes; found is false if none were
// ever issued (or they were revoked). A record that fails to open is an
// error, as every other.
func (t *Tx) Recovery(name string) (rc RecoveryCodes, found bool, err error) {
	found, err = t.get(bucketRecovery, []byte(name), &rc)
	return rc, found, err
}

// PutRecovery saves name's recovery codes, replacing any earlier set.
func (t *Tx) PutRecovery(name string, rc RecoveryCodes) error {
	return t.put(bucketRecovery, []byte(name), rc)
}

// DeleteRecovery revokes name's recovery codes.
func (t *Tx) DeleteRecovery(name string) error {
	return t.tx.Bucket(bucketRecovery).Delete([]byte(name))
}
