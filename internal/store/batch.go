package store

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds how many writes share one commit.
const maxBatch = 1000

// batcher is a group commit: a write that finds no commit under way starts
// one at once; writes that arrive while a commit (and its fsync) runs wait
// and all go into the next one. An idle store so commits each write with no
// delay, and a busy one shares each fsync among everything that queued up
// during the previous one, with no timer to tune.
//
// bbolt's own DB.Batch instead waits MaxBatchDelay (1ms by default) for
// company before every commit, which was most of a single login's time.
type batcher struct {
	mu         sync.Mutex
	pending    []*batchCall
	committing bool
}

type batchCall struct {
	fn   func(*Tx) error
	done chan error
}

func (b *batcher) do(s *Store, fn func(*Tx) error) error {
	c := &batchCall{fn: fn, done: make(chan error, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	if !b.committing {
		b.committing = true
		go b.run(s)
	}
	b.mu.Unlock()
	return <-c.done
}

// run commits what is pending until nothing is.
func (b *batcher) run(s *Store) {
	for {
		b.mu.Lock()
		calls := b.pending
		if len(calls) > maxBatch {
			calls, b.pending = calls[:maxBatch:maxBatch], calls[maxBatch:]
		} else {
			b.pending = nil
		}
		if len(calls) == 0 {
			b.committing = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		s.commit(calls)
	}
}

// commit runs calls in one transaction. As with bbolt's Batch, a call that
// fails is taken out, the others are retried without it, and it then runs
// alone so that its error is its own.
func (s *Store) commit(calls []*batchCall) {
	for len(calls) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, &Tx{tx: tx, s: s}); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.done <- err
			}
			return
		}
		c := calls[failed]
		calls = append(calls[:failed:failed], calls[failed+1:]...)
		c.done <- s.Update(func(tx *Tx) error { return safeCall(c.fn, tx) })
	}
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
