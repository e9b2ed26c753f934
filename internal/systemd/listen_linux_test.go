package systemd

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// childRole makes the test binary, run again by passFDs, call Listener
// on the descriptors it was given and print what it got.
const childRole = "JCMFA_SYSTEMD_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childRole) == "listener" {
		l, err := Listener()
		switch {
		case err != nil:
			fmt.Println("error:", err)
		case l == nil:
			fmt.Println("none")
		default:
			fmt.Printf("listener %s %s env=%q\n", l.Addr().Network(), l.Addr(), os.Getenv("LISTEN_FDS"))
			// The daemon's stop: Close must leave systemd's file alone.
			l.Close()
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// passFDs runs this test binary as systemd runs a socket-activated
// service: files as descriptors 3, 4, ..., LISTEN_FDS their count and
// LISTEN_PID the child's own pid (set by sh, whose exec keeps it).
// pid overrides LISTEN_PID when not empty.
func passFDs(t *testing.T, pid string, files ...*os.File) string {
	t.Helper()
	script := `LISTEN_PID=$$ exec "$@"`
	if pid != "" {
		script = `LISTEN_PID=` + pid + ` exec "$@"`
	}
	cmd := exec.Command("/bin/sh", "-c", script, "sh", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRole+"=listener", fmt.Sprintf("LISTEN_FDS=%d", len(files)))
	cmd.ExtraFiles = files
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// fileOf is the descriptor behind a listener or connection, as systemd
// would hold it.
func fileOf(t *testing.T, c interface{ File() (*os.File, error) }) *os.File {
	t.Helper()
	f, err := c.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func unixListener(t *testing.T, path string) *net.UnixListener {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestPassedListeningSocketIsServedAndItsFileKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.sock")
	l := unixListener(t, path)
	// A mode the daemon's own socket never has: a chmod would show.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	out := passFDs(t, "", fileOf(t, l))
	if want := "listener unix " + path + ` env=""`; out != want {
		t.Fatalf("child said %q, want %q (LISTEN_* unset after use)", out, want)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the socket file is gone after the child closed its listener: %v", err)
	}
	if after.Mode() != before.Mode() || !os.SameFile(before, after) {
		t.Fatalf("socket file changed: %v → %v (same file %v)", before.Mode(), after.Mode(), os.SameFile(before, after))
	}
	// Still listening: systemd's copy queues the next login.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("connect after the child stopped: %v", err)
	}
	c.Close()
}

func TestNoPassedSocketMeansNone(t *testing.T) {
	if out := passFDs(t, ""); out != "none" {
		t.Fatalf("no descriptors: child said %q, want none", out)
	}
	// Descriptors meant for another process (LISTEN_PID not ours): not
	// ours to take.
	l := unixListener(t, filepath.Join(t.TempDir(), "s"))
	if out := passFDs(t, "1", fileOf(t, l)); out != "none" {
		t.Fatalf("LISTEN_PID=1: child said %q, want none", out)
	}
}

func TestWrongPassedDescriptorsAreRefused(t *testing.T) {
	dir := t.TempDir()
	dgram, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "dg"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer dgram.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	connected := os.NewFile(uintptr(fds[0]), "connected")
	defer connected.Close()
	defer syscall.Close(fds[1])
	regular, err := os.Create(filepath.Join(dir, "file"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	a, b := unixListener(t, filepath.Join(dir, "a")), unixListener(t, filepath.Join(dir, "b"))

	for _, tc := range []struct {
		name  string
		files []*os.File
		want  string
	}{
		{"two sockets", []*os.File{fileOf(t, a), fileOf(t, b)}, "systemd passed 2 sockets"},
		{"datagram", []*os.File{fileOf(t, dgram)}, "unixgram socket"},
		{"tcp", []*os.File{fileOf(t, tcp.(*net.TCPListener))}, "tcp socket"},
		{"connected (Accept=yes)", []*os.File{connected}, "not listening"},
		{"not a socket", []*os.File{regular}, "not a socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := passFDs(t, "", tc.files...)
			if !strings.HasPrefix(out, "error:") || !strings.Contains(out, tc.want) || !strings.Contains(out, "jcmfa-agent.socket") {
				t.Fatalf("child said %q, want an error containing %q that names jcmfa-agent.socket", out, tc.want)
			}
		})
	}
}
