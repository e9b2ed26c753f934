package store

import (
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A login's outcome (the time step it used, its failure count, its audit
// event) is written with Record, which answers before the commit's two
// fdatasyncs: they cost several times a whole PAM transaction, and a
// person waiting at a login prompt should not wait on a disk flush.
//
// What a crash can then lose is the last few milliseconds' writes. Losing
// a used step would make that code usable a second time, so a store that
// was not closed cleanly puts up a fence when a daemon next serves from
// it: the engine refuses, for every user, every code of a time step up to
// the fence's step plus the skew, as if used. A code accepted before the
// crash was of a step at most (crash time + skew) ≤ (restart time + skew),
// so none can be replayed. The price, only after a crash: codes are
// refused for 2·skew+1 periods (90 s by default) after the restart, and
// failures counted in the last moments before the crash may be lost (an
// attacker who can crash the daemon gains those few milliseconds of
// guesses, then meets the fence). Everything else stays durable before
// it is answered: configuration, enrollment, admin changes.

var (
	keyServing = []byte("serving") // present while a daemon serves from the file
	keyFence   = []byte("fence")
)

// serving is the state behind Serve, Fence and Record.
type serving struct {
	on    atomic.Bool  // a daemon serves: Record may answer early
	lost  atomic.Bool  // a commit under early answers failed
	fence atomic.Int64 // unix nanoseconds; 0: no fence
}

// Serve marks the file as served by a daemon from now on, so that Record
// answers early, and returns whether the previous daemon stopped without
// closing the store (a crash, a kill, a power loss), in which case the
// fence is raised to now. It is durable before it returns.
func (s *Store) Serve(now time.Time) (unclean bool, err error) {
	var fence time.Time
	err = s.Update(func(t *Tx) error {
		var since time.Time
		found, err := t.get(bucketMeta, keyServing, &since)
		if err != nil {
			return err
		}
		if _, err := t.get(bucketMeta, keyFence, &fence); err != nil {
			return err
		}
		unclean = found
		if found {
			// The crash was after the previous start; a clock set
			// back since then must not move the fence before it.
			fence = latest(fence, since, now)
			if err := t.put(bucketMeta, keyFence, fence); err != nil {
				return err
			}
		}
		return t.put(bucketMeta, keyServing, now)
	})
	if err != nil {
		return false, fmt.Errorf("mark the store as served: %w", err)
	}
	s.setFence(fence)
	s.serving.on.Store(true)
	return unclean, nil
}

// Fence is the time up to whose step (plus the skew) every code is
// refused; zero if there is none.
func (s *Store) Fence() time.Time {
	n := s.serving.fence.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (s *Store) setFence(t time.Time) {
	if !t.IsZero() {
		s.serving.fence.Store(t.UnixNano())
	}
}

// Record runs fn, a login's writes about the account user, in the
// rolling transaction (batch.go) and returns before they are durable (see
// above). fn must check everything before it writes: a failed fn keeps
// what it wrote. Where no daemon serves the file (Serve was not called),
// or after a commit failed, it is Update.
func (s *Store) Record(user string, fn func(*Tx) error) error {
	if !s.serving.on.Load() || s.serving.lost.Load() {
		return s.Update(fn)
	}
	return s.batch.record(s, user, fn)
}

// ViewUser is View for a read about user that must see every write
// Record has answered for that account, such as the next login's first
// look at its lockout: the account's state comes from the rolling
// transaction when that holds a newer one (Record writes only state and
// audit events). Nothing waits for a commit.
func (s *Store) ViewUser(user string, fn func(*Tx) error) error {
	raw, dirty := s.batch.pendingState(user)
	return s.db.View(func(tx *bolt.Tx) error {
		t := &Tx{tx: tx, s: s}
		if dirty {
			t.pending = &pendingState{user: user, raw: raw}
		}
		return fn(t)
	})
}

// pendingState is an account's state as the rolling transaction holds it.
type pendingState struct {
	user string
	raw  []byte // nil: none
}

// Settle commits every write Record has answered so far, so that what an
// admin reads next (audit, status, listings) includes it.
func (s *Store) Settle() { s.batch.flush(s) }

// lostCommit handles a commit that failed after its calls were answered:
// their used steps are not on disk, so the fence rises to now for as long
// as this process runs, the file stays marked as served (the next daemon
// fences too), and later calls wait for their commit and see its error.
func (s *Store) lostCommit(error) {
	s.serving.lost.Store(true)
	s.setFence(latest(s.Fence(), time.Now()))
}

// unserve clears the serving mark at a clean close.
func (s *Store) unserve() error {
	if !s.serving.on.Load() || s.serving.lost.Load() {
		return nil
	}
	return s.Update(func(t *Tx) error { return t.tx.Bucket(bucketMeta).Delete(keyServing) })
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
