//go:build linux || darwin

package ipc

import (
	"fmt"
	"net"
)

// peerOf reads the connecting process's uid from the kernel, which the
// peer cannot forge (peerUID is SO_PEERCRED on Linux, LOCAL_PEERCRED on
// macOS).
func peerOf(c net.Conn, adminUID int) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("not a unix socket: %T", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var uid, pid int
	var uerr error
	if err := raw.Control(func(fd uintptr) { uid, pid, uerr = peerUID(int(fd)) }); err != nil {
		return Peer{}, err
	}
	if uerr != nil {
		return Peer{}, uerr
	}
	return Peer{UID: uid, PID: pid, Admin: uid == 0 || uid == adminUID, LoginAgent: isLoginAgent(uid)}, nil
}
