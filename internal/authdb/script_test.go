package authdb_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/authdb/authdbtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	authdbtest.Cleanup()
	os.Exit(code)
}

// assertInPlace fails unless jcmfa:verify is in the rule once, directly
// after builtin:authenticate,privileged, with every other mechanism of
// want in its order.
func assertInPlace(t *testing.T, got authdbtest.Rule, want authdbtest.Rule) {
	t.Helper()
	a := want.Index(authdb.Anchor)
	exp := slices.Concat(want.Mechanisms[:a+1], []string{authdb.Mechanism}, want.Mechanisms[a+1:])
	if !slices.Equal(got.Mechanisms, exp) || got.Version != want.Version {
		t.Fatalf("rule after install:\n got v%d %q\nwant v%d %q", got.Version, got.Mechanisms, want.Version, exp)
	}
}

// The installer inserts jcmfa:verify right after
// builtin:authenticate,privileged in the default rule of every macOS in
// scope, keeps the rule's version, writes no other right, and a second
// install changes nothing.
func TestInstallInsertsAfterAuthenticate(t *testing.T) {
	t.Parallel()
	for _, fx := range authdbtest.Fixtures {
		t.Run("macOS"+fx, func(t *testing.T) {
			t.Parallel()
			e := authdbtest.New(t, fx)
			orig := e.Rule(t)
			if out, code := e.Run(t, nil, "install"); code != 0 {
				t.Fatalf("install: exit %d\n%s", code, out)
			}
			assertInPlace(t, e.Rule(t), orig)
			if w := e.Written(t); !slices.Equal(w, []string{authdb.Right}) {
				t.Fatalf("rights written: %q, want only %s once", w, authdb.Right)
			}
			out, code := e.Run(t, nil, "install")
			if code != 0 || !strings.Contains(out, "already has") {
				t.Fatalf("second install: exit %d\n%s", code, out)
			}
			assertInPlace(t, e.Rule(t), orig)
			r, err := e.System(new(string)).Check(context.Background())
			if err != nil || r.Drifted() || !r.Installed || r.State != authdb.StateOK || len(r.Others) != 0 {
				t.Fatalf("check after install: %+v %v", r, err)
			}
		})
	}
}

// Uninstall restores the rule saved before install, exactly; after an OS
// update it keeps the new version's rule and takes out only jcmfa.
func TestUninstallRestores(t *testing.T) {
	t.Parallel()
	for _, fx := range []string{"12.0", "15.0"} {
		t.Run("macOS"+fx, func(t *testing.T) {
			t.Parallel()
			e := authdbtest.New(t, fx)
			orig := e.Rule(t)
			e.Run(t, nil, "backup") // the pkg's preinstall
			if out, code := e.Run(t, nil, "install"); code != 0 {
				t.Fatalf("install: %d\n%s", code, out)
			}
			out, code := e.Run(t, nil, "remove")
			if code != 0 || !strings.Contains(out, "restored") {
				t.Fatalf("remove: exit %d\n%s", code, out)
			}
			if got := e.Rule(t); !slices.Equal(got.Mechanisms, orig.Mechanisms) || got.Version != orig.Version {
				t.Fatalf("after remove: v%d %q, want v%d %q", got.Version, got.Mechanisms, orig.Version, orig.Mechanisms)
			}
			if _, err := os.Stat(filepath.Join(e.State, "system.login.console.installed")); !os.IsNotExist(err) {
				t.Fatalf("remove left the installed mark: %v", err)
			}
		})
	}
	t.Run("after an OS update", func(t *testing.T) {
		t.Parallel()
		e := authdbtest.New(t, "13.0")
		e.Run(t, nil, "install")
		e.OSUpdate(t, "14.0")
		e.Run(t, nil, "repair")
		out, code := e.Run(t, nil, "remove")
		if code != 0 {
			t.Fatalf("remove: %d\n%s", code, out)
		}
		want := authdbtest.FixtureRule(t, "14.0")
		if got := e.Rule(t); !slices.Equal(got.Mechanisms, want.Mechanisms) || got.Version != 11 {
			t.Fatalf("after remove: v%d %q, want macOS 14's v11 %q", got.Version, got.Mechanisms, want.Mechanisms)
		}
	})
}

