package store

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// genBundle is generation g of a fleet bundle: every record carries g, so a
// store holding two generations at once shows.
func genBundle(g, users int) Bundle {
	b := Bundle{Record: FleetRecord{Managed: true, Serial: int64(g), Hash: "gen" + strconv.Itoa(g)}, Settings: DefaultSettings()}
	b.Settings.AttemptLimit = g%100 + 1
	for i := 0; i < users; i++ {
		b.Users = append(b.Users, User{Name: "user" + strconv.Itoa(i), Required: true,
			TOTP: &Secret{Key: fmt.Sprintf("GEN%dUSER%d", g, i), Algorithm: "SHA1", Digits: 6, Period: 30}})
	}
	b.Policies = []Policy{{ID: "f1", Name: "gen" + strconv.Itoa(g), AllUsers: true, Enabled: true}}
	return b
}

// The child half of TestKilledDuringApplyLeavesOneWholeBundle: applies
// 10,000-user bundles of growing generations until killed.
func init() {
	s := childStore("applier")
	if s == nil {
		return
	}
	var start int
	s.View(func(tx *Tx) error { r, _, _ := tx.Fleet(); start = int(r.Serial); return nil })
	for g := start + 1; ; g++ {
		b := genBundle(g, 10000)
		fmt.Println("applying", g)
		if err := s.ApplyBundle(b, &Event{Kind: "fleet-apply"}); err != nil {
			fmt.Println("apply:", err)
			os.Exit(1)
		}
	}
}

func TestKilledDuringApplyLeavesOneWholeBundle(t *testing.T) {
	s, path, key := openTemp(t)
	// Living data that no bundle may touch.
	s.Update(func(tx *Tx) error { return tx.PutState("user7", State{LastStep: 4242, Failures: 3}) })
	if err := s.ApplyBundle(genBundle(1, 10000), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for round, delay := range []time.Duration{0, 7 * time.Millisecond, 23 * time.Millisecond, 61 * time.Millisecond} {
		cmd, sc := startChild(t, "applier", path, key)
		seen := 0
		for sc.Scan() && seen < 2+round {
			if !strings.HasPrefix(sc.Text(), "applying") {
				t.Fatalf("child: %s", sc.Text())
			}
			seen++
		}
		// SIGKILL while the child is inside an apply.
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		s, err := Open(path, key, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		err = s.View(func(tx *Tx) error {
			rec, _, err := tx.Fleet()
			if err != nil {
				return err
			}
			g := int(rec.Serial)
			st, err := tx.Settings()
			if err != nil || st.AttemptLimit != g%100+1 {
				return fmt.Errorf("settings %+v are not generation %d's (%v)", st, g, err)
			}
			ps, err := tx.Policies()
			if err != nil || len(ps) != 1 || ps[0].Name != "gen"+strconv.Itoa(g) {
				return fmt.Errorf("policies %+v are not generation %d's (%v)", ps, g, err)
			}
			n := 0
			err = tx.ForEachUser(func(u User) error {
				n++
				if !strings.HasPrefix(u.TOTP.Key, "GEN"+strconv.Itoa(g)+"USER") {
					return fmt.Errorf("%s holds %s, not generation %d's secret: a mix", u.Name, u.TOTP.Key, g)
				}
				return nil
			})
			if err == nil && n != 10000 {
				err = fmt.Errorf("%d users, want 10000", n)
			}
			if err != nil {
				return err
			}
			if ls, _ := tx.State("user7"); ls.LastStep != 4242 || ls.Failures != 3 {
				return fmt.Errorf("living data lost: %+v", ls)
			}
			// No t.Log here: under wine any logged line makes the known
			// temp-dir cleanup failure count as real (gotest_wine.sh).
			_ = g
			return nil
		})
		s.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}
