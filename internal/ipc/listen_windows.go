package ipc

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"github.com/jcmfa/jcmfa/internal/paths"
)

// pipeSDDL admits only SYSTEM (the credential provider runs in LogonUI as
// SYSTEM) and the built-in Administrators group, with full access. It is
// also what keeps anyone else from adding an instance of the pipe once the
// service holds it (pipename_windows.go).
const pipeSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// Listen creates the daemon's named pipe. With path == paths.Socket ("auto")
// it is a fresh random name, published in HKLM once it listens and removed
// again by Close (pipename_windows.go). Any other path is a fixed name: if
// another process holds it, the error is a *PipeTakenError.
func Listen(path string) (net.Listener, error) {
	if path == paths.Socket {
		return listenPublished()
	}
	// Look first: FILE_CREATE already refuses a name that exists on
	// Windows, but wine lets a second server join the first one's pipe,
	// and a look names the holder for the admin either way.
	if pid, held := pipeHeld(path); held {
		return nil, &PipeTakenError{Path: path, HolderPID: pid, Err: windows.ERROR_ACCESS_DENIED}
	}
	l, err := listenPipe(path)
	if err != nil && nameTaken(err) {
		pid, _ := pipeHeld(path)
		return nil, &PipeTakenError{Path: path, HolderPID: pid, Err: err}
	}
	return l, err
}

func listenPipe(path string) (net.Listener, error) {
	// go-winio creates the first instance with FILE_CREATE (the
	// FILE_FLAG_FIRST_PIPE_INSTANCE of CreateNamedPipe): it fails, rather
	// than joining someone else's pipe, if the name exists.
	return winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: pipeSDDL, InputBufferSize: MaxLine, OutputBufferSize: MaxLine})
}

func listenPublished() (net.Listener, error) {
	var last error
	// A random name is taken only if someone guessed 128 bits; a second
	// and third try cover that without looping forever on a real fault.
	for range 3 {
		name, err := randomPipeName()
		if err != nil {
			return nil, err
		}
		l, err := listenPipe(name)
		if err != nil {
			if nameTaken(err) {
				last = err
				continue
			}
			return nil, err
		}
		if err := publish(name); err != nil {
			l.Close()
			return nil, fmt.Errorf(`listening on %s, but cannot publish it in HKLM\%s, so no client could find it: %w`, name, AgentKey, err)
		}
		return &publishedListener{Listener: l, name: name}, nil
	}
	return nil, fmt.Errorf("three fresh random pipe names were all taken (%v): something is creating pipes named jcmfa-agent-*; find it with a pipe listing (\\\\.\\pipe\\)", last)
}

// nameTaken: creating the first instance failed because the name exists.
// CreateNamedPipe documents ERROR_ACCESS_DENIED; NtCreateNamedPipeFile's
// FILE_CREATE may also surface as "already exists" or, when the other
// pipe's instances are all in use, ERROR_PIPE_BUSY.
func nameTaken(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_ALREADY_EXISTS) ||
		errors.Is(err, windows.ERROR_PIPE_BUSY) || errors.Is(err, windows.ERROR_FILE_EXISTS)
}

// pipeHeld reports whether a pipe named path exists, and the process
// serving it if its DACL lets us connect (0 if not).
func pipeHeld(path string) (pid uint32, held bool) {
	t := 500 * time.Millisecond
	c, err := winio.DialPipe(path, &t)
	if err != nil {
		return 0, !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) && !errors.Is(err, windows.ERROR_PATH_NOT_FOUND)
	}
	defer c.Close()
	if f, ok := c.(interface{ Fd() uintptr }); ok {
		windows.GetNamedPipeServerProcessId(windows.Handle(f.Fd()), &pid)
	}
	return pid, true
}

// PipeTakenError: a fixed pipe name (--socket) is held by another process,
// so the service cannot listen on it.
type PipeTakenError struct {
	Path      string
	HolderPID uint32 // 0 if unknown
	Err       error
}

func (e *PipeTakenError) Error() string {
	who := "another process"
	if e.HolderPID != 0 {
		who = fmt.Sprintf("process %d", e.HolderPID)
	}
	return fmt.Sprintf("the named pipe %s already exists: %s created it before the service (%v), so the service cannot listen on it "+
		"and logons relayed to it fail (or, with FailMode=safe, are refused too: an impostor is not an absent daemon). "+
		"Fix: stop %s, or better, let the service pick a fresh random name at each start: reinstall it without --socket "+
		"(jcmfa-agent service uninstall, then service install) and delete the credential provider's fixed name "+
		"(reg delete HKLM\\SOFTWARE\\jcmfa /v Pipe /f). The service retries meanwhile", e.Path, who, e.Err, who)
}

func (e *PipeTakenError) Unwrap() error { return e.Err }

// Dial connects to the daemon's named pipe and checks that the process
// serving it is the service. With path == paths.Socket it reads the
// published name (ErrNotPublished if there is none) and checks that the
// server is the process that published it.
func Dial(path string, timeout time.Duration) (net.Conn, error) {
	var want *Published
	if path == paths.Socket {
		p, err := ReadPublished()
		if err != nil {
			return nil, err
		}
		path, want = p.Name, &p
	}
	c, err := winio.DialPipe(path, &timeout)
	if err != nil {
		return nil, err
	}
	if err := checkServer(c, want); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
