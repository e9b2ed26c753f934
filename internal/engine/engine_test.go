package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jcmfa/jcmfa/internal/accounts"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// script is a conversation with a person who gives the answers in order.
type script struct {
	mu      sync.Mutex
	answers []string
	infos   []string
	errs    []string
	asks    []string
}

func (s *script) Info(t string) error {
	s.mu.Lock()
	s.infos = append(s.infos, t)
	s.mu.Unlock()
	return nil
}
func (s *script) Error(t string) error {
	s.mu.Lock()
	s.errs = append(s.errs, t)
	s.mu.Unlock()
	return nil
}
func (s *script) Ask(_ bool, p string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asks = append(s.asks, p)
	if len(s.answers) == 0 {
		return "", errors.New("the person walked away")
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

// dynamicAnswer computes the answer when it is asked (e.g. from a secret
// shown in an INFO line).
type dynamic struct {
	script
	answer func(s *script) string
	n      int
}

func (d *dynamic) Ask(echo bool, p string) (string, error) {
	d.mu.Lock()
	d.asks = append(d.asks, p)
	d.n++
	d.mu.Unlock()
	return d.answer(&d.script), nil
}

type fixture struct {
	t     *testing.T
	eng   *Engine
	clock time.Time
	path  string
	key   []byte
}

// fakeDir is an account database of accounts and their groups, keyed by
// canonical name; names not in it are unknown to the "OS".
type fakeDir map[string][]string

func (d fakeDir) Lookup(n string) (accounts.Account, bool, error) {
	if _, ok := d[n]; !ok {
		return accounts.Account{}, false, nil
	}
	return accounts.Account{Name: n, ID: "id-" + n}, true, nil
}
func (d fakeDir) Groups(n string) ([]string, error) { return d[n], nil }

// aliasDir adds other spellings of fakeDir's accounts (uid aliases, case,
// user@domain), as NSS answers them.
type aliasDir struct {
	fakeDir
	alias map[string]string // spelling → canonical name
}

func (d aliasDir) Lookup(n string) (accounts.Account, bool, error) {
	if c, ok := d.alias[n]; ok {
		n = c
	}
	return d.fakeDir.Lookup(n)
}

func newFixture(t *testing.T) *fixture {
	path := filepath.Join(t.TempDir(), "state", "jcmfa.db")
	key := make([]byte, store.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	st, err := store.Open(path, key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, clock: time.Date(2026, 11, 23, 12, 0, 10, 0, time.UTC), path: path, key: key}
	f.eng = New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.eng.Now = func() time.Time { return f.clock }
	f.eng.Directory = fakeDir{"alice": {"alice", "staff"}, "bob": {"bob", "wheel"}, "carol": {"carol"}}
	f.eng.Hostname = "testhost"
	f.must(f.eng.UpdateSettings("test", "on", func(s *store.Settings) { s.OrgTOTP, s.DeviceMFA = true, true }))
	return f
}

func (f *fixture) must(_ any, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) require(who Actor, user string, opts RequireOptions) {
	f.t.Helper()
	if _, _, err := f.eng.RequireUser(who, user, opts); err != nil {
		f.t.Fatal(err)
	}
}

// enroll requires and enrolls user, returning the secret.
func (f *fixture) enroll(user string) string {
	f.t.Helper()
	_, _, err := f.eng.RequireUser("test", user, RequireOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	ns, _, err := f.eng.EnrollUser("test", user, totp.Default)
	if err != nil {
		f.t.Fatal(err)
	}
	return ns.Secret.Key
}

func (f *fixture) code(secret string) string {
	c, err := totp.Code(secret, f.clock, totp.Default)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) login(user string, answers ...string) (Verdict, *script) {
	s := &script{answers: answers}
	v := f.eng.Login(context.Background(), LoginRequest{User: user, Surface: "ssh", Interactive: true, Client: "test"}, s)
	return v, s
}

func (f *fixture) status(user string) UserRow {
	r, err := f.eng.UserStatus(user)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func wantVerdict(t *testing.T, got Verdict, word, reason string) {
	t.Helper()
	if got.Word != word || got.Reason != reason {
		t.Fatalf("verdict %s %s, want %s %s", got.Word, got.Reason, word, reason)
	}
}

func TestRightCodeAllowsOnce(t *testing.T) { // D1, D3
	f := newFixture(t)
	sec := f.enroll("alice")
	code := f.code(sec)
	v, _ := f.login("alice", code)
	wantVerdict(t, v, Allow, "totp")
	v, s := f.login("alice", code)
	wantVerdict(t, v, Deny, "replayed-code")
	// The clock is at hh:mm:10: the next code appears at hh:mm:30.
	if len(s.errs) != 1 || !strings.Contains(s.errs[0], "already used") || !strings.Contains(s.errs[0], "in 20 seconds") {
		t.Fatalf("errors shown: %q", s.errs)
	}
	f.clock = f.clock.Add(30 * time.Second)
	v, _ = f.login("alice", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
}

func TestWrongAndMalformedCodesCount(t *testing.T) { // D2, D4
	f := newFixture(t)
	f.enroll("alice")
	v, _ := f.login("alice", "000000")
	if v.Reason == "totp" {
		t.Skip("000000 happens to be the code now")
	}
	wantVerdict(t, v, Deny, "wrong-code")
	v, _ = f.login("alice", "letmein")
	wantVerdict(t, v, Deny, "bad-code-format")
	if r := f.status("alice"); r.Failures != 2 {
		t.Fatalf("failures = %d, want 2", r.Failures)
	}
}

func TestLockoutAfterLimitThenUnlock(t *testing.T) { // D5
	f := newFixture(t)
	sec := f.enroll("alice")
	f.must(f.eng.UpdateSettings("test", "", func(s *store.Settings) { s.AttemptLimit, s.Lockout = 3, 15*time.Minute }))
	for i := 0; i < 3; i++ {
		v, _ := f.login("alice", "99999x")
		wantVerdict(t, v, Deny, "bad-code-format")
	}
	v, s := f.login("alice", f.code(sec))
	wantVerdict(t, v, Deny, "locked-out")
	if len(s.asks) != 0 {
		t.Fatal("a locked-out user was asked for a code")
	}
	if r := f.status("alice"); !r.Locked || r.Failures != 3 {
		t.Fatalf("status %+v", r)
	}
	f.must(f.eng.UnlockUser("test", "alice"))
	v, _ = f.login("alice", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
}

func TestLockoutExpiresByItself(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.must(f.eng.UpdateSettings("test", "", func(s *store.Settings) { s.AttemptLimit, s.Lockout = 1, time.Minute }))
	f.login("alice", "abc")
	v, _ := f.login("alice", f.code(sec))
	wantVerdict(t, v, Deny, "locked-out")
	f.clock = f.clock.Add(61 * time.Second)
	v, _ = f.login("alice", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
}

// showSecretOf finds the key in the setup text the engine sent.
func secretShown(s *script) string {
	for _, l := range s.infos {
		if k, ok := strings.CutPrefix(l, "or enter this key by hand: "); ok {
			return strings.ReplaceAll(k, " ", "")
		}
	}
	return ""
}

func TestInBandEnrollmentDuringPeriod(t *testing.T) { // D6, D9
	f := newFixture(t)
	f.require("test", "alice", RequireOptions{})
	if r := f.status("alice"); r.Status != "enrollment-period" {
		t.Fatalf("status %s", r.Status)
	}
	var used string
	d := &dynamic{answer: func(s *script) string {
		used = f.code(secretShown(s))
		return used
	}}
	v := f.eng.Login(context.Background(), LoginRequest{User: "alice", Surface: "ssh", Interactive: true}, d)
	wantVerdict(t, v, Allow, "enrolled")
	if secretShown(&d.script) == "" || len(d.infos) < 20 {
		t.Fatalf("setup text too short: %d lines", len(d.infos))
	}
	if r := f.status("alice"); r.Status != "enrolled" {
		t.Fatalf("status %s after in-band enrollment", r.Status)
	}
	// The confirming code cannot be used again to log in.
	v, _ = f.login("alice", used)
	wantVerdict(t, v, Deny, "replayed-code")
}

func TestDecliningEnrollmentSkipsDuringPeriod(t *testing.T) { // D7
	f := newFixture(t)
	f.require("test", "alice", RequireOptions{})
	v, _ := f.login("alice", "")
	wantVerdict(t, v, Skip, "enrollment-period")
	if r := f.status("alice"); r.Enrolled {
		t.Fatal("enrolled without confirming")
	}
}

func TestForcedEnrollmentCannotBeDeclined(t *testing.T) { // D8
	f := newFixture(t)
	f.require("test", "alice", RequireOptions{Forced: true})
	v, _ := f.login("alice", "", "", "")
	wantVerdict(t, v, Deny, "enrollment-required")
	s := &script{}
	v = f.eng.Login(context.Background(), LoginRequest{User: "alice", Surface: "gui", Interactive: false}, s)
	wantVerdict(t, v, Deny, "enrollment-required")
}

func TestPreEnrollmentPeriodStartsAtFirstLogin(t *testing.T) { // D9
	f := newFixture(t)
	_, warnings, err := f.eng.RequireUser("test", "dave", RequireOptions{EnrollDays: 2})
	if err != nil || len(warnings) != 1 {
		t.Fatalf("require unknown account: warnings=%q err=%v", warnings, err)
	}
	if r := f.status("dave"); r.Status != "pre-enrollment" {
		t.Fatalf("status %s", r.Status)
	}
	f.clock = f.clock.Add(30 * 24 * time.Hour) // long after: still pre-enrollment
	v, _ := f.login("dave", "")
	wantVerdict(t, v, Skip, "enrollment-period")
	r := f.status("dave")
	if r.Status != "enrollment-period" || !r.PeriodUntil.Equal(f.clock.Add(48*time.Hour)) {
		t.Fatalf("after first login: %s until %v", r.Status, r.PeriodUntil)
	}
}

func TestExpiredEnrollmentLocksOutUntilReset(t *testing.T) { // D11
	f := newFixture(t)
	f.require("test", "alice", RequireOptions{EnrollDays: 1})
	f.clock = f.clock.Add(25 * time.Hour)
	v, s := f.login("alice")
	wantVerdict(t, v, Deny, "enrollment-expired")
	if len(s.errs) != 1 || !strings.Contains(s.errs[0], "Contact your administrator") {
		t.Fatalf("message %q", s.errs)
	}
	f.must(f.eng.ResetUser("test", "alice"))
	v, _ = f.login("alice", "")
	wantVerdict(t, v, Skip, "enrollment-period")
}

func TestRecordCopiedBetweenUsersIsDeniedNotSkipped(t *testing.T) { // D10
	f := newFixture(t)
	f.enroll("alice")
	f.enroll("bob")
	f.eng.Store.Close()
	db, err := bolt.Open(f.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("users"))
		return b.Put([]byte("bob"), append([]byte(nil), b.Get([]byte("alice"))...))
	})
	db.Close()
	st, err := store.Open(f.path, f.key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f.eng.Store = st
	v, s := f.login("bob", "123456")
	wantVerdict(t, v, Deny, "internal")
	if len(s.asks) != 0 {
		t.Fatal("asked for a code against a tampered record")
	}
	v, _ = f.login("alice", f.code(mustSecret(t, f, "alice")))
	wantVerdict(t, v, Allow, "totp")
}

func mustSecret(t *testing.T, f *fixture, user string) string {
	var k string
	f.eng.Store.View(func(tx *store.Tx) error {
		u, _, err := tx.User(user)
		if err != nil {
			t.Fatal(err)
		}
		k = u.TOTP.Key
		return nil
	})
	return k
}

func TestGroupPolicyFollowsOSGroups(t *testing.T) {
	f := newFixture(t)
	f.must(f.eng.AddPolicy("test", store.Policy{Name: "admins", Enabled: true, Groups: []string{"wheel"}}))
	if r := f.status("bob"); !r.Required || r.RequiredBy != "policy:1" {
		t.Fatalf("bob %+v", r)
	}
	if r := f.status("alice"); r.Required {
		t.Fatalf("alice %+v", r)
	}
	f.eng.Directory = fakeDir{"alice": {"wheel"}, "bob": {"bob"}}
	if r := f.status("alice"); !r.Required {
		t.Fatal("alice joined wheel but is not required")
	}
}

func TestEveryVerdictIsAudited(t *testing.T) { // D12
	f := newFixture(t)
	sec := f.enroll("alice")
	f.login("carol")
	if f.code(sec) == "000001" {
		f.clock = f.clock.Add(30 * time.Second)
	}
	f.login("alice", "000001")
	f.login("alice", f.code(sec))
	evs, err := f.eng.Audit(100)
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	for _, ev := range evs {
		if ev.Kind == "login" {
			logins = append(logins, ev.User+":"+ev.Verdict+":"+ev.Reason)
		}
	}
	want := []string{"carol:skip:not-required", "alice:deny:wrong-code", "alice:allow:totp"}
	if strings.Join(logins, " ") != strings.Join(want, " ") {
		t.Fatalf("audited logins %q, want %q", logins, want)
	}
}

func TestSelfEnroll(t *testing.T) {
	f := newFixture(t)
	f.require("test", "alice", RequireOptions{})
	d := &dynamic{answer: func(s *script) string { return f.code(secretShown(s)) }}
	v := f.eng.SelfEnroll(context.Background(), LoginRequest{User: "alice", Surface: "cli"}, d)
	wantVerdict(t, v, Allow, "enrolled")
	v = f.eng.SelfEnroll(context.Background(), LoginRequest{User: "alice", Surface: "cli"}, &script{})
	wantVerdict(t, v, Deny, "already-enrolled")
	v = f.eng.SelfEnroll(context.Background(), LoginRequest{User: "carol", Surface: "cli"}, &script{})
	wantVerdict(t, v, Deny, "not-required")
}

func TestAdminEnrollRefusesToOverwrite(t *testing.T) {
	f := newFixture(t)
	f.enroll("alice")
	if _, _, err := f.eng.EnrollUser("test", "alice", totp.Default); err == nil || !strings.Contains(err.Error(), "user reset") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadNamesAreRefused(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"", "a\nb", "a/b", strings.Repeat("x", 257), "\xff"} {
		v, _ := f.login(n)
		wantVerdict(t, v, Deny, "protocol")
		if _, _, err := f.eng.RequireUser("test", n, RequireOptions{}); err == nil {
			t.Fatalf("require %q accepted", n)
		}
	}
	// The refusal is audited with what was sent (the sinks escape it),
	// not with an empty user.
	evs, err := f.eng.Audit(1)
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	if evs[0].Reason != "protocol" || evs[0].Typed == "" {
		t.Fatalf("refused name audited as %+v", evs[0])
	}
}

// aliases is a directory where alice has three other spellings, as a uid
// alias, a case-insensitive directory and a qualified name give her.
func aliases(f *fixture) {
	f.eng.Directory = aliasDir{
		fakeDir: fakeDir{"alice": {"alice", "staff"}, "bob": {"bob"}},
		alias:   map[string]string{"alias": "alice", "ALICE": "alice", "alice@corp.example": "alice"},
	}
}

// Issue 13, finding 1: another name for a required account is asked for
// that account's code, counted against its lockout, and audited as both.
func TestEverySpellingIsTheAccount(t *testing.T) {
	f := newFixture(t)
	aliases(f)
	sec := f.enroll("alice")
	for _, spelling := range []string{"alias", "ALICE", "alice@corp.example"} {
		t.Run(spelling, func(t *testing.T) {
			before := f.status("alice").Failures
			v, s := f.login(spelling, wrongCode(f, sec))
			wantVerdict(t, v, Deny, "wrong-code")
			if len(s.asks) != 1 {
				t.Fatalf("asked %q", s.asks)
			}
			if got := f.status("alice").Failures; got != before+1 {
				t.Fatalf("alice's failures %d → %d: the wrong code was not counted against her", before, got)
			}
			f.clock = f.clock.Add(30 * time.Second)
			v, _ = f.login(spelling, f.code(sec))
			wantVerdict(t, v, Allow, "totp")
			evs, _ := f.eng.Audit(1)
			if evs[0].User != "alice" || evs[0].Typed != spelling || evs[0].AccountID != "id-alice" || evs[0].PeerUID == nil {
				t.Fatalf("audit: user %q typed %q peer %v, want alice, %s and a peer uid", evs[0].User, evs[0].Typed, evs[0].PeerUID, spelling)
			}
		})
	}
	// One record: the spellings never made their own.
	var rows []string
	f.eng.ListUsers(func(r UserRow) error { rows = append(rows, r.User); return nil })
	if len(rows) != 1 || rows[0] != "alice" {
		t.Fatalf("records: %q", rows)
	}
	// Admin commands accept any spelling too.
	if r := f.status("ALICE"); r.User != "alice" || r.Status != "enrolled" {
		t.Fatalf("status ALICE: %+v", r)
	}
}

// wrongCode is a code that is not valid now for sec.
func wrongCode(f *fixture, sec string) string {
	if f.code(sec) == "000000" {
		return "111111"
	}
	return "000000"
}

// P24: a name the OS does not know and no record has might be any
// account: with MFA in force it is denied, never skipped.
func TestUnknownNameIsDeniedNotSkipped(t *testing.T) { // P24
	f := newFixture(t)
	aliases(f)
	f.enroll("alice")
	v, s := f.login("Alice.Smith")
	wantVerdict(t, v, Deny, "unknown-account")
	if len(s.asks) != 0 || len(s.errs) != 1 {
		t.Fatalf("asks %q errors %q", s.asks, s.errs)
	}
	// A name kept on purpose before its account exists (pre-enrollment)
	// is decided by its own record.
	f.require("test", "newhire", RequireOptions{})
	v, _ = f.login("newhire", "") // Enter: set it up later
	wantVerdict(t, v, Skip, "enrollment-period")
	// A known account with no record is simply not required.
	v, _ = f.login("bob")
	wantVerdict(t, v, Skip, "not-required")
	// With MFA off on the device, nobody is asked: nor is an unknown name.
	f.must(f.eng.UpdateSettings("test", "", func(s *store.Settings) { s.DeviceMFA = false }))
	v, _ = f.login("Alice.Smith")
	wantVerdict(t, v, Skip, "device-mfa-disabled")
}

// A record kept under a spelling the OS could not resolve when it was made
// moves to the account when that spelling resolves: at the daemon's start
// (an upgraded store) or at a login by that spelling.
func TestRecordsMoveToTheirAccount(t *testing.T) {
	for _, how := range []string{"migration", "login"} {
		t.Run(how, func(t *testing.T) {
			f := newFixture(t)
			// The qualified name does not resolve yet (a directory not
			// reachable when the admin required it); case alone would
			// not do here, since Windows folds it at once.
			f.eng.Directory = fakeDir{"bob": nil}
			sec := f.enroll("alice@corp.example")
			aliases(f) // now it does
			switch how {
			case "migration":
				warnings, err := f.eng.MigrateAccounts()
				if err != nil || len(warnings) != 0 {
					t.Fatal(warnings, err)
				}
				v, _ := f.login("alice", f.code(sec))
				wantVerdict(t, v, Allow, "totp")
			case "login":
				v, _ := f.login("alice@corp.example", f.code(sec))
				wantVerdict(t, v, Allow, "totp")
			}
			var rows []string
			f.eng.ListUsers(func(r UserRow) error { rows = append(rows, r.User); return nil })
			if len(rows) != 1 || rows[0] != "alice" {
				t.Fatalf("records after the move: %q", rows)
			}
			evs, _ := f.eng.Audit(10)
			found := false
			for _, ev := range evs {
				found = found || ev.Kind == "rekey" && ev.User == "alice" && ev.Typed == "alice@corp.example"
			}
			if !found {
				t.Fatalf("no rekey event in %+v", evs)
			}
		})
	}
}

// Two records for one account: nothing is merged or lost; the admin is told,
// can remove either by the name `users` shows, and the next start finishes.
func TestMigrationKeepsBothRecordsOfOneAccount(t *testing.T) {
	f := newFixture(t)
	f.eng.Directory = fakeDir{"alice": nil}
	f.enroll("alice")
	f.enroll("alice@corp.example")
	aliases(f)
	warnings, err := f.eng.MigrateAccounts()
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "user remove alice@corp.example") {
		t.Fatalf("warnings %q, err %v", warnings, err)
	}
	if err := f.eng.RemoveUser("test", "alice@corp.example"); err != nil {
		t.Fatal(err)
	}
	if r := f.status("alice"); r.Status != "enrolled" {
		t.Fatalf("removing ALICE's record touched alice's: %+v", r)
	}
	if warnings, err = f.eng.MigrateAccounts(); err != nil || len(warnings) != 0 {
		t.Fatal(warnings, err)
	}
}

// countingDir counts group lookups, which may reach a directory server.
type countingDir struct {
	fakeDir
	lookups int
}

func (d *countingDir) Groups(n string) ([]string, error) { d.lookups++; return d.fakeDir.Groups(n) }

// The write transaction that checks the code reuses the groups the first
// read looked up: no OS lookup runs while other logins wait on the commit.
func TestLoginLooksUpGroupsOnce(t *testing.T) {
	f := newFixture(t)
	f.must(f.eng.AddPolicy("test", store.Policy{Name: "admins", Enabled: true, Groups: []string{"wheel"}}))
	ns, _, err := f.eng.EnrollUser("test", "bob", totp.Default)
	if err != nil {
		t.Fatal(err)
	}
	dir := &countingDir{fakeDir: fakeDir{"bob": {"bob", "wheel"}}}
	f.eng.Directory = dir
	v, _ := f.login("bob", f.code(ns.Secret.Key))
	wantVerdict(t, v, Allow, "totp")
	if dir.lookups != 1 {
		t.Fatalf("%d group lookups for one login, want 1", dir.lookups)
	}
}

// A daemon killed after answering, before its commit was durable: the copy
// of the store file taken while it served is what it leaves behind. The
// next daemon finds the serving mark and fences: no code of a step up to
// the restart's plus the skew is accepted, and refusing one is not counted
// against the person.
func TestUncleanRestartFencesRecentCodes(t *testing.T) { // D13
	f := newFixture(t)
	sec := f.enroll("alice")
	if unclean, err := f.eng.Store.Serve(f.clock); err != nil || unclean {
		t.Fatalf("first Serve: unclean=%v err=%v", unclean, err)
	}
	crashed := filepath.Join(t.TempDir(), "state", "jcmfa.db")
	copyFile(t, f.path, crashed)

	st, err := store.Open(crashed, f.key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	restart := f.clock.Add(5 * time.Second)
	unclean, err := st.Serve(restart)
	if err != nil || !unclean {
		t.Fatalf("Serve after the crash: unclean=%v err=%v, want an unclean stop seen", unclean, err)
	}
	if !st.Fence().Equal(restart) {
		t.Fatalf("fence %v, want the restart time %v", st.Fence(), restart)
	}
	f.eng.Store = st

	for _, at := range []time.Duration{0, 30 * time.Second} { // steps S and S+1 = S + skew
		f.clock = restart.Add(at)
		v, s := f.login("alice", f.code(sec))
		wantVerdict(t, v, Deny, "replayed-code")
		if len(s.errs) != 1 || !strings.Contains(s.errs[0], "restarted") {
			t.Fatalf("errors shown: %q", s.errs)
		}
	}
	// The person's proof for new recovery codes reads the fence the same
	// way (codeCheck): refused, not counted, and told to wait until the
	// first code past the fence (step S+2), not for "the code shown now".
	f.clock = restart
	rv, rs := f.recoveryDialogue("alice", f.code(sec), 0)
	wantVerdict(t, rv, Deny, "replayed-code")
	period := int64(totp.Default.Period)
	wait := (totp.Step(restart, totp.Default.Period)+2)*period - restart.Unix()
	if want := fmt.Sprintf("appears in %d seconds", wait); len(rs.errs) != 1 || !strings.Contains(rs.errs[0], want) {
		t.Fatalf("recovery-codes under the fence said %q; want %q", rs.errs, want)
	}
	if n := f.status("alice").Failures; n != 0 {
		t.Fatalf("fenced codes counted as %d failures, want 0", n)
	}
	v, _ := f.login("alice", "000000")
	wantVerdict(t, v, Deny, "wrong-code") // a wrong code still counts
	f.clock = restart.Add(60 * time.Second)
	v, _ = f.login("alice", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Issue 17, item 5: a person opens three sessions within one time step and
// types the same code in each, the client retrying each prompt three times
// (OpenSSH's NumberOfPasswordPrompts), and makes two typos. The replays
// guess nothing: they are refused and audited, but only the typos count,
// so the account is not locked.
func TestReplaysDoNotCountTowardLockout(t *testing.T) { // D3
	f := newFixture(t)
	sec := f.enroll("alice")
	f.must(f.eng.UpdateSettings("test", "", func(s *store.Settings) { s.AttemptLimit, s.Lockout = 5, 15*time.Minute }))
	code := f.code(sec)
	v, _ := f.login("alice", code)
	wantVerdict(t, v, Allow, "totp")
	for i := 0; i < 6; i++ {
		f.clock = f.clock.Add(time.Second)
		v, s := f.login("alice", code)
		wantVerdict(t, v, Deny, "replayed-code")
		want := fmt.Sprintf("in %d seconds", 20-(i+1))
		if len(s.errs) != 1 || !strings.Contains(s.errs[0], want) {
			t.Fatalf("replay %d at %s: errors %q, want %q", i+1, f.clock.Format("15:04:05"), s.errs, want)
		}
	}
	for i := 0; i < 2; i++ {
		v, _ = f.login("alice", wrongCode(f, sec))
		wantVerdict(t, v, Deny, "wrong-code")
	}
	if r := f.status("alice"); r.Locked || r.Failures != 2 {
		t.Fatalf("after 6 replays and 2 typos: locked=%v failures=%d, want unlocked with 2", r.Locked, r.Failures)
	}
	evs, _ := f.eng.Audit(100)
	replays := 0
	for _, ev := range evs {
		if ev.Reason == "replayed-code" {
			replays++
			if !strings.Contains(ev.Detail, "not counted") {
				t.Fatalf("replay audited without saying it was not counted: %+v", ev)
			}
		}
	}
	if replays != 6 {
		t.Fatalf("%d replays audited, want 6", replays)
	}
	f.clock = f.clock.Add(30 * time.Second)
	v, _ = f.login("alice", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
}

// The wait told after a replay: from the start of the step after the last
// used one, never negative; a code ahead of the clock (skew) waits longer.
func TestUntilNextStep(t *testing.T) { // D3
	at := time.Date(2026, 11, 23, 12, 0, 10, 0, time.UTC)
	step := totp.Step(at, 30)
	for _, c := range []struct {
		last int64
		want time.Duration
		msg  string
	}{
		{step, 20 * time.Second, "in 20 seconds"},
		{step + 1, 50 * time.Second, "in 50 seconds"}, // the app ran ahead: step+1 was used
		{step - 1, 0, "shows now"},                    // an old code: the current one works
	} {
		got := untilNextStep(at, totp.Default, c.last)
		if got != c.want || !strings.Contains(replayMessage(got), c.msg) {
			t.Errorf("last=step%+d: %v %q, want %v %q", c.last-step, got, replayMessage(got), c.want, c.msg)
		}
	}
	if m := replayMessage(500 * time.Millisecond); !strings.Contains(m, "in 1 second:") {
		t.Errorf("half a second rounds up to one: %q", m)
	}
}
