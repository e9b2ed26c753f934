package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

func (f *fixture) grace(d time.Duration, surfaces ...string) {
	f.t.Helper()
	f.must(f.eng.UpdateSettings("test", "grace", func(s *store.Settings) { s.Grace, s.GraceSurfaces = d, surfaces }))
}

func (f *fixture) loginAt(user, surface, rhost, tty string, pid int, answers ...string) (Verdict, *script) {
	s := &script{answers: answers}
	v := f.eng.Login(context.Background(), LoginRequest{User: user, Surface: surface, RHost: rhost, TTY: tty, PeerPID: pid, Client: "test"}, s)
	return v, s
}

// wantGrace checks a login from rhost skips with reason grace, asking nothing.
func (f *fixture) wantGrace(user, rhost string) {
	f.t.Helper()
	v, s := f.loginFrom(user, rhost)
	wantVerdict(f.t, v, Skip, "grace")
	if len(s.asks) != 0 {
		f.t.Fatalf("asked %v inside a grace window", s.asks)
	}
}

// wantAsked checks a login from rhost is asked for a code (and leaves).
func (f *fixture) wantAsked(user, rhost string) {
	f.t.Helper()
	v, s := f.loginFrom(user, rhost)
	if v.Reason != "cancelled" || len(s.asks) != 1 {
		f.t.Fatalf("from %s: %v after %v, want a code asked", rhost, v, s.asks)
	}
}

func (f *fixture) next() { f.clock = f.clock.Add(30 * time.Second) }

// TestGraceWindowSparesTheSameOriginOnly is rows G1-G3 and G7.
func TestGraceWindowSparesTheSameOriginOnly(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.grace(10 * time.Minute)
	v, _ := f.loginFrom("alice", "192.0.2.1", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
	opened := f.clock

	f.clock = f.clock.Add(9 * time.Minute)
	f.wantGrace("alice", "192.0.2.1")
	f.wantGrace("alice", "::ffff:192.0.2.1") // the same address, mapped (N4's normalisation)
	f.eng.Store.Settle()
	evs, _ := f.eng.Audit(1)
	if !strings.Contains(evs[0].Detail, opened.UTC().Format(time.RFC3339)) || !strings.Contains(evs[0].Detail, "ip:192.0.2.1") {
		t.Fatalf("grace audit does not name the earlier login: %+v", evs[0])
	}
	f.wantAsked("alice", "192.0.2.2") // G1: another address
	f.enroll("carol")
	f.wantAsked("carol", "192.0.2.1")                                 // G1: another account, same address
	v, s := f.loginAt("alice", policy.SurfaceRDP, "192.0.2.1", "", 0) // G3: a surface not listed
	if v.Reason != "cancelled" || len(s.asks) != 1 {
		t.Fatalf("rdp from the same address: %v %v, want asked", v, s.asks)
	}
	f.clock = opened.Add(10 * time.Minute) // G2: the window has ended
	f.wantAsked("alice", "192.0.2.1")
	// The grace skip used no code: the code of the window's login is
	// still refused as a replay (replay rules intact, G7).
	f.clock = opened
	v, _ = f.loginFrom("alice", "192.0.2.9", f.code(sec))
	wantVerdict(t, v, Deny, "replayed-code")
}

// TestGraceWindowsEnd is rows G4-G6: a deny, a lockout, user reset, a new
// secret, a settings change.
func TestGraceWindowsEnd(t *testing.T) {
	cases := []struct {
		id  string
		end func(f *fixture, sec string)
	}{
		{"G4 deny", func(f *fixture, _ string) { f.loginFrom("alice", "198.51.100.7", "000000") }},
		{"G4 lockout", func(f *fixture, _ string) {
			for i := 0; i < 5; i++ {
				f.loginFrom("alice", "198.51.100.7", "000000")
			}
			f.must(f.eng.UnlockUser("test", "alice"))
		}},
		{"G5 reset", func(f *fixture, _ string) { f.must(f.eng.ResetUser("test", "alice")); f.mustEnroll("alice") }},
		{"G6 settings", func(f *fixture, _ string) {
			f.must(f.eng.UpdateSettings("test", "skew", func(s *store.Settings) { s.Skew = 2 }))
		}},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			f := newFixture(t)
			sec := f.enroll("alice")
			f.grace(time.Hour)
			v, _ := f.loginFrom("alice", "192.0.2.1", f.code(sec))
			wantVerdict(t, v, Allow, "totp")
			f.wantGrace("alice", "192.0.2.1")
			c.end(f, sec)
			f.next()
			f.wantAsked("alice", "192.0.2.1")
		})
	}
}

func (f *fixture) mustEnroll(user string) {
	f.t.Helper()
	if _, _, err := f.eng.EnrollUser("test", user, totp.Default); err != nil {
		f.t.Fatal(err)
	}
}

