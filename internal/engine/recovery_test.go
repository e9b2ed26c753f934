package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
)

// issue gives user n recovery codes as an admin would.
func (f *fixture) issue(user string, n int) []string {
	f.t.Helper()
	ri, err := f.eng.IssueRecoveryCodes("test", user, n)
	if err != nil {
		f.t.Fatal(err)
	}
	return ri.Codes
}

func TestAdminIssuesRecoveryCodes(t *testing.T) { // R1, R10
	f := newFixture(t)
	f.enroll("alice")
	codes := f.issue("alice", 0)
	if len(codes) != recovery.DefaultCount {
		t.Fatalf("%d codes, want the default %d", len(codes), recovery.DefaultCount)
	}
	for _, c := range codes {
		if _, ok := recovery.Normalize(c); !ok || len(c) != 9 {
			t.Fatalf("code %q is not a readable recovery code", c)
		}
	}
	if r := f.status("alice"); r.RecoveryCodes != 10 {
		t.Fatalf("status shows %d codes, want 10", r.RecoveryCodes)
	}
	var listed int
	f.eng.ListUsers(func(r UserRow) error { listed = r.RecoveryCodes; return nil })
	if listed != 10 {
		t.Fatalf("users shows %d codes, want 10", listed)
	}
	if got := len(f.issue("alice", 3)); got != 3 {
		t.Fatalf("--count 3 gave %d", got)
	}
	for _, n := range []int{-1, 51} {
		if _, err := f.eng.IssueRecoveryCodes("test", "alice", n); !errors.Is(err, recovery.ErrCount) {
			t.Errorf("count %d: err = %v", n, err)
		}
	}
	// Not enrolled: nothing to recover.
	f.require("test", "bob", RequireOptions{})
	if _, err := f.eng.IssueRecoveryCodes("test", "bob", 0); !errors.Is(err, ErrNotEnrolled) || !strings.Contains(err.Error(), "user enroll bob") {
		t.Fatalf("codes for an account with no secret: %v", err)
	}
}

// R2: the store holds salted hashes only; neither the audit nor the log
// ever holds a code.
func TestRecoveryCodesAreNeverStoredOrLogged(t *testing.T) { // R2
	f := newFixture(t)
	var log strings.Builder
	var mu sync.Mutex
	f.eng.Log = slogTo(&log, &mu)
	f.enroll("alice")
	codes := f.issue("alice", 5)
	v, _ := f.login("alice", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
	v, _ = f.login("alice", codes[1]+"x") // a typo
	wantVerdict(t, v, Deny, "bad-code-format")
	f.eng.Store.Close()
	db, err := bolt.Open(f.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var raw []byte
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error { raw = append(append(raw, k...), v...); return nil })
		})
	})
	evs := log.String()
	for _, c := range codes {
		canon, _ := recovery.Normalize(c)
		for _, form := range []string{c, canon} {
			if strings.Contains(string(raw), form) || strings.Contains(evs, form) {
				t.Fatalf("code %q found in the store file or the log", form)
			}
		}
	}
	if !strings.Contains(evs, "recovery-code") || !strings.Contains(evs, "4 recovery codes left") {
		t.Fatalf("the log does not show the recovery login:\n%s", evs)
	}
}

