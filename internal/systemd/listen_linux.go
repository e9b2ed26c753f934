package systemd

import (
	"fmt"
	"net"
	"strings"

	"github.com/coreos/go-systemd/v22/activation"
	"golang.org/x/sys/unix"
)

// Listener returns the listening socket systemd passed to the daemon
// (jcmfa-agent.socket), or nil, nil when none was passed: the daemon was
// started another way and makes its own.
//
// systemd created the socket (its path, owner and mode are the socket
// unit's) and holds it open across restarts of the daemon, queueing
// logins meanwhile, so the listener returned never unlinks or changes the
// file: net.FileListener's listener does not unlink on Close (package
// net: "only when package net created it"), and SetUnlinkOnClose(false)
// says so again here.
//
// Anything but exactly one listening Unix stream socket is a mistake in
// the socket unit, and an error saying how to fix it: serving some other
// socket, or making our own next to systemd's, would leave logins
// connecting where nobody answers.
func Listener() (net.Listener, error) {
	files := activation.Files(true) // LISTEN_PID must be ours; unsets LISTEN_*
	if len(files) == 0 {
		return nil, nil
	}
	// Our copies only: systemd keeps its own descriptors open.
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if len(files) != 1 {
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = f.Name()
		}
		return nil, fmt.Errorf("systemd passed %d sockets (%s); the daemon serves one: give jcmfa-agent.socket exactly one ListenStream= line "+
			"(ListenStream=/run/jcmfa/agent.sock) and no other Listen*= or Sockets=", len(files), strings.Join(names, ", "))
	}
	l, err := net.FileListener(files[0])
	if err != nil {
		return nil, fmt.Errorf("the file descriptor systemd passed (%s) is not a socket the daemon can serve: %v; "+
			"jcmfa-agent.socket must say ListenStream=/run/jcmfa/agent.sock", files[0].Name(), err)
	}
	ul, ok := l.(*net.UnixListener)
	if !ok || l.Addr().Network() != "unix" {
		l.Close()
		return nil, fmt.Errorf("systemd passed a %s socket (%s), not a Unix stream socket; jcmfa-agent.socket must say "+
			"ListenStream=/run/jcmfa/agent.sock", l.Addr().Network(), l.Addr())
	}
	ul.SetUnlinkOnClose(false)
	listening, err := acceptsConnections(ul)
	if err != nil || !listening {
		ul.Close()
		if err == nil {
			err = fmt.Errorf("systemd passed a Unix stream socket (%s) that is not listening: jcmfa-agent.socket must not say Accept=yes", ul.Addr())
		}
		return nil, err
	}
	return ul, nil
}

// acceptsConnections reads SO_ACCEPTCONN (socket(7)): whether listen(2)
// was called on the socket. A connected socket (Accept=yes) would make
// every Accept fail.
func acceptsConnections(l *net.UnixListener) (bool, error) {
	rc, err := l.SyscallConn()
	if err != nil {
		return false, err
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ACCEPTCONN) }); err != nil {
		return false, err
	}
	if gerr != nil {
		return false, fmt.Errorf("read SO_ACCEPTCONN of the socket systemd passed: %w", gerr)
	}
	return v == 1, nil
}
