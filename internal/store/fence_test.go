package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The child half of TestKilledAfterEarlyAnswersRaisesTheFence: serves the
// store and records one login outcome after another, printing each answer
// as a daemon would send its verdict; with JCMFA_FENCE_CLOSE it then
// closes cleanly.
func init() {
	s := childStore("server")
	if s == nil {
		return
	}
	if _, err := s.Serve(time.Now()); err != nil {
		fmt.Println("serve:", err)
		os.Exit(1)
	}
	n := 100000
	if os.Getenv("JCMFA_FENCE_CLOSE") != "" {
		n = 200
	}
	for i := 1; i <= n; i++ {
		err := s.Record("alice", func(tx *Tx) error {
			if err := tx.PutState("alice", State{LastStep: int64(i)}); err != nil {
				return err
			}
			return tx.AppendEvent(&Event{Kind: "login", User: "alice", Verdict: "allow"})
		})
		if err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
		fmt.Println("answered", i)
	}
	if err := s.Close(); err != nil {
		fmt.Println("close:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveAgain opens the store at path as the next daemon would, and
// reports whether it found an unclean stop.
func serveAgain(t *testing.T, path string, key []byte) (*Store, bool) {
	t.Helper()
	s, err := Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	unclean, err := s.Serve(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s, unclean
}

func lastStepOf(t *testing.T, s *Store) int64 {
	t.Helper()
	var st State
	if err := s.View(func(tx *Tx) (err error) { st, err = tx.State("alice"); return err }); err != nil {
		t.Fatal(err)
	}
	return st.LastStep
}

// A daemon answers logins before their commit is durable (Record); killed
// with SIGKILL in the middle of that, it leaves a store that opens intact
// and whose next Serve sees the unclean stop and raises the fence to the
// restart time: later than every answer the dead daemon gave.
func TestKilledAfterEarlyAnswersRaisesTheFence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "jcmfa.db")
	key := testKey(t)
	for round, killAfter := range []int{1, 300, 3000} {
		cmd, sc := startChild(t, "server", path, key)
		answered := 0
		for answered < killAfter && sc.Scan() {
			if _, err := fmt.Sscanf(sc.Text(), "answered %d", &answered); err != nil {
				t.Fatalf("child: %s", sc.Text())
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		lastAnswer := time.Now()
		if answered < killAfter {
			t.Fatalf("round %d: child stopped after %d answers", round, answered)
		}
		s, err := Open(path, key, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		restart := time.Now()
		unclean, err := s.Serve(restart)
		if err != nil || !unclean {
			t.Fatalf("round %d: Serve: unclean=%v err=%v, want the kill seen", round, unclean, err)
		}
		if f := s.Fence(); f.Before(lastAnswer) {
			t.Fatalf("round %d: fence %v is before the dead daemon's last answer %v", round, f, lastAnswer)
		}
		// Whatever reached the disk is whole (the state decodes; every
		// audit event opens).
		lastStepOf(t, s)
		if err := s.View(func(tx *Tx) error { _, err := tx.Events(DefaultAuditCap); return err }); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The clean close above cleared the mark: no fence next time.
	if _, unclean := serveAgain(t, path, key); unclean {
		t.Fatal("a clean close was taken for a crash")
	}
}

// A daemon that stops cleanly loses nothing it answered, and leaves no
// fence for the next one.
func TestCleanCloseKeepsEveryAnswer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "jcmfa.db")
	key := testKey(t)
	cmd, sc := startChild(t, "server", path, key, "JCMFA_FENCE_CLOSE=1")
	answered := 0
	for sc.Scan() {
		fmt.Sscanf(sc.Text(), "answered %d", &answered)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v (last line %q)", err, sc.Text())
	}
	s, unclean := serveAgain(t, path, key)
	if unclean {
		t.Fatal("a clean close was taken for a crash")
	}
	if !s.Fence().IsZero() {
		t.Fatalf("fence %v after a clean stop", s.Fence())
	}
	if got := lastStepOf(t, s); got != int64(answered) || answered != 200 {
		t.Fatalf("last step %d after %d answers", got, answered)
	}
}

// Early answers share the rolling transaction: concurrent
// read-modify-writes lose no update, and a write that fails is its own
// (it failed after writing, so its write stays: fn must check first).
func TestRecordConcurrentWritesLoseNothing(t *testing.T) {
	s, _, _ := openTemp(t)
	if _, err := s.Serve(time.Now()); err != nil {
		t.Fatal(err)
	}
	errBad := errors.New("bad write")
	var wg sync.WaitGroup
	errs := make([]error, 300)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Record("alice", func(tx *Tx) error {
				st, err := tx.State("counter")
				if err != nil {
					return err
				}
				st.Failures++
				if err := tx.PutState("counter", st); err != nil {
					return err
				}
				if i == 13 {
					return errBad
				}
				return nil
			})
		}()
	}
	wg.Wait()
	s.Settle()
	for i, err := range errs {
		if (i == 13) != errors.Is(err, errBad) || (i != 13 && err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	var st State
	s.View(func(tx *Tx) (err error) { st, err = tx.State("counter"); return err })
	if st.Failures != 300 {
		t.Fatalf("counter %d after 300 increments", st.Failures)
	}
}

// A commit that fails under early answers: the fence rises to now, later
// writes wait for their commit, and the file stays marked so the next
// daemon fences too.
func TestLostCommitFencesAndStaysMarked(t *testing.T) {
	s, path, key := openTemp(t)
	if _, err := s.Serve(time.Now()); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	s.lostCommit(errors.New("disk full"))
	if s.Fence().Before(before) {
		t.Fatalf("fence %v, want at least %v", s.Fence(), before)
	}
	if err := s.Record("alice", func(tx *Tx) error { return tx.PutState("bob", State{LastStep: 9}) }); err != nil {
		t.Fatal(err)
	}
	s.batch.mu.Lock()
	open := s.batch.tx != nil
	s.batch.mu.Unlock()
	if open {
		t.Fatal("a Record after a lost commit went into the rolling transaction")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, unclean := serveAgain(t, path, key); !unclean {
		t.Fatal("after a lost commit the next daemon found a clean stop, want a fence")
	}
}

// What Record answered is what the account's next read sees, although its
// commit may still be running: a login straight after a failed one must
// meet the new failure count (and a lockout), and an admin the event.
func TestViewUserAndSettleSeeAnsweredWrites(t *testing.T) {
	s, _, _ := openTemp(t)
	if _, err := s.Serve(time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 100; i++ {
		if err := s.Record("alice", func(tx *Tx) error {
			if err := tx.PutState("alice", State{Failures: i}); err != nil {
				return err
			}
			return tx.AppendEvent(&Event{Kind: "login", User: "alice", Detail: fmt.Sprint(i)})
		}); err != nil {
			t.Fatal(err)
		}
		var st State
		s.ViewUser("alice", func(tx *Tx) (err error) { st, err = tx.State("alice"); return err })
		if st.Failures != i {
			t.Fatalf("read after answer %d saw %d", i, st.Failures)
		}
		if i%10 == 0 {
			s.Settle()
			var evs []Event
			s.View(func(tx *Tx) (err error) { evs, err = tx.Events(1); return err })
			if len(evs) != 1 || evs[0].Detail != fmt.Sprint(i) {
				t.Fatalf("after Settle the newest event is %+v, want %d", evs, i)
			}
		}
	}
}
