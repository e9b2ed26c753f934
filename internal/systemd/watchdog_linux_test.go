package systemd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// notifySocket is a stand-in for systemd's notification socket: the
// datagrams the code under test sends, as systemd would read them. (The
// same as testenv.NotifySocket, which this package cannot import: testenv
// imports the daemon, which imports this package.)
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOTIFY_SOCKET", path)
	msgs := make(chan string, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { c.Close() })
	return msgs
}

func TestNotifySendsReadyStatusAndStopping(t *testing.T) {
	msgs := notifySocket(t)
	if ok, err := Ready("serving logins on /run/x\nREADY=1"); !ok || err != nil {
		t.Fatalf("Ready: %v %v", ok, err)
	}
	if ok, err := Stopping("bye"); !ok || err != nil {
		t.Fatalf("Stopping: %v %v", ok, err)
	}
	for _, want := range []string{"READY=1\nSTATUS=serving logins on /run/x READY=1", "STOPPING=1\nSTATUS=bye"} {
		select {
		case got := <-msgs:
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if ok, err := Ready("x"); ok || err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v %v, want false nil", ok, err)
	}
}

func TestWatchdogIntervalFromEnvironment(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	if d, err := WatchdogInterval(); d != 30*time.Second || err != nil {
		t.Fatalf("got %v %v, want 30s", d, err)
	}
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "1") // another process's watchdog
	if d, err := WatchdogInterval(); d != 0 || err != nil {
		t.Fatalf("another pid: got %v %v, want 0", d, err)
	}
}

// TestWatchdogPingsOnlyWhileHealthy: pings every Interval/3 while the
// check passes; none while it fails (a wedged check that never answers
// included), so systemd's watchdog fires; pings again once it passes.
func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	msgs := notifySocket(t)
	const interval = 300 * time.Millisecond
	var state atomic.Int32 // 0 healthy, 1 failing, 2 wedged
	wedge := make(chan struct{})
	defer close(wedge)
	w := &Watchdog{Interval: interval, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Check: func(bound time.Duration) error {
			switch state.Load() {
			case 1:
				return errors.New("store read failed")
			case 2:
				select { // a check stuck on a wedged store, as health.check waits
				case <-wedge:
				case <-time.After(bound):
				}
				return errors.New("a read of the store has not answered")
			}
			return nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// collect returns what was sent during d.
	collect := func(d time.Duration) (pings int, other []string) {
		end := time.After(d)
		for {
			select {
			case m := <-msgs:
				if m == "WATCHDOG=1" {
					pings++
				} else {
					other = append(other, m)
				}
			case <-end:
				return
			}
		}
	}
	if p, _ := collect(5 * interval); p < 10 {
		t.Fatalf("healthy: %d pings in %v, want about 15 (every %v)", p, 5*interval, interval/3)
	}
	for _, s := range []int32{1, 2} {
		state.Store(s)
		_, other := collect(interval / 3) // a ping already decided may still arrive
		p, more := collect(3 * interval)
		other = append(other, more...)
		if p != 0 {
			t.Fatalf("state %d: %d pings while unhealthy over %v, want none", s, p, 3*interval)
		}
		if s == 1 && (len(other) != 1 || !strings.HasPrefix(other[0], "STATUS=unhealthy: store read failed")) {
			t.Fatalf("unhealthy: sent %q, want one STATUS=unhealthy: ...", other)
		}
	}
	state.Store(0)
	p, other := collect(3 * interval)
	if p < 5 {
		t.Fatalf("healthy again: %d pings in %v, want about 9", p, 3*interval)
	}
	if len(other) != 1 || other[0] != "STATUS=serving logins" {
		t.Fatalf("healthy again: sent %q besides pings, want STATUS=serving logins", other)
	}
}
