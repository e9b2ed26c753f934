package authdb

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
)

// Defaults of the watcher's timing.
const (
	// DefaultInterval is how often the whole check runs: an OS update is
	// followed by a restart (a check at start), but authd re-imports
	// whenever authorization.plist changes, and an MDM or another
	// product may rewrite the rule at any time.
	DefaultInterval = 5 * time.Minute
	// DefaultBuildPoll is how often the OS build is read (one sysctl and
	// one small file): a new build is checked at once.
	DefaultBuildPoll = 30 * time.Second
	// remindEvery repeats the error log line of a drift that stays
	// (report mode, or a repair that keeps failing); the audit event is
	// written once per new drift.
	remindEvery = time.Hour
)

// EventKind is the audit event of a drift found; its Verdict is repaired,
// reported or repair-failed, its Reason the rule's state.
const EventKind = "authdb-drift"

// Verdicts of an EventKind event.
const (
	Repaired     = "repaired"
	Reported     = "reported"
	RepairFailed = "repair-failed"
)

// Status is the watcher's last check, for `doctor` (command authdb.status).
type Status struct {
	Checked time.Time `json:"checked"`
	Why     string    `json:"why"` // start, timer, os-build-changed
	Build   string    `json:"build,omitempty"`
	Mode    Mode      `json:"mode"`
	Report  *Report   `json:"report,omitempty"`
	Error   string    `json:"error,omitempty"`
	// The last drift found since the daemon started, and what was done.
	Drift       string    `json:"drift,omitempty"` // Repaired, Reported or RepairFailed
	DriftAt     time.Time `json:"drift_at,omitzero"`
	DriftDetail string    `json:"drift_detail,omitempty"`
}

// Watcher checks the rule at start, every Interval, and when the OS build
// changes, and repairs or reports what it finds.
type Watcher struct {
	Sys   System
	Mode  func() (Mode, error)    // the setting, read at each check
	Audit func(store.Event) error // appends an event to the store's audit
	Log   *slog.Logger
	Now   func() time.Time

	Interval, BuildPoll time.Duration

	mu       sync.Mutex // one check at a time
	status   Status
	lastKey  string // the drift (or error) last audited
	lastLoud time.Time
}

// Status returns the last check's result.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Run checks at once, then on its timers, until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	interval, poll := w.Interval, w.BuildPoll
	if interval <= 0 {
		interval = DefaultInterval
	}
	if poll <= 0 || poll > interval {
		poll = min(DefaultBuildPoll, interval)
	}
	build, _ := w.Sys.Build()
	w.Check(ctx, "start")
	next := w.now().Add(interval)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		why := ""
		if b, err := w.Sys.Build(); err == nil && b != build {
			w.Log.Info("the OS build changed: checking the login-window rule", "from", build, "to", b)
			build, why = b, "os-build-changed"
		} else if !w.now().Before(next) {
			why = "timer"
		}
		if why != "" {
			w.Check(ctx, why)
			next = w.now().Add(interval)
		}
	}
}

// Check looks at the rule once and acts on what it finds.
func (w *Watcher) Check(ctx context.Context, why string) Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := Status{Checked: w.now(), Why: why, Mode: Repair,
		Drift: w.status.Drift, DriftAt: w.status.DriftAt, DriftDetail: w.status.DriftDetail}
	st.Build, _ = w.Sys.Build()
	if m, err := w.Mode(); err != nil {
		// The store cannot be read: keep protecting the login window.
		w.Log.Error("cannot read the authdb drift setting; repairing as by default", "error", err.Error())
	} else {
		st.Mode = m
	}
	r, err := w.Sys.Check(ctx)
	if err != nil {
		st.Error = err.Error()
		w.loud("error "+st.Error, store.Event{Kind: EventKind, Actor: "daemon", Verdict: "check-failed", Detail: st.Error},
			"cannot check the login-window rule for jcmfa:verify; run: sudo jcmfa-agent doctor", "error", st.Error)
		w.status = st
		return st
	}
	st.Report = &r
	if !r.Drifted() {
		if w.lastKey != "" {
			w.Log.Info("the login-window rule has jcmfa:verify in place", "right", r.Right, "version", r.Version)
		}
		w.lastKey = ""
		w.status = st
		return st
	}
	detail := r.Describe()
	if st.Build != "" {
		detail += "; OS build " + st.Build
	}
	detail += " (found at " + why + ")"
	verdict := Reported
	if st.Mode == Repair {
		out, rerr := w.Sys.Repair(ctx)
		after, cerr := w.Sys.Check(ctx)
		switch {
		case rerr == nil && cerr == nil && !after.Drifted():
			verdict = Repaired
			detail += "; re-inserted " + Mechanism + " after " + Anchor + " with authdb.sh repair"
			st.Report = &after
		default:
			verdict = RepairFailed
			msg := lastLines(out, 4)
			if rerr != nil {
				msg = rerr.Error()
			} else if cerr != nil {
				msg = cerr.Error()
			}
			detail += "; authdb.sh repair failed: " + msg
		}
	}
	st.Drift, st.DriftAt, st.DriftDetail = verdict, st.Checked, detail
	ev := store.Event{Kind: EventKind, Actor: "daemon", Verdict: verdict, Reason: r.State, Detail: detail}
	key := fmt.Sprintf("%s %s %d %s", verdict, r.State, r.Version, st.Build)
	if verdict == Repaired {
		key = "" // each repair is a drift of its own: always audited
	}
	w.loud(key, ev, "jcmfa:verify was not in place in the login-window rule",
		"right", r.Right, "state", r.State, "version", r.Version, "build", st.Build, "mode", string(st.Mode), "action", verdict, "detail", detail)
	w.status = st
	return st
}

// loud writes the audit event and the error line for a new key, and only
// the error line, once an hour, while the same key stays.
func (w *Watcher) loud(key string, ev store.Event, msg string, attrs ...any) {
	now := w.now()
	isNew := key == "" || key != w.lastKey
	if !isNew && now.Sub(w.lastLoud) < remindEvery {
		return
	}
	w.Log.Error(msg, attrs...)
	w.lastLoud = now
	w.lastKey = key
	if !isNew {
		return
	}
	ev.Time = now
	if err := w.Audit(ev); err != nil {
		w.Log.Error("could not write the audit event", "kind", ev.Kind, "error", err.Error())
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
