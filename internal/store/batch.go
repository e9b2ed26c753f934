package store

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds how many writes share one commit.
const maxBatch = 1000

// batcher is a group commit: a write that finds no commit under way runs
// at once, in its caller's goroutine; writes that arrive while a commit
// (and its fsync) runs wait and all go into the next one. An idle store so
// commits each write with no delay, and a busy one shares each fsync among
// everything that queued up during the previous one, with no timer to tune.
//
// bbolt's own DB.Batch instead waits MaxBatchDelay (1ms by default) for
// company before every commit, which was most of a single login's time.
//
// A call is either durable (its caller learns the commit's outcome) or
// early (Store.Record: its caller learns that the transaction to be
// committed holds its writes, and goes on while the commit and its fsyncs
// run; see fence.go for what makes that safe).
type batcher struct {
	mu         sync.Mutex
	pending    []*batchCall
	committing bool
	settled    *sync.Cond // broadcast when committing ends or a round settles

	// Rounds are numbered. answered is the last round whose early calls
	// were answered, settled the last whose commit ended (durable, or
	// failed and fenced); dirty maps a key (a user) to the last round
	// holding an answered, unsettled write of it.
	rounds, answered, settledN uint64
	dirty                      map[string]uint64
}

type batchCall struct {
	fn    func(*Tx) error
	early bool
	key   string // what the write is about, for readers that must see it
	done  chan error // receives exactly once
}

func (b *batcher) do(s *Store, fn func(*Tx) error, early bool, key string) error {
	c := &batchCall{fn: fn, early: early, key: key, done: make(chan error, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	lead := !b.committing
	b.committing = true
	b.mu.Unlock()
	if lead {
		// Nobody is committing: run this round here, sparing an idle
		// store the wake-up of another goroutine before anything runs.
		b.round(s, c)
	}
	return <-c.done
}

// take removes up to maxBatch pending calls; with none left it ends the
// committing phase.
func (b *batcher) take() []*batchCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	calls := b.pending
	if len(calls) > maxBatch {
		calls, b.pending = calls[:maxBatch:maxBatch], calls[maxBatch:]
	} else {
		b.pending = nil
	}
	if len(calls) == 0 {
		b.committing = false
		b.broadcast()
	}
	return calls
}

func (b *batcher) broadcast() {
	if b.settled != nil {
		b.settled.Broadcast()
	}
}

func (b *batcher) cond() *sync.Cond {
	if b.settled == nil {
		b.settled = sync.NewCond(&b.mu)
	}
	return b.settled
}

// answer gives the early calls of a round their answer, first recording
// which keys that round leaves unsettled.
func (b *batcher) answer(calls []*batchCall) uint64 {
	b.mu.Lock()
	b.rounds++
	n := b.rounds
	for _, c := range calls {
		if c.early && c.key != "" {
			if b.dirty == nil {
				b.dirty = map[string]uint64{}
			}
			b.dirty[c.key] = n
		}
	}
	b.answered = n
	b.mu.Unlock()
	for _, c := range calls {
		if c.early {
			c.done <- nil
		}
	}
	return n
}

// settle records that round n's commit has ended.
func (b *batcher) settle(n uint64, calls []*batchCall) {
	b.mu.Lock()
	b.settledN = n
	for _, c := range calls {
		if c.key != "" && b.dirty[c.key] == n {
			delete(b.dirty, c.key)
		}
	}
	b.broadcast()
	b.mu.Unlock()
}

// waitKey waits until every answered write of key has settled, so a
// read sees it.
func (b *batcher) waitKey(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for n := b.dirty[key]; n != 0 && b.settledN < n; {
		b.cond().Wait()
	}
}

// waitAnswered waits until every write answered so far has settled.
func (b *batcher) waitAnswered() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for n := b.answered; b.settledN < n; {
		b.cond().Wait()
	}
}

// round runs transactions over what is pending and commits them until
// nothing is. Early calls are answered as soon as the transaction holds
// their writes. A leader (a caller running the round in its own
// goroutine) whose call is early hands the commit to a new goroutine, so
// that its answer does not wait for the fsync; that committer then goes on
// with whatever queued up meanwhile.
func (b *batcher) round(s *Store, leader *batchCall) {
	for {
		calls := b.take()
		if len(calls) == 0 {
			return
		}
		tx, calls := s.runCalls(calls)
		n := b.answer(calls)
		if leader != nil && leader.early {
			go b.finish(s, tx, n, calls)
			return
		}
		leader = nil
		b.commit(s, tx, n, calls)
	}
}

// finish commits a leader's round, then goes on as the committer.
func (b *batcher) finish(s *Store, tx *bolt.Tx, n uint64, calls []*batchCall) {
	b.commit(s, tx, n, calls)
	b.round(s, nil)
}

// commit makes tx durable and answers the durable calls. A failed commit
// after early calls were answered means verdicts were given whose record
// is lost: the store falls back to the fence (fence.go).
func (b *batcher) commit(s *Store, tx *bolt.Tx, n uint64, calls []*batchCall) {
	var err error
	if tx != nil {
		err = tx.Commit()
	}
	early := false
	for _, c := range calls {
		if c.early {
			early = true
		} else {
			c.done <- err
		}
	}
	if err != nil && early {
		s.lostCommit(err) // before settling: a reader then meets the fence
	}
	b.settle(n, calls)
}

// wait blocks until no commit is under way.
func (b *batcher) wait() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.committing {
		b.cond().Wait()
	}
}

// runCalls runs calls in one write transaction and returns it uncommitted
// with the calls it holds. As with bbolt's Batch, a call that fails is
// taken out, the others are run again without it, and it then runs alone
// (durably) so that its error is its own. A transaction that cannot begin
// fails every call.
func (s *Store) runCalls(calls []*batchCall) (*bolt.Tx, []*batchCall) {
	for len(calls) > 0 {
		tx, err := s.db.Begin(true)
		if err != nil {
			for _, c := range calls {
				c.done <- err
			}
			return nil, nil
		}
		failed := -1
		for i, c := range calls {
			if safeCall(c.fn, &Tx{tx: tx, s: s}) != nil {
				failed = i
				break
			}
		}
		if failed < 0 {
			return tx, calls
		}
		tx.Rollback()
		c := calls[failed]
		calls = append(calls[:failed:failed], calls[failed+1:]...)
		c.done <- s.Update(func(tx *Tx) error { return safeCall(c.fn, tx) })
	}
	return nil, nil
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
