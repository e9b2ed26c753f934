package doctor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/authdb/authdbtest"
)

// has reports whether r has a finding of severity sev whose problem
// contains all of words.
func has(r Report, sev Severity, words ...string) bool {
	for _, f := range r {
		if f.Severity != sev {
			continue
		}
		all := true
		for _, w := range words {
			all = all && strings.Contains(f.Problem, w)
		}
		if all {
			return true
		}
	}
	return false
}

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

// What the daemon's drift watch says reaches doctor: report mode is a
// warning, a failed repair a failure, a repair a note, a broken watch a
// failure.
func TestDoctorReportsTheDriftWatch(t *testing.T) {
	good := authdb.Report{Right: authdb.Right, Version: 11, Installed: true, Anchor: true, State: authdb.StateOK}
	gone := good
	gone.State = authdb.StateMissing
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		r     authdb.Report
		watch authdb.Status
		sev   Severity
		words []string
	}{
		{"report mode", good, authdb.Status{Mode: authdb.ReportOnly}, Warn, []string{"only reported"}},
		{"repaired", good, authdb.Status{Mode: authdb.Repair, Drift: authdb.Repaired, DriftAt: at, DriftDetail: "version 11"}, Warn, []string{"(repaired)", "version 11"}},
		{"repair failed", gone, authdb.Status{Mode: authdb.Repair, Drift: authdb.RepairFailed, DriftAt: at, DriftDetail: "OtherMFA"}, Fail, []string{"(repair-failed)", "OtherMFA"}},
		{"reported", gone, authdb.Status{Mode: authdb.ReportOnly, Drift: authdb.Reported, DriftAt: at}, Fail, []string{"(reported)"}},
		{"watch broken", good, authdb.Status{Mode: authdb.Repair, Error: "not running /usr/local/share/jcmfa/authdb.sh as root"}, Fail, []string{"cannot check"}},
	} {
		r := LoginWindowRule(c.r, nil, &c.watch, nil)
		if !has(r, c.sev, c.words...) {
			t.Errorf("%s: want %v %q in\n%s", c.name, c.sev, c.words, r)
		}
	}
	if r := LoginWindowRule(good, nil, nil, errors.New("connection refused")); !has(r, Warn, "did not say") {
		t.Errorf("daemon down:\n%s", r)
	}
}
