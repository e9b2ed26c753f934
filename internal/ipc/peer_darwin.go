package ipc

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// peerOf reads the connecting process's credentials from the kernel
// (LOCAL_PEERCRED), which the peer cannot forge.
func peerOf(c net.Conn, adminUID int) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("not a unix socket: %T", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *unix.Xucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return Peer{}, err
	}
	if cerr != nil {
		return Peer{}, cerr
	}
	uid := int(cred.Uid)
	return Peer{UID: uid, Admin: uid == 0 || uid == adminUID, LoginAgent: uid == securityAgentUID()}, nil
}

// securityAgentUID is the uid of _securityagent (92 on every macOS release
// so far), looked up by name once so a changed number is followed.
var securityAgentUID = sync.OnceValue(func() int {
	if u, err := user.Lookup("_securityagent"); err == nil {
		if id, err := strconv.Atoi(u.Uid); err == nil {
			return id
		}
	}
	return 92
})
