// Package authdbtest runs packaging/macos/authdb.sh on Linux, against
// stand-ins for macOS's `security authorizationdb` and PlistBuddy that
// keep real plist files (./standin), with the real default
// system.login.console rules of macOS 12 to 15 as fixtures
// (internal/authdb/testdata). Only tests import it.
package authdbtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"howett.net/plist"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/testenv"
)

// The fixtures: name -> the macOS release whose default rule it is.
var Fixtures = []string{"12.0", "12.5", "13.0", "14.0", "15.0"}

// Env is one Mac's authorization database and jcmfa state directory.
type Env struct {
	DB     string // the stand-in database: RIGHT.plist files
	State  string // authdb.sh's state directory (JCMFA_BACKUP_DIR)
	Script string // the checkout's packaging/macos/authdb.sh
	bin    string
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// standins builds the stand-in once per test process.
func standins() (string, error) {
	buildOnce.Do(func() {
		root, err := testenv.Root()
		if err != nil {
			buildErr = err
			return
		}
		binDir, err = os.MkdirTemp("", "jcmfa-standin")
		if err != nil {
			buildErr = err
			return
		}
		exe := filepath.Join(binDir, "standin")
		gb := exec.Command("go", "build", "-o", exe, "./internal/authdb/authdbtest/standin")
		gb.Dir = root
		if b, err := gb.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the security/PlistBuddy stand-in: %v\n%s", err, b)
			return
		}
		for _, name := range []string{"security", "PlistBuddy"} {
			if err := os.Symlink(exe, filepath.Join(binDir, name)); err != nil {
				buildErr = err
				return
			}
		}
	})
	return binDir, buildErr
}

// Cleanup removes the stand-ins; call it from TestMain after m.Run.
func Cleanup() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// New is a Mac whose system.login.console is the default rule of the
// macOS release fixture ("14.0"). authdb.sh insists on root, as on a Mac.
func New(tb testing.TB, fixture string) *Env {
	tb.Helper()
	if os.Geteuid() != 0 {
		testenv.Need(tb, errors.New("authdb.sh runs as root only (as on a Mac): run the tests as root"))
	}
	bin, err := standins()
	testenv.Need(tb, err)
	root, err := testenv.Root()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	e := &Env{DB: filepath.Join(dir, "authdb"), State: filepath.Join(dir, "state"),
		Script: filepath.Join(root, "packaging/macos/authdb.sh"), bin: bin}
	if err := os.Mkdir(e.DB, 0o700); err != nil {
		tb.Fatal(err)
	}
	e.SetRule(tb, FixtureRule(tb, fixture))
	return e
}

// Environ is the script's environment: the stand-ins first on PATH.
func (e *Env) Environ() []string {
	return []string{"PATH=" + e.bin + ":/usr/bin:/bin:/usr/sbin:/sbin", "JCMFA_FAKE_AUTHDB=" + e.DB,
		"JCMFA_PLISTBUDDY=" + filepath.Join(e.bin, "PlistBuddy"), "JCMFA_BACKUP_DIR=" + e.State}
}

// System is the drift watch's view of this Mac: the checkout's script,
// run as the daemon runs the installed one, and an OS build the test sets.
func (e *Env) System(build *string) *authdb.Script {
	return &authdb.Script{Path: e.Script, Env: e.Environ(), OSBuild: func() (string, error) { return *build, nil }}
}

// Run runs authdb.sh with args and extra environment; code is its exit
// status.
func (e *Env) Run(tb testing.TB, extraEnv []string, args ...string) (out string, code int) {
	tb.Helper()
	cmd := exec.Command("/bin/sh", append([]string{e.Script}, args...)...)
	cmd.Env = append(e.Environ(), extraEnv...)
	b, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(b), ee.ExitCode()
	case err != nil:
		tb.Fatal(err)
	}
	return string(b), 0
}

// Rule is a right as the database holds it.
type Rule struct {
	Mechanisms []string
	Version    int
	raw        map[string]any
}

// Index is the position of mechanism m, or -1.
func (r Rule) Index(m string) int { return slices.Index(r.Mechanisms, m) }

func decode(tb testing.TB, b []byte) Rule {
	tb.Helper()
	var raw map[string]any
	if _, err := plist.Unmarshal(b, &raw); err != nil {
		tb.Fatalf("not a plist dict: %v\n%s", err, b)
	}
	r := Rule{raw: raw}
	if ms, ok := raw["mechanisms"].([]any); ok {
		for _, m := range ms {
			r.Mechanisms = append(r.Mechanisms, fmt.Sprint(m))
		}
	}
	switch v := raw["version"].(type) {
	case uint64:
		r.Version = int(v)
	case int64:
		r.Version = int(v)
	}
	return r
}

// FixtureRule is the default rule of a macOS release.
func FixtureRule(tb testing.TB, fixture string) Rule {
	tb.Helper()
	root, err := testenv.Root()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "internal/authdb/testdata", "system.login.console-macos"+fixture+".plist"))
	if err != nil {
		tb.Fatal(err)
	}
	return decode(tb, b)
}

// Rule reads system.login.console from the database.
func (e *Env) Rule(tb testing.TB) Rule {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(e.DB, authdb.Right+".plist"))
	if err != nil {
		tb.Fatal(err)
	}
	return decode(tb, b)
}

// SetRule replaces system.login.console in the database.
func (e *Env) SetRule(tb testing.TB, r Rule) {
	tb.Helper()
	raw := map[string]any{}
	for k, v := range r.raw {
		raw[k] = v
	}
	ms := make([]any, len(r.Mechanisms))
	for i, m := range r.Mechanisms {
		ms[i] = m
	}
	raw["mechanisms"], raw["version"] = ms, r.Version
	b, err := plist.MarshalIndent(raw, plist.XMLFormat, "\t")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.DB, authdb.Right+".plist"), b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// OSUpdate plays what authd does when an update ships a new
// authorization.plist: the shipped rule replaces the stored one if its
// version is higher (_import_rules in apple-oss-distributions/Security
// OSX/authd/authdb.c), and nothing else of the stored rule survives.
// It reports whether the rule was replaced.
func (e *Env) OSUpdate(tb testing.TB, fixture string) bool {
	tb.Helper()
	shipped := FixtureRule(tb, fixture)
	if shipped.Version <= e.Rule(tb).Version {
		return false
	}
	e.SetRule(tb, shipped)
	return true
}

// Written lists the rights `security authorizationdb write` was called for.
func (e *Env) Written(tb testing.TB) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(e.DB, "calls.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if r, ok := strings.CutPrefix(l, "security authorizationdb write "); ok {
			out = append(out, r)
		}
	}
	return out
}
