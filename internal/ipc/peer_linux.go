package ipc

import "golang.org/x/sys/unix"

// peerUID returns the peer's uid and pid as the kernel recorded them at
// connect (SO_PEERCRED, socket(7)).
func peerUID(fd int) (uid, pid int, err error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, 0, err
	}
	return int(cred.Uid), int(cred.Pid), nil
}

// isLoginAgent: on Linux every login surface (PAM) runs as root.
func isLoginAgent(int) bool { return false }
