// Package store keeps the device's configuration, secrets and living data in
// one bbolt file. Every value is sealed with AES-256-GCM under the device key
// and bound to its bucket and key, and every read and write happens inside one
// transaction: a record is either whole and authentic, or an error.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this code reads and writes.
const SchemaVersion = 1

// DefaultAuditCap bounds the audit ring.
const DefaultAuditCap = 10000

var (
	bucketMeta     = []byte("meta")
	bucketConfig   = []byte("config")
	bucketUsers    = []byte("users")
	bucketState    = []byte("state")
	bucketPolicies = []byte("policies")
	bucketAudit    = []byte("audit")

	keySchema   = []byte("schema")
	keyCheck    = []byte("check")
	keySettings = []byte("settings")
	keyAuditSeq = []byte("audit_seq")

	checkValue = []byte("jcmfa device key check")
)

var (
	// ErrWrongKey means the device key does not open this store.
	ErrWrongKey = errors.New("the device key does not open this store")
	// ErrSchema means the file was written by another version of jcmfa.
	ErrSchema = errors.New("unsupported store schema")
	// ErrNotFound is returned for a user or policy that does not exist.
	ErrNotFound = errors.New("not found")
)

// Options tune a store; the zero value is the default.
type Options struct {
	AuditCap int // events kept; DefaultAuditCap when 0
}

// Store is an open store file.
type Store struct {
	db       *bolt.DB
	seal     *sealer
	auditCap int
	batch    batcher
	cache    configCache
	serving  serving
}

// Open opens (creating if needed) the store at path with the device key.
// The file is created 0600; its directory must not be reachable by others.
func Open(path string, key []byte, opts Options) (*Store, error) {
	if err := checkDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	sl, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store %s is in use by another process (is a jcmfa daemon already running?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := checkFile(path); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, seal: sl, auditCap: opts.AuditCap}
	if s.auditCap <= 0 {
		s.auditCap = DefaultAuditCap
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketConfig, bucketUsers, bucketState, bucketPolicies, bucketAudit, bucketRecovery, bucketFleetRecovery} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		schema := meta.Get(keySchema)
		if schema == nil {
			if meta.Get(keyCheck) != nil {
				return fmt.Errorf("%w: schema record missing", ErrSchema)
			}
			var v [8]byte
			binary.BigEndian.PutUint64(v[:], SchemaVersion)
			if err := meta.Put(keySchema, v[:]); err != nil {
				return err
			}
			sealed, err := s.seal.seal(bucketMeta, keyCheck, checkValue)
			if err != nil {
				return err
			}
			return meta.Put(keyCheck, sealed)
		}
		if len(schema) != 8 || binary.BigEndian.Uint64(schema) != SchemaVersion {
			return fmt.Errorf("%w: file has %x, this jcmfa reads %d; use the jcmfa version that wrote it", ErrSchema, schema, SchemaVersion)
		}
		if _, err := s.seal.open(bucketMeta, keyCheck, meta.Get(keyCheck)); err != nil {
			return fmt.Errorf("%w: restore the matching key file, or move the store aside to start afresh (enrollments are then lost)", ErrWrongKey)
		}
		return nil
	})
}

// Close commits the logins' rolling transaction, clears the serving mark
// (a clean stop: no fence at the next start) and closes the file.
func (s *Store) Close() error {
	s.batch.flush(s)
	err := s.unserve()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// Path is the file's location.
func (s *Store) Path() string { return s.db.Path() }

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx, s: s}) })
}

// Update runs fn in a read-write transaction, committed (durably) when fn
// returns nil. The logins' rolling transaction is committed first, so
// Update neither waits for its timer nor overtakes it.
func (s *Store) Update(fn func(*Tx) error) error {
	s.batch.flush(s)
	return s.db.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx, s: s}) })
}

// Tx is one transaction with typed, sealed access to the records.
type Tx struct {
	tx      *bolt.Tx
	s       *Store
	pending *pendingState // ViewUser: an account's state not yet committed
}

func (t *Tx) get(bucket, key []byte, v any) (bool, error) {
	raw := t.tx.Bucket(bucket).Get(key)
	if raw == nil {
		return false, nil
	}
	return true, t.decode(bucket, key, raw, v)
}

