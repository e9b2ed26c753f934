package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestBatchFailureIsItsOwn: among concurrent writes sharing commits, one
// that fails (or panics) gets its error, writes nothing, and every other
// write is committed.
func TestBatchFailureIsItsOwn(t *testing.T) {
	s, _, _ := openTemp(t)
	errBad := errors.New("bad write")
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Batch(func(tx *Tx) error {
				if err := tx.PutState(fmt.Sprint("u", i), State{LastStep: int64(i)}); err != nil {
					return err
				}
				switch i {
				case 7:
					return errBad
				case 11:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
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
