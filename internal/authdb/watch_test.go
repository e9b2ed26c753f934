package authdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/authdb/authdbtest"
	"github.com/jcmfa/jcmfa/internal/store"
)

// watched is a Mac with jcmfa installed on macOS from, and the drift
// watch over it (the daemon's wiring, with the audit and log captured).
type watched struct {
	e      *authdbtest.Env
	w      *authdb.Watcher
	build  string
	mode   authdb.Mode
	mu     sync.Mutex
	events []store.Event
	log    bytes.Buffer
}

func watch(t *testing.T, from string) *watched {
	t.Helper()
	x := &watched{e: authdbtest.New(t, from), build: "build-" + from, mode: authdb.Repair}
	if out, code := x.e.Run(t, nil, "install"); code != 0 {
		t.Fatalf("install: %d\n%s", code, out)
	}
	x.w = &authdb.Watcher{
		Sys:  x.e.System(&x.build),
		Mode: func() (authdb.Mode, error) { return x.mode, nil },
		Audit: func(ev store.Event) error {
			x.mu.Lock()
			defer x.mu.Unlock()
			x.events = append(x.events, ev)
			return nil
		},
		Log: slog.New(slog.NewJSONHandler(&syncWriter{mu: &x.mu, b: &x.log}, nil)),
	}
	return x
}

type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// errorLines are the log lines at level ERROR.
func (x *watched) errorLines(t *testing.T) []map[string]any {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(x.log.String()), "\n") {
		var m map[string]any
		if l == "" {
			continue
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["level"] == "ERROR" {
			out = append(out, m)
		}
	}
	return out
}

func (x *watched) audited() []store.Event {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.events)
}

// An OS update that ships a higher version of system.login.console takes
// jcmfa:verify out (as authd does); the watch finds it, puts it back with
// the installer's own repair, writes one audit event and one error line,
// and the rule ends as install would have left the new version's.
func TestOSUpdateDriftIsRepaired(t *testing.T) {
	t.Parallel()
	for _, u := range []struct{ from, to string }{
		{"12.0", "12.5"}, // a minor update: version 8 -> 9
		{"12.5", "13.0"}, // 9 -> 10
		{"13.0", "14.0"}, // 10 -> 11
	} {
		t.Run(u.from+"-"+u.to, func(t *testing.T) {
			t.Parallel()
			x := watch(t, u.from)
			if st := x.w.Check(context.Background(), "start"); st.Drift != "" || st.Report.Drifted() {
				t.Fatalf("freshly installed: %+v", st)
			}
			if !x.e.OSUpdate(t, u.to) {
				t.Fatal("the update did not replace the rule")
			}
			if x.e.Rule(t).Index(authdb.Mechanism) >= 0 {
				t.Fatal("the update kept jcmfa:verify")
			}
			x.build = "build-" + u.to
			st := x.w.Check(context.Background(), "os-build-changed")
			if st.Drift != authdb.Repaired || st.Report.Drifted() {
				t.Fatalf("after the update: %+v", st)
			}
			assertInPlace(t, x.e.Rule(t), authdbtest.FixtureRule(t, u.to))
			ev := x.audited()
			if len(ev) != 1 || ev[0].Kind != authdb.EventKind || ev[0].Verdict != authdb.Repaired || ev[0].Reason != authdb.StateMissing ||
				!strings.Contains(ev[0].Detail, "build-"+u.to) || ev[0].Actor != "daemon" {
				t.Fatalf("audit: %+v", ev)
			}
			if el := x.errorLines(t); len(el) != 1 || el[0]["action"] != authdb.Repaired || el[0]["state"] != authdb.StateMissing {
				t.Fatalf("error lines: %v", el)
			}
			// The next check finds it in place: nothing more is written.
			if st := x.w.Check(context.Background(), "timer"); st.Report.Drifted() || len(x.audited()) != 1 {
				t.Fatalf("after repair: %+v, %d events", st, len(x.audited()))
			}
		})
	}
}

// With the setting at report (an MDM owns the rule), the drift is logged
// and audited once, and the rule is left as the update made it; the error
// line is repeated no more than hourly.
func TestOSUpdateDriftIsOnlyReported(t *testing.T) {
	t.Parallel()
	x := watch(t, "13.0")
	x.mode = authdb.ReportOnly
	x.e.OSUpdate(t, "14.0")
	x.build = "build-14.0"
	st := x.w.Check(context.Background(), "os-build-changed")
	if st.Drift != authdb.Reported || !st.Report.Drifted() || st.Mode != authdb.ReportOnly {
		t.Fatalf("report mode: %+v", st)
	}
	if x.e.Rule(t).Index(authdb.Mechanism) >= 0 || len(x.e.Written(t)) != 1 { // the install's write only
		t.Fatalf("report mode wrote the rule: %q", x.e.Written(t))
	}
	x.w.Check(context.Background(), "timer")
	ev := x.audited()
	if len(ev) != 1 || ev[0].Verdict != authdb.Reported || !strings.Contains(ev[0].Detail, "no jcmfa:verify") {
		t.Fatalf("audit: %+v", ev)
	}
	if el := x.errorLines(t); len(el) != 1 || el[0]["mode"] != "report" {
		t.Fatalf("error lines: %v", el)
	}
	// Switched to repair, the next check puts it back.
	x.mode = authdb.Repair
	if st := x.w.Check(context.Background(), "timer"); st.Drift != authdb.Repaired {
		t.Fatalf("back to repair: %+v", st)
	}
	assertInPlace(t, x.e.Rule(t), authdbtest.FixtureRule(t, "14.0"))
}

