package ipc

import (
	"net"
	"time"

	"github.com/Microsoft/go-winio"
)

// pipeSDDL admits only SYSTEM (the credential provider runs in LogonUI as
// SYSTEM) and the built-in Administrators group, with full access.
const pipeSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// Listen creates the daemon's named pipe.
func Listen(path string) (net.Listener, error) {
	return winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: pipeSDDL, InputBufferSize: MaxLine, OutputBufferSize: MaxLine})
}

// Dial connects to the daemon's named pipe.
func Dial(path string, timeout time.Duration) (net.Conn, error) {
	return winio.DialPipe(path, &timeout)
}
