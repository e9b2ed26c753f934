package store

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Crash tests run half of themselves in a child: this test binary again,
// started by startChild with the store's path and key, killed with
// SIGKILL at some point. The child's init() recognises its role with
// childStore and reports progress on stdout.

// startChild runs the child half named role on the store at path.
func startChild(t *testing.T, role, path string, key []byte, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "JCMFA_CHILD="+role, "JCMFA_CRASH_STORE="+path,
		"JCMFA_CRASH_KEY="+hex.EncodeToString(key))...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

// childStore opens the store if this process is the child half named
// role (nil otherwise), exiting with the error on stdout if it cannot.
func childStore(role string) *Store {
	if os.Getenv("JCMFA_CHILD") != role {
		return nil
	}
	key, _ := hex.DecodeString(os.Getenv("JCMFA_CRASH_KEY"))
	s, err := Open(os.Getenv("JCMFA_CRASH_STORE"), key, Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	return s
}

// The child half of TestKilledMidWriteKeepsCommittedRecords: writes 500
// users, one transaction each, and reports each commit on stdout.
func init() {
	s := childStore("writer")
	if s == nil {
		return
	}
	for i := 0; i < 500; i++ {
		name := "user" + strconv.Itoa(i)
		err := s.Update(func(tx *Tx) error {
			if err := tx.PutUser(User{Name: name, Required: true, TOTP: &Secret{Key: "JBSWY3DPEHPK3PXP", Digits: 6, Period: 30}}); err != nil {
				return err
			}
			if err := tx.PutState(name, State{LastStep: int64(i)}); err != nil {
				return err
			}
			return tx.AppendEvent(&Event{Kind: "enroll", User: name})
		})
		if err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
		fmt.Println("committed", i)
	}
	os.Exit(0)
}

func TestKilledMidWriteKeepsCommittedRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "jcmfa.db")
	key := testKey(t)
	for round, killAfter := range []int{1, 137, 400} {
		cmd, sc := startChild(t, "writer", path, key)
		committed := -1
		for sc.Scan() {
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "committed %d", &n); err != nil {
				t.Fatalf("child: %s", sc.Text())
			}
			committed = n
			if n >= killAfter {
				break
			}
		}
		// SIGKILL while the child is in the middle of further writes.
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if committed < killAfter {
			t.Fatalf("round %d: child stopped after %d commits", round, committed)
		}

		s, err := Open(path, key, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		var n int
		err = s.View(func(tx *Tx) error {
			for i := 0; i <= committed; i++ {
				name := "user" + strconv.Itoa(i)
				u, found, err := tx.User(name)
				if err != nil || !found || u.TOTP == nil {
					return fmt.Errorf("%s: found=%v err=%v", name, found, err)
				}
				st, err := tx.State(name)
				if err != nil || st.LastStep != int64(i) {
					return fmt.Errorf("%s state: %+v %v", name, st, err)
				}
			}
			// Nothing half-written: every record present opens.
			n = tx.UserCount()
			return tx.ForEachUser(func(User) error { return nil })
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if n < committed+1 {
			t.Fatalf("round %d: %d users, want at least %d", round, n, committed+1)
		}
		s.Close()
		time.Sleep(10 * time.Millisecond)
	}
}
