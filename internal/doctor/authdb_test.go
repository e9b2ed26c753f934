package doctor

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
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
