//go:build !windows

// These tests use Unix sockets and POSIX credentials; the Windows named
// pipe is exercised under wine by credprovider/test (make test-wine).

package daemon_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/daemon"
)

func runOnce(t *testing.T, stateDir string) error {
	sockDir, _ := os.MkdirTemp("", "jcmfa")
	defer os.RemoveAll(sockDir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	return daemon.Run(ctx, daemon.Config{StateDir: stateDir, Socket: filepath.Join(sockDir, "s"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: cancel})
}

func TestDaemonRefusesToStartWithAReadableKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := runOnce(t, dir); err != nil {
		t.Fatalf("first start: %v", err)
	}
	os.Chmod(filepath.Join(dir, "store.key"), 0o644)
	err := runOnce(t, dir)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want a refusal naming chmod 600", err)
	}
}

func TestDaemonRefusesAnotherKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := runOnce(t, dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "store.key"), make([]byte, 32), 0o600)
	err := runOnce(t, dir)
	if err == nil || !strings.Contains(err.Error(), "does not open this store") {
		t.Fatalf("err = %v", err)
	}
}