func TestRecoveryCodeLogsInOnceInAnyForm(t *testing.T) { // R4, R5
	f := newFixture(t)
	f.enroll("alice")
	codes := f.issue("alice", 10)
	forms := []string{
		codes[0],
		strings.ToUpper(codes[1]),
		strings.ReplaceAll(codes[2], "-", ""),
		"  " + strings.Replace(codes[3], "-", " - ", 1) + " ",
	}
	for i, form := range forms {
		v, s := f.login("alice", form)
		wantVerdict(t, v, Allow, "recovery-code")
		want := fmt.Sprintf("%d recovery codes left", 9-i)
		if len(s.infos) != 1 || !strings.Contains(s.infos[0], want) {
			t.Fatalf("login with %q: told %q, want %q", form, s.infos, want)
		}
		evs, _ := f.eng.Audit(1)
		if evs[0].Verdict != "allow" || evs[0].Reason != "recovery-code" || evs[0].Detail != want {
			t.Fatalf("audit %+v, want allow recovery-code %q", evs[0], want)
		}
	}
	// Each once: the second use is a wrong code, and counts.
	v, s := f.login("alice", codes[0])
	wantVerdict(t, v, Deny, "wrong-code")
	if len(s.errs) != 1 || !strings.Contains(s.errs[0], "Wrong verification code") {
		t.Fatalf("errors %q", s.errs)
	}
	if r := f.status("alice"); r.Failures != 1 || r.RecoveryCodes != 6 {
		t.Fatalf("after a spent code: failures %d, codes %d; want 1 and 6", r.Failures, r.RecoveryCodes)
	}
	// A recovery code that works clears the failure count, as a code does.
	v, _ = f.login("alice", codes[4])
	wantVerdict(t, v, Allow, "recovery-code")
	if r := f.status("alice"); r.Failures != 0 {
		t.Fatalf("failures %d after a good recovery code", r.Failures)
	}
}

// A login that uses one of the last three says so, with the number left.
func TestLastRecoveryCodesAreAnnounced(t *testing.T) { // R4
	f := newFixture(t)
	f.enroll("alice")
	codes := f.issue("alice", 4)
	want := []string{"3 recovery codes left.", "2 recovery codes left. Make new ones", "1 recovery code left. Make new ones", "That was your last one"}
	for i, c := range codes {
		v, s := f.login("alice", c)
		wantVerdict(t, v, Allow, "recovery-code")
		if len(s.infos) != 1 || !strings.Contains(s.infos[0], want[i]) {
			t.Fatalf("code %d: told %q, want %q", i+1, s.infos, want[i])
		}
	}
	if r := f.status("alice"); r.RecoveryCodes != 0 {
		t.Fatalf("%d left", r.RecoveryCodes)
	}
}

func TestNewRecoveryCodesRevokeTheOld(t *testing.T) { // R3
	f := newFixture(t)
	f.enroll("alice")
	old := f.issue("alice", 5)
	fresh := f.issue("alice", 5)
	v, _ := f.login("alice", old[0])
	wantVerdict(t, v, Deny, "wrong-code")
	v, _ = f.login("alice", fresh[0])
	wantVerdict(t, v, Allow, "recovery-code")
	evs, _ := f.eng.Audit(20)
	found := false
	for _, ev := range evs {
		found = found || ev.Kind == "recovery-codes" && strings.Contains(ev.Detail, "revoked the earlier set (5 unused)")
	}
	if !found {
		t.Fatalf("the second issue does not say it revoked the first: %+v", evs)
	}
	// A reset takes the secret and the codes with it.
	f.must(f.eng.ResetUser("test", "alice"))
	if r := f.status("alice"); r.RecoveryCodes != 0 {
		t.Fatalf("%d codes after a reset", r.RecoveryCodes)
	}
}

// Wrong recovery codes count toward the same lockout as wrong TOTP codes,
// in parallel too; and a locked account is refused even with a good
// recovery code, which is neither checked nor spent (locked wins).
func TestParallelWrongRecoveryCodesLockAndLockedWins(t *testing.T) { // R5, R6
	f := newFixture(t)
	f.enroll("alice")
	f.must(f.eng.UpdateSettings("test", "", func(s *store.Settings) { s.AttemptLimit, s.Lockout = 5, 15*time.Minute }))
	codes := f.issue("alice", 3)
	var wg sync.WaitGroup
	verdicts := make(chan Verdict, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _ := f.login("alice", "2222-2222")
			verdicts <- v
		}()
	}
	wg.Wait()
	close(verdicts)
	counts := map[string]int{}
	for v := range verdicts {
		counts[v.Word+" "+v.Reason]++
	}
	if counts["deny wrong-code"] != 5 || counts["deny locked-out"] != 15 {
		t.Fatalf("20 parallel wrong recovery codes: %v, want 5 counted then locked-out", counts)
	}
	v, s := f.login("alice", codes[0])
	wantVerdict(t, v, Deny, "locked-out")
	if len(s.asks) != 0 {
		t.Fatal("a locked account was asked for a code")
	}
	if r := f.status("alice"); !r.Locked || r.RecoveryCodes != 3 {
		t.Fatalf("status %+v: want locked with 3 codes unspent", r)
	}
	f.clock = f.clock.Add(16 * time.Minute)
	v, _ = f.login("alice", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
}

