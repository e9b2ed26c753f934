package daemon

import (
	"errors"
	"fmt"
	"time"

	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/store"
)

// health answers "could a login get through now?" for the service
// manager's watchdog, by trying the two things every login needs:
//
//   - the accept loop is alive: parked in Accept, or busy with one
//     connection for less than the bound (ipc.Server.AcceptStall);
//   - the store answers a read along the login path: ViewUser takes the
//     rolling transaction's lock (held by a commit while it syncs) and a
//     bbolt read transaction, then the settings are read, as a login's
//     first look does.
//
// It deliberately does not open a connection to the daemon: that would
// wait for a free slot like any login, and a flood of slow logins (which
// the daemon survives) would then read as a hang and get it restarted,
// fencing every code for 90 s (docs/policy.md, D13).
//
// check is called from one goroutine (the watchdog's).
type health struct {
	st  *store.Store
	srv *ipc.Server
	// probe is the store read under way (nil: none), and when it began:
	// a read that outlives one check is waited for by the next rather than
	// piling up another goroutine behind the same wedge.
	probe      chan error
	probeSince time.Time
}

func (h *health) check(bound time.Duration) error {
	now := time.Now()
	stall, serving := h.srv.AcceptStall(now)
	if !serving {
		return errors.New("the local channel is not accepting connections")
	}
	if stall > bound {
		return fmt.Errorf("the accept loop has been stuck on one connection for %v: logins cannot reach the daemon", stall.Round(time.Millisecond))
	}
	if h.probe == nil {
		h.probe, h.probeSince = make(chan error, 1), now
		go func(done chan<- error) {
			done <- h.st.ViewUser("", func(tx *store.Tx) error {
				_, err := tx.Settings()
				return err
			})
		}(h.probe)
	}
	select {
	case err := <-h.probe:
		h.probe = nil
		if err != nil {
			return fmt.Errorf("reading the store failed: %w", err)
		}
		return nil
	case <-time.After(bound):
		return fmt.Errorf("a read of the store has not answered for %v", time.Since(h.probeSince).Round(time.Millisecond))
	}
}