// decode opens a sealed value read from bucket/key (by Get or a cursor)
// and unmarshals it into v.
func (t *Tx) decode(bucket, key, raw []byte, v any) error {
	pt, err := t.s.seal.open(bucket, key, raw)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(pt, v); err != nil {
		return fmt.Errorf("%w: %s/%q does not decode: %v", ErrTampered, bucket, key, err)
	}
	return nil
}

func (t *Tx) put(bucket, key []byte, v any) error {
	pt, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sealed, err := t.s.seal.seal(bucket, key, pt)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucket).Put(key, sealed)
}

// Settings returns the settings, or the defaults if none were saved.
func (t *Tx) Settings() (Settings, error) {
	raw := t.tx.Bucket(bucketConfig).Get(keySettings)
	if raw == nil {
		return DefaultSettings(), nil
	}
	if st, ok := t.s.cache.getSettings(raw); ok {
		return st, nil
	}
	st := DefaultSettings()
	if _, err := t.get(bucketConfig, keySettings, &st); err != nil {
		return st, err
	}
	t.s.cache.putSettings(raw, st)
	return st, nil
}

// PutSettings saves the settings.
func (t *Tx) PutSettings(st Settings) error { return t.put(bucketConfig, keySettings, st) }

// User returns the named user's record; found is false if there is none.
func (t *Tx) User(name string) (u User, found bool, err error) {
	key := []byte(name)
	raw := t.tx.Bucket(bucketUsers).Get(key)
	if raw == nil {
		return User{}, false, nil
	}
	if u, ok := t.s.cache.getUser(key, raw); ok {
		return u, true, nil
	}
	if u, err = t.userFrom(key, raw); err != nil {
		return User{}, false, err
	}
	t.s.cache.putUser(key, raw, u)
	return u, true, nil
}

// userFrom opens a user record and checks it is the one its key names.
func (t *Tx) userFrom(key, raw []byte) (User, error) {
	var u User
	if err := t.decode(bucketUsers, key, raw, &u); err != nil {
		return User{}, err
	}
	if u.Name != string(key) {
		return User{}, fmt.Errorf("%w: users/%q holds a record for %q", ErrTampered, key, u.Name)
	}
	return u, nil
}

// PutUser saves a user record under its name. The fleet recovery set a
// bundle's record carries is kept apart (ApplyBundle), never here.
func (t *Tx) PutUser(u User) error {
	if u.Name == "" {
		return errors.New("user record without a name")
	}
	u.Recovery = nil
	return t.put(bucketUsers, []byte(u.Name), u)
}

// DeleteUser removes a user's configuration (the fleet recovery set too,
// until the next bundle) and living data (local recovery codes included;
// what was spent of fleet recovery sets stays, RevokeLocalRecovery).
func (t *Tx) DeleteUser(name string) error {
	if err := t.tx.Bucket(bucketUsers).Delete([]byte(name)); err != nil {
		return err
	}
	if err := t.DeleteFleetRecovery(name); err != nil {
		return err
	}
	if err := t.RevokeLocalRecovery(name); err != nil {
		return err
	}
	return t.tx.Bucket(bucketState).Delete([]byte(name))
}

// releaseEvery is how many records a full walk reads between releases of
// the mapped pages it has passed.
const releaseEvery = 4096

// ForEachUser calls fn for every user record in name order. A record that
// fails to open stops the walk with that error. The walk releases the
// store's mapped pages as it goes (ReleasePages), so listing 100,000
// users does not leave the whole file in the daemon's resident set.
func (t *Tx) ForEachUser(fn func(User) error) error {
	c := t.tx.Bucket(bucketUsers).Cursor()
	n := 0
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		u, err := t.userFrom(k, raw)
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		if n++; n%releaseEvery == 0 {
			t.releasePages()
		}
	}
	return nil
}

// releasePages drops the store file's mapped pages from the resident set
// (release_linux.go). Safe inside this transaction: bbolt does not remap
// while a read transaction is open, and a write transaction reads its own
// new pages from memory, not the mapping.
func (t *Tx) releasePages() {
	releaseMapped(t.s.db.Info().Data, t.tx.Size())
}

// ReleasePages drops the store file's mapped pages from the daemon's
// resident set; they stay in the page cache. bbolt reads the file through
// mmap, so every page a login or a listing touched otherwise stays counted
// in the daemon's RSS.
func (s *Store) ReleasePages() {
	s.View(func(t *Tx) error {
		t.releasePages()
		return nil
	})
}