// The same code in many logins at once is accepted exactly once: it is
// looked up and spent inside each login's write transaction.
func TestSameRecoveryCodeInParallelIsAcceptedOnce(t *testing.T) { // R7
	f := newFixture(t)
	f.enroll("alice")
	codes := f.issue("alice", 2)
	f.must(f.eng.UpdateSettings("test", "", func(s *store.Settings) { s.AttemptLimit = 20 }))
	var wg sync.WaitGroup
	verdicts := make(chan Verdict, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _ := f.login("alice", codes[0])
			verdicts <- v
		}()
	}
	wg.Wait()
	close(verdicts)
	allowed := 0
	for v := range verdicts {
		if v.Word == Allow {
			allowed++
		}
	}
	if allowed != 1 {
		t.Fatalf("one code accepted %d times", allowed)
	}
	if r := f.status("alice"); r.RecoveryCodes != 1 {
		t.Fatalf("status %+v: want 1 code left", r)
	}
	// The others were wrong codes (counted; the allow cleared the count
	// of those before it, so the count depends on the order).
	evs, _ := f.eng.Audit(8)
	wrong := 0
	for _, ev := range evs {
		if ev.Reason == "wrong-code" {
			wrong++
		}
	}
	if wrong != 7 {
		t.Fatalf("%d wrong-code refusals, want 7: %+v", wrong, evs)
	}
}

