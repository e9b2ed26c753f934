package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The login path's writes go into one rolling write transaction that stays
// open for up to commitDelay (or maxBatch writes) and is then committed
// with one pair of fdatasyncs. A login runs its writes in that transaction
// in its own goroutine, under the batcher's lock, and is answered at once:
// no hand-off to another goroutine, no wait for a disk flush (fence.go says
// why a crash cannot turn that into a replay). Concurrent logins share the
// flush, and the page writes of the keys they touch together.
//
// Everything else (configuration, enrollment, admin changes) commits its
// own transaction before it returns, after the rolling one.
const (
	commitDelay = 10 * time.Millisecond
	maxBatch    = 2000
)

type batcher struct {
	mu    sync.Mutex
	tx    *bolt.Tx            // the rolling transaction, or nil
	gen   uint64              // which rolling transaction a timer is for (one per open)
	n     int                 // writes in tx
	dirty map[string]struct{} // accounts with writes in tx
	timer *time.Timer
}

// record runs fn in the rolling transaction, opening one if none is.
// A write that fails keeps what it already wrote (the transaction also
// holds other logins' answered writes, so it cannot be rolled back): fn
// must check everything before it writes.
func (b *batcher) record(s *Store, key string, fn func(*Tx) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tx == nil {
		tx, err := s.db.Begin(true)
		if err != nil {
			return err
		}
		b.tx, b.n = tx, 0
		b.gen++
		gen := b.gen
		b.timer = time.AfterFunc(commitDelay, func() { b.commitGen(s, gen) })
	}
	err := safeCall(fn, &Tx{tx: b.tx, s: s})
	if b.dirty == nil {
		b.dirty = map[string]struct{}{}
	}
	b.dirty[key] = struct{}{}
	b.n++
	if b.n >= maxBatch {
		gen := b.gen
		go b.commitGen(s, gen)
	}
	return err
}

// commitGen commits the rolling transaction gen if it is still open.
func (b *batcher) commitGen(s *Store, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gen == gen {
		b.commitLocked(s)
	}
}

// commitLocked commits the rolling transaction, if any. A failed commit
// loses writes whose logins were answered: the store falls back to the
// fence (fence.go).
func (b *batcher) commitLocked(s *Store) {
	if b.tx == nil {
		return
	}
	b.timer.Stop()
	err := b.tx.Commit()
	b.tx, b.n = nil, 0
	clear(b.dirty)
	if err != nil {
		s.lostCommit(err)
	}
}

// flush commits the rolling transaction now.
func (b *batcher) flush(s *Store) {
	b.mu.Lock()
	b.commitLocked(s)
	b.mu.Unlock()
}

// pendingState returns a copy of the state record of key as the rolling
// transaction holds it, if that transaction wrote it (nil raw: deleted).
func (b *batcher) pendingState(key string) (raw []byte, dirty bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.dirty[key]; !ok || b.tx == nil {
		return nil, false
	}
	return bytes.Clone(b.tx.Bucket(bucketState).Get([]byte(key))), true
}

var errPanicked = errors.New("store write panicked")

func safeCall(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanicked, p)
		}
	}()
	return fn(tx)
}