// RecordKeys lists every name with a user record or living data, in
// order, without opening the records.
func (t *Tx) RecordKeys() ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for _, b := range [][]byte{bucketUsers, bucketState} {
		n := 0
		err := t.tx.Bucket(b).ForEach(func(k, _ []byte) error {
			if !seen[string(k)] {
				seen[string(k)] = true
				out = append(out, string(k))
			}
			if n++; n%releaseEvery == 0 {
				t.releasePages() // as ForEachUser: the walk touches every page
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// UserCount is the number of user records.
func (t *Tx) UserCount() int { return t.tx.Bucket(bucketUsers).Stats().KeyN }

// State returns a user's living data (zero if none yet).
func (t *Tx) State(name string) (State, error) {
	var st State
	if p := t.pending; p != nil && p.user == name {
		if p.raw == nil {
			return st, nil
		}
		return st, t.decode(bucketState, []byte(name), p.raw, &st)
	}
	_, err := t.get(bucketState, []byte(name), &st)
	return st, err
}

// HasUser reports whether a user record is kept under name, without
// opening it.
func (t *Tx) HasUser(name string) bool {
	return t.tx.Bucket(bucketUsers).Get([]byte(name)) != nil
}

// HasState reports whether living data exists for name.
func (t *Tx) HasState(name string) bool {
	return t.tx.Bucket(bucketState).Get([]byte(name)) != nil
}

// PutState saves a user's living data.
func (t *Tx) PutState(name string, st State) error { return t.put(bucketState, []byte(name), st) }

// Policies returns every conditional policy in id order.
func (t *Tx) Policies() ([]Policy, error) {
	var out []Policy
	c := t.tx.Bucket(bucketPolicies).Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		if p, ok := t.s.cache.getPolicy(k, raw); ok {
			out = append(out, p)
			continue
		}
		var p Policy
		if err := t.decode(bucketPolicies, k, raw, &p); err != nil {
			return nil, err
		}
		t.s.cache.putPolicy(k, raw, p)
		out = append(out, p)
	}
	return out, nil
}

// Policy returns one policy by id.
func (t *Tx) Policy(id string) (Policy, error) {
	var p Policy
	found, err := t.get(bucketPolicies, []byte(id), &p)
	if err == nil && !found {
		err = fmt.Errorf("policy %q: %w", id, ErrNotFound)
	}
	return p, err
}

// NewPolicyID allocates the next policy id.
func (t *Tx) NewPolicyID() (string, error) {
	n, err := t.tx.Bucket(bucketPolicies).NextSequence()
	return fmt.Sprint(n), err
}

// PutPolicy saves a policy under its id.
func (t *Tx) PutPolicy(p Policy) error { return t.put(bucketPolicies, []byte(p.ID), p) }

// DeletePolicy removes a policy.
func (t *Tx) DeletePolicy(id string) error {
	b := t.tx.Bucket(bucketPolicies)
	if b.Get([]byte(id)) == nil {
		return fmt.Errorf("policy %q: %w", id, ErrNotFound)
	}
	return b.Delete([]byte(id))
}

// AppendEvent adds an event to the audit ring, dropping the oldest beyond
// the cap. It sets the event's sequence number.
func (t *Tx) AppendEvent(ev *Event) error {
	meta := t.tx.Bucket(bucketMeta)
	var seq uint64
	if v := meta.Get(keyAuditSeq); len(v) == 8 {
		seq = binary.BigEndian.Uint64(v)
	}
	seq++
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	if err := meta.Put(keyAuditSeq, append([]byte(nil), k[:]...)); err != nil {
		return err
	}
	ev.Seq = seq
	if err := t.put(bucketAudit, append([]byte(nil), k[:]...), ev); err != nil {
		return err
	}
	if seq > uint64(t.s.auditCap) {
		var old [8]byte
		binary.BigEndian.PutUint64(old[:], seq-uint64(t.s.auditCap))
		return t.tx.Bucket(bucketAudit).Delete(old[:])
	}
	return nil
}

// Events returns up to n of the newest events, oldest first.
func (t *Tx) Events(n int) ([]Event, error) {
	var out []Event
	c := t.tx.Bucket(bucketAudit).Cursor()
	for k, raw := c.Last(); k != nil && len(out) < n; k, raw = c.Prev() {
		var ev Event
		if err := t.decode(bucketAudit, k, raw, &ev); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