// A rule that holds another product's mechanism: install refuses (exit 3,
// naming it, the rule untouched) unless the admin says yes, by flag,
// environment or file; what was accepted stays accepted for repair, and a
// new one is refused again.
func TestOtherPluginRefusesInstall(t *testing.T) {
	t.Parallel()
	// grahamgilbert/crypt's documented mechanism, after the anchor.
	withCrypt := func(t *testing.T, fx string) *authdbtest.Env {
		e := authdbtest.New(t, fx)
		r := e.Rule(t)
		a := r.Index(authdb.Anchor)
		r.Mechanisms = slices.Insert(r.Mechanisms, a+1, "Crypt:Check,privileged")
		e.SetRule(t, r)
		return e
	}
	for _, yes := range []struct {
		name string
		env  []string
		args []string
		file bool
	}{
		{name: "flag", args: []string{"--allow-other-plugins"}},
		{name: "environment", env: []string{"JCMFA_ALLOW_OTHER_PLUGINS=1"}},
		{name: "file", file: true},
	} {
		t.Run(yes.name, func(t *testing.T) {
			t.Parallel()
			e := withCrypt(t, "15.0")
			before := e.Rule(t)
			out, code := e.Run(t, nil, "install")
			if code != 3 || !strings.Contains(out, "Crypt:Check,privileged") || !strings.Contains(out, "--allow-other-plugins") {
				t.Fatalf("install without the override: exit %d (want 3)\n%s", code, out)
			}
			if got := e.Rule(t); !slices.Equal(got.Mechanisms, before.Mechanisms) || len(e.Written(t)) != 0 {
				t.Fatalf("a refused install changed the rule: %q, writes %q", got.Mechanisms, e.Written(t))
			}
			r, err := e.System(new(string)).Check(context.Background())
			if err != nil || !slices.Equal(r.Others, []string{"Crypt:Check,privileged"}) || r.Installed {
				t.Fatalf("check: %+v %v", r, err)
			}
			if yes.file {
				os.WriteFile(filepath.Join(e.State, "allow-other-plugins"), nil, 0o600)
			}
			out, code = e.Run(t, yes.env, append([]string{"install"}, yes.args...)...)
			if code != 0 || !strings.Contains(out, "warning") {
				t.Fatalf("install with the override: exit %d\n%s", code, out)
			}
			assertInPlace(t, e.Rule(t), before)
			if yes.file {
				os.Remove(filepath.Join(e.State, "allow-other-plugins"))
			}
			// An OS update takes both out; another product puts its own
			// back; repair accepts the one the admin accepted ...
			e.OSUpdate(t, "15.0") // same version: nothing happens
			r2 := authdbtest.FixtureRule(t, "15.0")
			r2.Version = 12
			r2.Mechanisms = slices.Insert(r2.Mechanisms, r2.Index(authdb.Anchor)+1, "Crypt:Check,privileged")
			e.SetRule(t, r2)
			if out, code := e.Run(t, nil, "repair"); code != 0 {
				t.Fatalf("repair with an accepted plugin: %d\n%s", code, out)
			}
			// ... and refuses one it has not seen.
			r3 := authdbtest.FixtureRule(t, "15.0")
			r3.Version = 13
			r3.Mechanisms = slices.Insert(r3.Mechanisms, 0, "OtherMFA:prompt")
			e.SetRule(t, r3)
			if out, code := e.Run(t, nil, "repair"); code != 3 || !strings.Contains(out, "OtherMFA:prompt") {
				t.Fatalf("repair with a new plugin: exit %d (want 3)\n%s", code, out)
			}
		})
	}
}

// Apple's own mechanisms are never taken for another product's: none of
// the default rules of macOS 12 to 15 has an "other" one (13.0's Platform
// SSO PSSOAuthPlugin included).
func TestAppleMechanismsAreNotOthers(t *testing.T) {
	t.Parallel()
	for _, fx := range authdbtest.Fixtures {
		e := authdbtest.New(t, fx)
		r, err := e.System(new(string)).Check(context.Background())
		if err != nil || len(r.Others) != 0 || !r.Anchor || r.State != authdb.StateMissing || r.Version != authdbtest.FixtureRule(t, fx).Version {
			t.Fatalf("macOS %s: %+v %v", fx, r, err)
		}
	}
}

// Without the anchor (a rule another product replaced wholesale) install
// refuses and writes nothing.
func TestInstallRefusesWithoutAnchor(t *testing.T) {
	t.Parallel()
	e := authdbtest.New(t, "14.0")
	r := e.Rule(t)
	r.Mechanisms = slices.DeleteFunc(r.Mechanisms, func(m string) bool { return m == authdb.Anchor })
	e.SetRule(t, r)
	out, code := e.Run(t, nil, "install")
	if code == 0 || !strings.Contains(out, "not found") || len(e.Written(t)) != 0 {
		t.Fatalf("install without the anchor: exit %d, writes %q\n%s", code, e.Written(t), out)
	}
}

// Writers take authdb.sh's lock: a remove (uninstall) waits while a
// repair (the daemon) holds it, so the daemon cannot put the mechanism
// back between remove's steps; a lock whose holder died is taken over.
func TestWritersWaitForTheLock(t *testing.T) {
	t.Parallel()
	e := authdbtest.New(t, "14.0")
	e.Run(t, nil, "install")
	lock := filepath.Join(e.State, "authdb.lock")
	holder := exec.Command("sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	os.Mkdir(lock, 0o700)
	os.WriteFile(filepath.Join(lock, "pid"), []byte(strconv.Itoa(holder.Process.Pid)), 0o600)
	done := make(chan string, 1)
	go func() { out, _ := e.Run(t, nil, "remove"); done <- out }()
	select {
	case out := <-done:
		t.Fatalf("remove did not wait for the lock:\n%s", out)
	case <-time.After(2 * time.Second):
	}
	if e.Rule(t).Index(authdb.Mechanism) < 0 {
		t.Fatal("remove changed the rule while the lock was held")
	}
	holder.Process.Kill()
	holder.Wait() // the holder is gone: its lock is stale
	select {
	case out := <-done:
		if !strings.Contains(out, "restored") || e.Rule(t).Index(authdb.Mechanism) >= 0 {
			t.Fatalf("remove after the holder died:\n%s", out)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("remove never took the stale lock")
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatalf("the lock was left behind: %v", err)
	}
}
