//go:build !windows

package daemon_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/authdb/authdbtest"
	"github.com/jcmfa/jcmfa/internal/daemon"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/testenv"
)

// The whole path on a (stand-in) Mac: the daemon finds at start that an
// OS update took jcmfa:verify out and repairs it, with the event in its
// audit, an error line in its log and authdb.status for doctor; switched
// to report over the channel (settings --authdb-drift report), it only
// reports the next update's drift; a bad mode is refused.
func TestDaemonRepairsThenReportsLoginWindowDrift(t *testing.T) {
	e := authdbtest.New(t, "12.0")
	if out, code := e.Run(t, nil, "install"); code != 0 {
		t.Fatalf("install: %d\n%s", code, out)
	}
	e.OSUpdate(t, "12.5") // version 8 -> 9, applied while the Mac was off
	build := "21G72"
	var log testenv.SyncBuffer
	sockDir, _ := os.MkdirTemp("", "jcmfa")
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "s")
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{StateDir: filepath.Join(t.TempDir(), "state"), Socket: sock,
			Log: slog.New(slog.NewJSONHandler(&log, nil)), Ready: func() { close(ready) },
			AuthDB: e.System(&build), AuthDBInterval: 300 * time.Millisecond})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	cli := ipc.Client{Path: sock, Timeout: 30 * time.Second, Kind: "test"}
	call := func(name string, f map[string]string) ([]json.RawMessage, error) {
		return cli.Command(name, f, func(string) {})
	}
	driftEvents := func() []store.Event {
		rows, err := call("audit", map[string]string{"n": "100"})
		if err != nil {
			t.Fatal(err)
		}
		var out []store.Event
		for _, r := range rows {
			var ev store.Event
			json.Unmarshal(r, &ev)
			if ev.Kind == authdb.EventKind {
				out = append(out, ev)
			}
		}
		return out
	}
	waitFor(t, 60*time.Second, "the repair at start", func() bool { return len(driftEvents()) == 1 })
	if ev := driftEvents()[0]; ev.Verdict != authdb.Repaired || ev.Reason != authdb.StateMissing || !strings.Contains(ev.Detail, "version 9") {
		t.Fatalf("event: %+v", ev)
	}
	if e.Rule(t).Index(authdb.Mechanism) != e.Rule(t).Index(authdb.Anchor)+1 {
		t.Fatalf("not repaired: %q", e.Rule(t).Mechanisms)
	}
	if !strings.Contains(log.String(), `"level":"ERROR","msg":"jcmfa:verify was not in place in the login-window rule"`) {
		t.Fatalf("no error line:\n%s", log.String())
	}
	rows, err := call("authdb.status", nil)
	var st authdb.Status
	if err != nil || json.Unmarshal(rows[0], &st) != nil || st.Drift != authdb.Repaired || st.Report == nil || st.Report.Drifted() {
		t.Fatalf("authdb.status: %s %v", rows, err)
	}

	if _, err := call("settings.set", map[string]string{"authdb_drift": "off"}); err == nil || !strings.Contains(err.Error(), "repair or report") {
		t.Fatalf("authdb_drift=off: %v", err)
	}
	rows, err = call("settings.set", map[string]string{"authdb_drift": "report"})
	var s store.Settings
	if err != nil || json.Unmarshal(rows[0], &s) != nil || s.AuthDBDrift != "report" {
		t.Fatalf("settings.set authdb_drift=report: %s %v", rows, err)
	}
	e.OSUpdate(t, "13.0") // 9 -> 10, while the daemon runs
	waitFor(t, 60*time.Second, "the report", func() bool { return len(driftEvents()) == 2 })
	if ev := driftEvents()[1]; ev.Verdict != authdb.Reported { // oldest first
		t.Fatalf("event: %+v", ev)
	}
	if e.Rule(t).Index(authdb.Mechanism) >= 0 {
		t.Fatal("report mode repaired the rule")
	}
}
