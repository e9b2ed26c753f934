//go:build !windows

// authdb.sh is a POSIX shell script run as root, as on a Mac; the Windows
// build of these tests (run under wine in CI) has neither.

package doctor

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/authdb/authdbtest"
)

// doctor on a (stand-in) Mac: the rule as authdb.sh check reads it after
// install, after an OS update, with another product's mechanism (refused,
// then accepted), and never installed.
func TestDoctorReportsLoginWindowDriftAndOtherPlugins(t *testing.T) {
	check := func(e *authdbtest.Env) Report {
		r, err := e.System(new(string)).Check(context.Background())
		return LoginWindowRule(r, err, nil, nil)
	}
	e := authdbtest.New(t, "13.0")
	if r := check(e); !r.Failed() || !has(r, Fail, "has no jcmfa:verify", "not installed") {
		t.Fatalf("never installed:\n%s", r)
	}
	e.Run(t, nil, "install")
	if r := check(e); r.Failed() || !has(r, OK, "right after builtin:authenticate,privileged") {
		t.Fatalf("installed:\n%s", r)
	}
	e.OSUpdate(t, "14.0")
	if r := check(e); !r.Failed() || !has(r, Fail, "version 11", "has no jcmfa:verify") {
		t.Fatalf("after the OS update:\n%s", r)
	}
	// Another product in the rule: a warning naming it, until accepted.
	rule := e.Rule(t)
	rule.Mechanisms = slices.Insert(rule.Mechanisms, 0, "XCreds:LoginWindow")
	e.SetRule(t, rule)
	if r := check(e); !has(r, Warn, "XCreds:LoginWindow", "another product") {
		t.Fatalf("another product:\n%s", r)
	}
	if out, code := e.Run(t, nil, "install", "--allow-other-plugins"); code != 0 {
		t.Fatalf("install --allow-other-plugins: %d\n%s", code, out)
	}
	if r := check(e); r.Failed() || has(r, Warn, "XCreds") || !has(r, OK, "XCreds:LoginWindow", "accepted") {
		t.Fatalf("accepted:\n%s", r)
	}
	if r := LoginWindowRule(authdb.Report{}, errors.New("authdb.sh: run as root (sudo)"), nil, nil); !has(r, Fail, "cannot read") {
		t.Fatalf("check failed:\n%s", r)
	}
}
