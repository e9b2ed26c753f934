package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/jcmfa/jcmfa/internal/daemon"
)

// RunDaemon runs the daemon in this test process on stateDir, its socket
// in a new short directory others can reach (unprivileged peer tests),
// and returns the socket's path once it listens. The daemon stops when
// the test ends; an error from it then fails the test.
func RunDaemon(tb testing.TB, stateDir string) string {
	tb.Helper()
	sockDir, err := os.MkdirTemp("", "jcmfa") // sun_path is ~108 bytes: keep it short
	if err != nil {
		tb.Fatal(err)
	}
	os.Chmod(sockDir, 0o755)
	sock := filepath.Join(sockDir, "agent.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{StateDir: stateDir, Socket: sock,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func() { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		os.RemoveAll(sockDir)
		tb.Fatalf("daemon: %v", err)
	}
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("daemon: %v", err)
		}
		os.RemoveAll(sockDir)
	})
	return sock
}
