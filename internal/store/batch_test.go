package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRecordFailureIsItsOwn: among concurrent logins sharing the rolling
// transaction, one whose write fails (or panics) gets its error, and every
// other write is committed.
func TestRecordFailureIsItsOwn(t *testing.T) {
	s, _, _ := openTemp(t)
	if _, err := s.Serve(time.Now()); err != nil {
		t.Fatal(err)
	}
	errBad := errors.New("bad write")
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("u", i)
			errs[i] = s.Record(name, func(tx *Tx) error {
				switch i {
				case 7:
					return errBad // checks fail before anything is written
				case 11:
					panic("boom")
				}
				return tx.PutState(name, State{LastStep: int64(i)})
			})
		}()
	}
	wg.Wait()
	s.Settle()
	s.View(func(tx *Tx) error {
		for i, err := range errs {
			switch {
			case i == 7 && !errors.Is(err, errBad), i == 11 && !errors.Is(err, errPanicked):
				t.Errorf("write %d: %v", i, err)
			case i != 7 && i != 11 && err != nil:
				t.Errorf("write %d: %v", i, err)
			}
			if got := tx.HasState(fmt.Sprint("u", i)); got != (i != 7 && i != 11) {
				t.Errorf("write %d committed = %v", i, got)
			}
		}
		return nil
	})
}

// The rolling transaction is committed by its timer: a write answered
// early is on disk within commitDelay without anyone asking.
func TestRecordIsCommittedByTheTimer(t *testing.T) {
	s, _, _ := openTemp(t)
	if _, err := s.Serve(time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Record("alice", func(tx *Tx) error { return tx.PutState("alice", State{LastStep: 42}) }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.batch.mu.Lock()
		open := s.batch.tx != nil
		s.batch.mu.Unlock()
		if !open {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rolling transaction still open after 5 s")
		}
		time.Sleep(commitDelay / 2)
	}
	var st State
	s.View(func(tx *Tx) (err error) { st, err = tx.State("alice"); return err })
	if st.LastStep != 42 {
		t.Fatalf("committed state %+v", st)
	}
}
