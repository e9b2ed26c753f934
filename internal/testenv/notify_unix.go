//go:build !windows

package testenv

import (
	"net"
	"path/filepath"
	"testing"
)

// NotifySocket stands in for systemd's notification socket (sd_notify(3)):
// a datagram socket whose messages (READY=1, WATCHDOG=1, ...) arrive on the
// channel as systemd would read them. Give its path as NOTIFY_SOCKET.
func NotifySocket(tb testing.TB) (string, <-chan string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	notes := make(chan string, 10000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			notes <- string(buf[:n])
		}
	}()
	return path, notes
}