// jcmfa:verify moved (after the session is set up) or doubled is put back
// in its one place.
func TestMisplacedMechanismIsRepaired(t *testing.T) {
	t.Parallel()
	x := watch(t, "15.0")
	r := x.e.Rule(t)
	r.Mechanisms = slices.DeleteFunc(r.Mechanisms, func(m string) bool { return m == authdb.Mechanism })
	r.Mechanisms = append(r.Mechanisms, authdb.Mechanism)
	x.e.SetRule(t, r)
	st := x.w.Check(context.Background(), "timer")
	if st.Drift != authdb.Repaired || len(x.audited()) != 1 || x.audited()[0].Reason != authdb.StateMisplaced {
		t.Fatalf("misplaced: %+v %+v", st, x.audited())
	}
	assertInPlace(t, x.e.Rule(t), authdbtest.FixtureRule(t, "15.0"))
}

// After `authdb.sh remove` (uninstall, or an admin's Recovery over SSH),
// or when the postinstall held the mechanism back, there is nothing to
// repair: the watch never adds the mechanism on its own.
func TestRemovedIsNotDrift(t *testing.T) {
	t.Parallel()
	x := watch(t, "14.0")
	if out, code := x.e.Run(t, nil, "remove"); code != 0 {
		t.Fatalf("remove: %d\n%s", code, out)
	}
	st := x.w.Check(context.Background(), "timer")
	if st.Drift != "" || st.Report.Installed || st.Report.State != authdb.StateMissing || len(x.audited()) != 0 {
		t.Fatalf("after remove: %+v %+v", st, x.audited())
	}
	if x.e.Rule(t).Index(authdb.Mechanism) >= 0 {
		t.Fatal("the watch put jcmfa:verify back after remove")
	}
}

// A repair the installer refuses (another product's mechanism came with
// the drift) is audited as repair-failed, naming the product, and the
// rule is left alone.
func TestRepairRefusedByOtherPluginIsReported(t *testing.T) {
	t.Parallel()
	x := watch(t, "14.0")
	r := authdbtest.FixtureRule(t, "15.0")
	r.Version = 12
	r.Mechanisms = slices.Insert(r.Mechanisms, r.Index(authdb.Anchor)+1, "OtherMFA:prompt,privileged")
	x.e.SetRule(t, r)
	st := x.w.Check(context.Background(), "timer")
	if st.Drift != authdb.RepairFailed || !strings.Contains(st.DriftDetail, "OtherMFA:prompt,privileged") {
		t.Fatalf("refused repair: %+v", st)
	}
	if ev := x.audited(); len(ev) != 1 || ev[0].Verdict != authdb.RepairFailed {
		t.Fatalf("audit: %+v", ev)
	}
	if x.e.Rule(t).Index(authdb.Mechanism) >= 0 {
		t.Fatal("repair inserted despite another product")
	}
}

// The loop: a check at start, and one as soon as the OS build changes,
// well before the interval.
func TestWatchChecksWhenTheBuildChanges(t *testing.T) {
	t.Parallel()
	x := watch(t, "13.0")
	var mu sync.Mutex
	build := "22A380"
	sys := &buildSys{System: x.e.System(&x.build), build: func() string { mu.Lock(); defer mu.Unlock(); return build }}
	x.w.Sys, x.w.Interval, x.w.BuildPoll = sys, time.Hour, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { x.w.Run(ctx); close(done) }()
	waitFor(t, func() bool { return x.w.Status().Why == "start" })
	x.e.OSUpdate(t, "14.0")
	mu.Lock()
	build = "23A344"
	mu.Unlock()
	waitFor(t, func() bool { return x.w.Status().Drift == authdb.Repaired })
	if st := x.w.Status(); st.Why != "os-build-changed" || st.Build != "23A344" {
		t.Fatalf("status: %+v", st)
	}
	cancel()
	<-done
}

type buildSys struct {
	authdb.System
	build func() string
}

func (b *buildSys) Build() (string, error) { return b.build(), nil }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// A check that cannot run (the script gone, not root, garbled output) is
// an error line and one audit event, not silence.
func TestCheckFailureIsLoud(t *testing.T) {
	var events []store.Event
	var log bytes.Buffer
	w := &authdb.Watcher{Sys: failing{}, Mode: func() (authdb.Mode, error) { return authdb.Repair, nil },
		Audit: func(ev store.Event) error { events = append(events, ev); return nil },
		Log:   slog.New(slog.NewJSONHandler(&log, nil))}
	st := w.Check(context.Background(), "start")
	w.Check(context.Background(), "timer")
	if st.Error == "" || len(events) != 1 || events[0].Verdict != "check-failed" || strings.Count(log.String(), `"level":"ERROR"`) != 1 {
		t.Fatalf("status %+v, events %+v, log %s", st, events, log.String())
	}
}

type failing struct{}

func (failing) Check(context.Context) (authdb.Report, error) {
	return authdb.Report{}, errors.New("/usr/local/share/jcmfa/authdb.sh: no such file")
}
func (failing) Repair(context.Context) (string, error) { return "", errors.New("not reached") }
func (failing) Build() (string, error)                 { return "", nil }