// TestGraceWindowsAreBounded is row G8: at most policy.GraceCap windows
// per account, the oldest dropped.
func TestGraceWindowsAreBounded(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.grace(time.Hour)
	for i := 0; i < policy.GraceCap+2; i++ {
		f.next()
		v, _ := f.loginFrom("alice", fmt.Sprintf("192.0.2.%d", i), f.code(sec))
		wantVerdict(t, v, Allow, "totp")
	}
	var st store.State
	f.eng.Store.ViewUser("alice", func(tx *store.Tx) (err error) { st, err = tx.State("alice"); return })
	if len(st.Grace) != policy.GraceCap {
		t.Fatalf("%d windows kept, want %d", len(st.Grace), policy.GraceCap)
	}
	f.wantAsked("alice", "192.0.2.0")
	f.wantAsked("alice", "192.0.2.1")
	f.wantGrace("alice", "192.0.2.2")
	f.wantGrace("alice", fmt.Sprintf("192.0.2.%d", policy.GraceCap+1))
}

// TestGraceWindowSurvivesARestartNotACrash is rows G9 and G10: a window is
// kept in the store (a clean restart keeps it), and a crash's fence voids
// every window opened before it: the crash may have lost a deny that
// would have ended it.
func TestGraceWindowSurvivesARestartNotACrash(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.grace(time.Hour)
	if _, err := f.eng.Store.Serve(f.clock); err != nil {
		t.Fatal(err)
	}
	v, _ := f.loginFrom("alice", "192.0.2.1", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
	f.eng.Store.Settle()

	// The crash: a copy of the file while it is marked as served.
	crashed := filepath.Join(t.TempDir(), "state", "jcmfa.db")
	copyFile(t, f.path, crashed)

	// G9: a clean stop and start keeps the window.
	if err := f.eng.Store.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(f.path, f.key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.clock = f.clock.Add(time.Minute)
	if unclean, err := st.Serve(f.clock); err != nil || unclean {
		t.Fatalf("clean restart: unclean=%v %v", unclean, err)
	}
	f.eng.Store = st
	f.wantGrace("alice", "192.0.2.1")

	// G10: after the unclean stop, the window is void.
	cst, err := store.Open(crashed, f.key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cst.Close() })
	if unclean, err := cst.Serve(f.clock); err != nil || !unclean {
		t.Fatalf("crashed copy: unclean=%v %v", unclean, err)
	}
	f.eng.Store = cst
	f.wantAsked("alice", "192.0.2.1")
	// A window opened after the fence holds again.
	f.clock = f.clock.Add(2 * time.Minute) // past the fence's codes
	v, _ = f.loginFrom("alice", "192.0.2.1", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
	f.wantGrace("alice", "192.0.2.1")
}

// TestGraceForLocalLoginsFollowsTheKernelsSession is row G11: without a
// remote address the origin is the asking process's login session (from
// its pid, the kernel's word) and tty; no session, or a host name, opens
// no window. A locked account stays locked (G12).
func TestGraceForLocalLoginsFollowsTheKernelsSession(t *testing.T) {
	f := newFixture(t)
	sec := f.enroll("alice")
	f.grace(time.Hour, policy.SurfaceSudo, policy.SurfaceSSH)
	sessions := map[int]string{100: "boot:7", 200: "boot:8"}
	f.eng.SessionOf = func(pid int) string { return sessions[pid] }

	v, _ := f.loginAt("alice", policy.SurfaceSudo, "", "/dev/pts/1", 100, f.code(sec))
	wantVerdict(t, v, Allow, "totp")
	if v, s := f.loginAt("alice", policy.SurfaceSudo, "", "/dev/pts/1", 100); v.Reason != "grace" || len(s.asks) != 0 {
		t.Fatalf("same session and tty: %v %v", v, s.asks)
	}
	for _, c := range []struct {
		tty string
		pid int
	}{{"/dev/pts/2", 100}, {"/dev/pts/1", 200}, {"/dev/pts/1", 300}, {"/dev/pts/1", 0}} {
		if v, s := f.loginAt("alice", policy.SurfaceSudo, "", c.tty, c.pid); v.Reason != "cancelled" || len(s.asks) != 1 {
			t.Fatalf("tty %s pid %d: %v %v, want asked", c.tty, c.pid, v, s.asks)
		}
	}
	// A host name is no origin: no window opens.
	f.next()
	v, _ = f.loginFrom("alice", "host.example", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
	f.wantAsked("alice", "host.example")
	if got := f.eng.originOf(LoginRequest{RHost: "host.example", PeerPID: 100}); got != "" {
		t.Fatalf("origin of a host name: %q", got)
	}

	// G12: locked wins over a window.
	f.next()
	v, _ = f.loginFrom("alice", "192.0.2.1", f.code(sec))
	wantVerdict(t, v, Allow, "totp")
	if err := f.eng.Store.Record("alice", func(tx *store.Tx) error {
		st, err := tx.State("alice")
		st.Locked = true
		if err == nil {
			err = tx.PutState("alice", st)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	v, _ = f.loginFrom("alice", "192.0.2.1")
	wantVerdict(t, v, Deny, "locked-out")
}

// TestRecoveryCodeOpensNoGraceWindow is rows G13 and R12: a login with a
// recovery code proves nothing about the next one.
func TestRecoveryCodeOpensNoGraceWindow(t *testing.T) {
	f := newFixture(t)
	f.enroll("alice")
	f.grace(time.Hour)
	codes := f.issue("alice", 3)
	v, _ := f.loginFrom("alice", "192.0.2.1", codes[0])
	wantVerdict(t, v, Allow, "recovery-code")
	f.wantAsked("alice", "192.0.2.1")
}
