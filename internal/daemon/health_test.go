//go:build !windows

package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/devicekey"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/paths"
	"github.com/jcmfa/jcmfa/internal/store"
)

// TestHealthFailsWhileTheStoreIsWedged: the watchdog's check passes on a
// serving daemon, fails within its bound while a login's write holds the
// store (as a commit stuck in fdatasync would), and passes again once the
// store answers.
func TestHealthFailsWhileTheStoreIsWedged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	os.MkdirAll(dir, 0o700)
	key, err := devicekey.Default(dir).Key()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(paths.Store(dir), key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Serve(time.Now()); err != nil {
		t.Fatal(err)
	}
	sockDir, _ := os.MkdirTemp("", "jcmfa-health")
	defer os.RemoveAll(sockDir)
	l, err := ipc.Listen(filepath.Join(sockDir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	srv := ipc.NewServer(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), os.Geteuid())
	h := &health{st: st, srv: srv}
	const bound = 200 * time.Millisecond

	if err := h.check(bound); err == nil || !strings.Contains(err.Error(), "not accepting") {
		t.Fatalf("before Serve: %v, want not accepting", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-served }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, s := srv.AcceptStall(time.Now()); s {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server not serving")
		}
	}
	if err := h.check(bound); err != nil {
		t.Fatalf("healthy daemon: %v", err)
	}

	release, held := make(chan struct{}), make(chan struct{})
	go st.Record("alice", func(*store.Tx) error { close(held); <-release; return nil })
	<-held
	for i := 0; i < 2; i++ { // the second check waits on the same read
		start := time.Now()
		err := h.check(bound)
		if err == nil || !strings.Contains(err.Error(), "has not answered") {
			t.Fatalf("wedged store, check %d: %v, want a read that has not answered", i, err)
		}
		if d := time.Since(start); d > bound+500*time.Millisecond {
			t.Fatalf("check took %v, want about %v", d, bound)
		}
	}
	close(release)
	if err := h.check(bound); err != nil {
		t.Fatalf("store answers again: %v", err)
	}
}
