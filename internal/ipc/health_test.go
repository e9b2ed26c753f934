//go:build !windows

package ipc_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/ipc"
)

// oneConnListener hands out one connection that is not a Unix socket (so
// the server cannot read its peer and logs a warning), then waits in
// Accept like an idle socket until closed.
type oneConnListener struct {
	conn   net.Conn
	closed chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if c := l.conn; c != nil {
		l.conn = nil
		return c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}
func (l *oneConnListener) Close() error   { close(l.closed); return nil }
func (l *oneConnListener) Addr() net.Addr { return &net.UnixAddr{Name: "test", Net: "unix"} }

// blockingWriter is a log destination that stops taking writes, as a
// full stderr pipe does when nothing drains it.
type blockingWriter struct{ release chan struct{} }

func (w blockingWriter) Write(p []byte) (int, error) { <-w.release; return len(p), nil }

// TestAcceptStallShowsAWedgedAcceptLoop: a loop parked in Accept is
// healthy however long it waits; a loop stuck between two accepts (here
// on a log write that never returns) reports a growing stall, which is
// what stops the watchdog pings.
func TestAcceptStallShowsAWedgedAcceptLoop(t *testing.T) {
	bw := blockingWriter{make(chan struct{})}
	srv := ipc.NewServer(nil, slog.New(slog.NewTextHandler(bw, nil)), 0)
	if _, serving := srv.AcceptStall(time.Now()); serving {
		t.Fatal("serving before Serve")
	}

	// Idle: parked in Accept.
	idle := &oneConnListener{closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, idle) }()
	waitFor(t, func() bool { _, s := srv.AcceptStall(time.Now()); return s })
	time.Sleep(50 * time.Millisecond)
	if stall, serving := srv.AcceptStall(time.Now().Add(time.Hour)); !serving || stall != 0 {
		t.Fatalf("idle server: stall %v serving %v, want 0 true", stall, serving)
	}
	cancel()
	<-done
	if _, serving := srv.AcceptStall(time.Now()); serving {
		t.Fatal("still serving after Serve returned")
	}

	// Wedged: the loop logs "cannot identify peer" into a writer that
	// blocks.
	a, b := net.Pipe()
	defer b.Close()
	wedged := &oneConnListener{conn: a, closed: make(chan struct{})}
	srv2 := ipc.NewServer(nil, slog.New(slog.NewTextHandler(bw, nil)), 0)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- srv2.Serve(ctx2, wedged) }()
	waitFor(t, func() bool { st, _ := srv2.AcceptStall(time.Now()); return st > 0 })
	time.Sleep(100 * time.Millisecond)
	stall, serving := srv2.AcceptStall(time.Now())
	if !serving || stall < 100*time.Millisecond {
		t.Fatalf("wedged loop: stall %v serving %v, want >= 100ms true", stall, serving)
	}
	cancel2()
	close(bw.release)
	<-done2
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
	}
}
