package ipc

import (
	"os/user"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// peerUID returns the peer's uid; the pid is not read (no use for it on
// macOS: grace windows read login sessions from Linux's /proc only).
func peerUID(fd int) (uid, pid int, err error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, 0, err
	}
	return int(cred.Uid), 0, nil
}

// isLoginAgent: the login window's plugins run in SecurityAgent.
func isLoginAgent(uid int) bool { return uid == securityAgentUID() }

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