// A recovery record moved to another account's slot (or altered) does not
// open: the recovery login is denied as internal and nothing is spent.
func TestTamperedRecoveryRecordIsRefused(t *testing.T) { // R8
	f := newFixture(t)
	f.enroll("alice")
	f.enroll("bob")
	codes := f.issue("alice", 3)
	f.issue("bob", 3)
	f.eng.Store.Close()
	db, err := bolt.Open(f.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("recovery"))
		return b.Put([]byte("bob"), append([]byte(nil), b.Get([]byte("alice"))...))
	})
	db.Close()
	st, err := store.Open(f.path, f.key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f.eng.Store = st
	v, _ := f.login("bob", codes[0])
	wantVerdict(t, v, Deny, "internal")
	if _, err := f.eng.UserStatus("bob"); !errors.Is(err, store.ErrTampered) {
		t.Fatalf("status of bob: err = %v, want the tampering reported", err)
	}
	v, _ = f.login("alice", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
}

// recoveryDialogue runs `jcmfa-agent recovery-codes` for user with answer.
func (f *fixture) recoveryDialogue(user, answer string, n int) (Verdict, *script) {
	s := &script{answers: []string{answer}}
	v := f.eng.SelfRecoveryCodes(context.Background(), LoginRequest{User: user, Client: "cli"}, n, s)
	return v, s
}

func shownCodes(s *script) []string {
	var out []string
	for _, l := range s.infos {
		if c, ok := recovery.Normalize(l); ok && strings.HasPrefix(l, "  ") {
			out = append(out, recovery.Format(c))
		}
	}
	return out
}

func TestUserMakesOwnRecoveryCodesWithATOTPCode(t *testing.T) { // R9
	f := newFixture(t)
	sec := f.enroll("alice")
	old := f.issue("alice", 2)
	v, s := f.recoveryDialogue("alice", f.code(sec), 0)
	wantVerdict(t, v, Allow, "recovery-codes")
	codes := shownCodes(s)
	if len(codes) != 10 {
		t.Fatalf("shown %d codes: %q", len(codes), s.infos)
	}
	// The proving code is used: it does not log in again.
	lv, _ := f.login("alice", f.code(sec))
	wantVerdict(t, lv, Deny, "replayed-code")
	lv, _ = f.login("alice", old[0])
	wantVerdict(t, lv, Deny, "wrong-code") // revoked
	lv, _ = f.login("alice", codes[0])
	wantVerdict(t, lv, Allow, "recovery-code")

	// A wrong code makes nothing and counts; a recovery code is no proof.
	f.clock = f.clock.Add(30 * time.Second)
	v, s = f.recoveryDialogue("alice", wrongCode(f, sec), 3)
	wantVerdict(t, v, Deny, "wrong-code")
	if len(shownCodes(s)) != 0 {
		t.Fatal("codes shown after a wrong code")
	}
	v, _ = f.recoveryDialogue("alice", codes[1], 3)
	if v.Word != Deny {
		t.Fatalf("a recovery code made new recovery codes: %+v", v)
	}
	if r := f.status("alice"); r.Failures != 2 || r.RecoveryCodes != 9 {
		t.Fatalf("status %+v: want 2 failures, 9 codes", r)
	}
	// Not enrolled, or locked: refused before any code is asked.
	f.require("test", "bob", RequireOptions{})
	v, s = f.recoveryDialogue("bob", "123456", 0)
	wantVerdict(t, v, Deny, "not-enrolled")
	if len(s.asks) != 0 {
		t.Fatal("asked a code of an account that has none")
	}
	f.must(f.eng.UpdateSettings("test", "", func(s *store.Settings) { s.AttemptLimit = 2 }))
	f.must(f.eng.UnlockUser("test", "alice"))
	f.recoveryDialogue("alice", wrongCode(f, sec), 0)
	f.recoveryDialogue("alice", wrongCode(f, sec), 0)
	v, s = f.recoveryDialogue("alice", f.code(sec), 0)
	wantVerdict(t, v, Deny, "locked-out")
	if len(s.asks) != 0 {
		t.Fatal("a locked account was asked for a code")
	}
}

// Recovery codes are this device's living data: a fleet bundle that
// replaces the configuration leaves them, and they work on a managed
// device; an admin may issue them there without --local-override.
func TestRecoveryCodesSurviveABundle(t *testing.T) { // R11
	f := newFixture(t)
	f.enroll("alice")
	var u store.User
	f.eng.Store.View(func(tx *store.Tx) error { u, _, _ = tx.User("alice"); return nil })
	codes := f.issue("alice", 3)
	set := store.DefaultSettings()
	set.OrgTOTP, set.DeviceMFA = true, true
	if err := f.eng.Store.ApplyBundle(store.Bundle{Record: store.FleetRecord{Managed: true, Serial: 1}, Settings: set, Users: []store.User{u}}, nil); err != nil {
		t.Fatal(err)
	}
	v, _ := f.login("alice", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
	if _, err := f.eng.IssueRecoveryCodes("uid:0", "alice", 2); err != nil {
		t.Fatalf("issue on a managed device: %v", err)
	}
}

// lockedBuilder is a log destination logins may write from many goroutines.
type lockedBuilder struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (l lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func slogTo(b *strings.Builder, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedBuilder{mu: mu, b: b}, nil))
}

// A record moved to its account's key (MigrateAccounts, identity.go)
// takes its recovery codes with it.
func TestRecoveryCodesMoveWithTheRecord(t *testing.T) { // R3
	f := newFixture(t)
	f.eng.Directory = fakeDir{"bob": nil}
	f.enroll("alice@corp.example")
	codes := f.issue("alice@corp.example", 2)
	aliases(f)
	if warnings, err := f.eng.MigrateAccounts(); err != nil || len(warnings) != 0 {
		t.Fatal(warnings, err)
	}
	v, _ := f.login("alice", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
}
