package ipc

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerOf reads the connecting process's credentials from the kernel
// (SO_PEERCRED), which the peer cannot forge.
func peerOf(c net.Conn, adminUID int) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("not a unix socket: %T", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, err
	}
	if cerr != nil {
		return Peer{}, cerr
	}
	uid := int(cred.Uid)
	return Peer{UID: uid, Admin: uid == 0 || uid == adminUID}, nil
}
