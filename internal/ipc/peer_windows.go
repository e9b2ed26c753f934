package ipc

import "net"

// peerOf: the pipe's security descriptor (listen_windows.go) admits only
// SYSTEM and Administrators, so whoever got this far is an admin.
func peerOf(net.Conn, int) (Peer, error) { return Peer{UID: -1, Admin: true}, nil }
