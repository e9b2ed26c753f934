package fleet

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
)

// Recovery codes issued by the fleet admin (docs/fleet.md, "Recovery
// codes"; docs/policy.md R13–R18). The codes are shown once; secrets.age
// keeps only their salted hashes (internal/recovery, the same hashes a
// device keeps for codes issued there) and a random set id. Publish puts
// the set in the user's record of each bundle for the user's devices.
// Each device spends a code once, on that device: the decision is per
// device, and re-issuing (a new set id) revokes the old set on every
// device at its next bundle.

// RecoveryIssue is a new fleet set, shown once.
type RecoveryIssue struct {
	User  string
	Set   string
	Codes []string
	// Replaced is the id of the set this one revokes ("" if none).
	Replaced string
}

// RecoverySet is what `fleet recovery-codes list` shows of a set: never
// the codes, nor their hashes.
type RecoverySet struct {
	User   string    `json:"user"`
	Set    string    `json:"set"`
	Codes  int       `json:"codes"`
	Issued time.Time `json:"issued"`
}

// newSetID is a fresh random set id: 16 bytes in hex, the shape
// store.FleetRecovery.Check asks of a bundle's.
func newSetID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// IssueRecovery makes n recovery codes for user (0: the default), keeps
// their hashes in secrets.age under a new set id (replacing, and so
// revoking, any earlier set of the user's) and returns the codes.
func (w Workspace) IssueRecovery(identity, user string, n int, now time.Time) (RecoveryIssue, error) {
	ri := RecoveryIssue{User: user}
	if err := engine.CheckName(user); err != nil {
		return ri, err
	}
	if n == 0 {
		n = recovery.DefaultCount
	}
	id, err := w.LoadIdentity(identity)
	if err != nil {
		return ri, err
	}
	doc, err := w.openSecrets(id)
	if err != nil {
		return ri, err
	}
	codes, err := recovery.Generate(n)
	if err != nil {
		return ri, err
	}
	hashes, err := recovery.HashAll(codes)
	if err != nil {
		return ri, err
	}
	if ri.Set, err = newSetID(); err != nil {
		return ri, err
	}
	ri.Replaced = doc.Recovery[user].Set
	doc.Recovery[user] = store.FleetRecovery{Set: ri.Set, Issued: now.UTC(), Codes: hashes}
	if err := w.saveSecrets(doc); err != nil {
		return ri, err
	}
	ri.Codes = codes
	return ri, nil
}

// RemoveRecovery drops user's fleet set from secrets.age; the next
// publish revokes it on every device.
func (w Workspace) RemoveRecovery(identity, user string) (RecoverySet, error) {
	id, err := w.LoadIdentity(identity)
	if err != nil {
		return RecoverySet{}, err
	}
	doc, err := w.openSecrets(id)
	if err != nil {
		return RecoverySet{}, err
	}
	old, ok := doc.Recovery[user]
	if !ok {
		return RecoverySet{}, fmt.Errorf("%s has no fleet recovery codes in %s; `jcmfa-agent fleet recovery-codes list %s` shows who has", user, w.path(secretsFile), w.Dir)
	}
	delete(doc.Recovery, user)
	return RecoverySet{User: user, Set: old.Set, Codes: len(old.Codes), Issued: old.Issued}, w.saveSecrets(doc)
}

// RecoverySets lists the fleet's recovery sets by user.
func (w Workspace) RecoverySets(identity string) ([]RecoverySet, error) {
	id, err := w.LoadIdentity(identity)
	if err != nil {
		return nil, err
	}
	doc, err := w.openSecrets(id)
	if err != nil {
		return nil, err
	}
	var out []RecoverySet
	for _, u := range sortedKeys(doc.Recovery) {
		rs := doc.Recovery[u]
		out = append(out, RecoverySet{User: u, Set: rs.Set, Codes: len(rs.Codes), Issued: rs.Issued})
	}
	return out, nil
}
