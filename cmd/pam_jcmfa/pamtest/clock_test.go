//go:build linux && cgo

package pamtest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/daemon"
	"github.com/jcmfa/jcmfa/internal/devicekey"
	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/paths"
	"github.com/jcmfa/jcmfa/internal/store"
)

// startClockDaemon serves the real engine in this process, wired as
// daemon.Run wires it, with its clock moved by *offset (nanoseconds): an
// enrollment period of at least a day cannot run out inside a test any
// other way. Everything else (key, store, engine, line protocol) is the
// daemon's own code. Returns the socket path.
func startClockDaemon(t *testing.T, offset *atomic.Int64) string {
	t.Helper()
	needBuild(t) // admin commands still go through the built CLI
	stateDir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := devicekey.Default(stateDir).Key()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(paths.Store(stateDir), key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := engine.New(st, log)
	eng.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }

	sock := shortSocket(t)
	l, err := ipc.Listen(sock)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	srv := ipc.NewServer(&daemon.Handler{Engine: eng}, log, os.Geteuid())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return sock
}
