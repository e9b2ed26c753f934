package ipc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// How the service proves its pipe is its own (docs/windows.md, "The pipe
// name"). Any user may create a named pipe of a name nobody holds, and the
// first instance fixes the pipe's DACL; a fixed name is therefore a name a
// non-admin can take while the service is stopped. So at every start the
// service:
//
//  1. creates a pipe with a fresh 128-bit random name and
//     FILE_FLAG_FIRST_PIPE_INSTANCE: "If you attempt to create multiple
//     instances of a pipe with this flag, creation of the first instance
//     succeeds, but creation of the next instance fails with
//     ERROR_ACCESS_DENIED" (CreateNamedPipe, learn.microsoft.com/en-us/
//     windows/win32/api/winbase/nf-winbase-createnamedpipea); go-winio does
//     the same with NtCreateNamedPipeFile and FILE_CREATE. Nobody can have
//     created a name they could not guess, and once the service holds it,
//     creating another instance needs FILE_CREATE_PIPE_INSTANCE under the
//     first instance's DACL ("the DACL must allow the calling thread
//     FILE_CREATE_PIPE_INSTANCE access", Named Pipe Security and Access
//     Rights, learn.microsoft.com/en-us/windows/win32/ipc/
//     named-pipe-security-and-access-rights), which pipeSDDL grants to
//     SYSTEM and Administrators only;
//  2. only then publishes the name, its process id and its process creation
//     time in HKLM\SOFTWARE\jcmfa\Agent, a key whose DACL lets only SYSTEM
//     and Administrators write (set explicitly with SetSecurityInfo, not
//     inherited: "You can specify a security descriptor for a registry key
//     when you call the RegCreateKeyEx or RegSetKeySecurity function. If you
//     specify NULL, the key gets a default security descriptor ... inherited
//     from its direct parent key", Registry Key Security and Access Rights,
//     learn.microsoft.com/en-us/windows/win32/sysinfo/
//     registry-key-security-and-access-rights).
//
// A client reads the key, opens the pipe, and checks with
// GetNamedPipeServerProcessId ("Retrieves the server process identifier for
// the specified named pipe", learn.microsoft.com/en-us/windows/win32/api/
// winbase/nf-winbase-getnamedpipeserverprocessid) that the process at the
// other end is the one that published the name (same id and same creation
// time, so a reused process id does not pass) and runs as SYSTEM or an
// administrator. A stale name (the service crashed) with someone else's pipe
// behind it therefore fails the check; a stale name with no pipe behind it
// is "the daemon is absent".
//
// The key lives beside the settings key (HKLM\SOFTWARE\jcmfa), not in it:
// settings are the admin's, the Agent subkey is the running service's, and
// the service rewrites its security at every start.

// AgentKey is the HKLM subkey the service publishes its pipe in.
const AgentKey = `SOFTWARE\jcmfa\Agent`

// Values under AgentKey. The credential provider reads the same names
// (internal/cshim/jcmfa_pipe_win.c).
const (
	valuePipeName    = "PipeName"    // REG_SZ  \\.\pipe\jcmfa-agent-<32 hex>
	valueServerPID   = "ServerPid"   // REG_DWORD
	valueServerStart = "ServerStart" // REG_QWORD FILETIME of the process's creation
	valueListenError = "ListenError" // REG_SZ why the service cannot listen, "" once it does
)

// agentKeySDDL: owner Administrators; SYSTEM and Administrators full control,
// Users read. Protected (P), so nothing inherited from a parent an admin
// may have loosened. Reading the name gives a user nothing: pipe names can
// be listed by anyone (\\.\pipe\*), and the proof is the process check.
const agentKeySDDL = "O:BAD:P(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;BU)"

// pipePrefix is where published names live; a published value outside it
// is refused by every reader.
const pipePrefix = `\\.\pipe\`

// ErrNotPublished: the service has no pipe name published, so it is not
// running (a clean stop removes the name) or never ran. This is the one
// "absent" outcome besides a published pipe that does not exist.
var ErrNotPublished = errors.New(`the jcmfa service has published no pipe name in HKLM\` + AgentKey +
	`: it is not running (start it: jcmfa-agent service start) or has never run; pass --socket to reach a daemon on a fixed pipe`)

// Published is what the service wrote under AgentKey.
type Published struct {
	Name  string
	PID   uint32
	Start uint64 // FILETIME, 100 ns since 1601
}

// ReadPublished reads the published pipe name and the identity of the
// process that serves it.
func ReadPublished() (Published, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, AgentKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return Published{}, ErrNotPublished
	}
	if err != nil {
		return Published{}, fmt.Errorf(`read HKLM\%s: %w`, AgentKey, err)
	}
	defer k.Close()
	var p Published
	p.Name, _, err = k.GetStringValue(valuePipeName)
	if errors.Is(err, registry.ErrNotExist) || (err == nil && p.Name == "") {
		return Published{}, ErrNotPublished
	}
	if err != nil {
		return Published{}, fmt.Errorf(`read HKLM\%s\%s: %w`, AgentKey, valuePipeName, err)
	}
	if len(p.Name) <= len(pipePrefix) || p.Name[:len(pipePrefix)] != pipePrefix {
		return Published{}, fmt.Errorf(`HKLM\%s\%s is %q, not a local pipe name: delete the value and restart the service`, AgentKey, valuePipeName, p.Name)
	}
	pid, _, err := k.GetIntegerValue(valueServerPID)
	if err != nil {
		return Published{}, fmt.Errorf(`read HKLM\%s\%s: %w (restart the service)`, AgentKey, valueServerPID, err)
	}
	p.PID = uint32(pid)
	if p.Start, _, err = k.GetIntegerValue(valueServerStart); err != nil {
		return Published{}, fmt.Errorf(`read HKLM\%s\%s: %w (restart the service)`, AgentKey, valueServerStart, err)
	}
	return p, nil
}

// ReadListenProblem is why the service last could not listen ("" if it
// listens, or never said); jcmfa-agent doctor reports it.
func ReadListenProblem() string {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, AgentKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return ""
	}
	defer k.Close()
	s, _, _ := k.GetStringValue(valueListenError)
	return s
}

// RecordListenProblem stores why the service cannot listen (problem != "")
// or that it now does (problem == ""), for jcmfa-agent doctor.
func RecordListenProblem(problem string) error {
	k, err := openAgentKey()
	if err != nil {
		return err
	}
	defer k.Close()
	if problem == "" {
		if err := k.DeleteValue(valueListenError); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return err
		}
		return nil
	}
	return k.SetStringValue(valueListenError, problem)
}

// openAgentKey creates or opens AgentKey for writing and (re)sets its
// security, so a key left with a looser DACL is tightened at every start.
func openAgentKey() (registry.Key, error) {
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, AgentKey,
		registry.QUERY_VALUE|registry.SET_VALUE|registry.WOW64_64KEY|windows.WRITE_DAC|windows.WRITE_OWNER|windows.READ_CONTROL)
	if err != nil {
		return 0, fmt.Errorf(`create HKLM\%s: %w (the service must run as SYSTEM or an administrator)`, AgentKey, err)
	}
	sd, err := windows.SecurityDescriptorFromString(agentKeySDDL)
	if err != nil {
		k.Close()
		return 0, err
	}
	owner, _, _ := sd.Owner()
	dacl, _, _ := sd.DACL()
	err = windows.SetSecurityInfo(windows.Handle(k), windows.SE_REGISTRY_KEY,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
		owner, nil, dacl, nil)
	if err != nil {
		k.Close()
		return 0, fmt.Errorf(`set the security of HKLM\%s (SYSTEM and Administrators only may write): %w`, AgentKey, err)
	}
	return k, nil
}

// randomPipeName is a fresh name nobody can have created in advance.
func randomPipeName() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return pipePrefix + "jcmfa-agent-" + hex.EncodeToString(b[:]), nil
}

// self is this process's identity as a client will check it.
func self() (Published, error) {
	var c, e, k, u windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &c, &e, &k, &u); err != nil {
		return Published{}, err
	}
	return Published{PID: windows.GetCurrentProcessId(), Start: filetime(c)}, nil
}

func filetime(f windows.Filetime) uint64 { return uint64(f.HighDateTime)<<32 | uint64(f.LowDateTime) }

// publish writes name and this process's identity; the name goes last, so
// a reader that sees the new name also sees the new identity.
func publish(name string) error {
	me, err := self()
	if err != nil {
		return err
	}
	k, err := openAgentKey()
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.SetDWordValue(valueServerPID, me.PID); err != nil {
		return err
	}
	if err := k.SetQWordValue(valueServerStart, me.Start); err != nil {
		return err
	}
	return k.SetStringValue(valuePipeName, name)
}

// unpublish removes name if it is still the published one: a clean stop
// leaves no name, so clients see the daemon as absent, not as an impostor.
func unpublish(name string) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, AgentKey, registry.QUERY_VALUE|registry.SET_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return
	}
	defer k.Close()
	if cur, _, err := k.GetStringValue(valuePipeName); err == nil && cur == name {
		k.DeleteValue(valuePipeName)
	}
}

// publishedListener unpublishes its name when closed.
type publishedListener struct {
	net.Listener
	name string
}

func (l *publishedListener) Close() error {
	unpublish(l.name)
	return l.Listener.Close()
}

// ErrUntrustedServer: the process serving the pipe is not the service.
var ErrUntrustedServer = errors.New("the process serving the pipe is not the jcmfa service")

// checkServer proves the other end of c is the service: it runs as SYSTEM
// or an administrator (only those can be the service) and, when want is
// set, it is the very process that published the name.
func checkServer(c net.Conn, want *Published) error {
	f, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return fmt.Errorf("%w: cannot read the pipe's handle", ErrUntrustedServer)
	}
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(windows.Handle(f.Fd()), &pid); err != nil {
		return fmt.Errorf("%w: GetNamedPipeServerProcessId: %v", ErrUntrustedServer, err)
	}
	proc, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return fmt.Errorf("%w: open process %d: %v", ErrUntrustedServer, pid, err)
	}
	defer windows.CloseHandle(proc)
	if want != nil {
		var cr, e, k, u windows.Filetime
		if err := windows.GetProcessTimes(proc, &cr, &e, &k, &u); err != nil {
			return fmt.Errorf("%w: process %d: %v", ErrUntrustedServer, pid, err)
		}
		if pid != want.PID || filetime(cr) != want.Start {
			return fmt.Errorf(`%w: process %d serves %s, but the service that published it was process %d (a stale name after a crash, taken by another program: restart the service)`,
				ErrUntrustedServer, pid, want.Name, want.PID)
		}
	}
	var tok windows.Token
	if err := windows.OpenProcessToken(proc, windows.TOKEN_QUERY|windows.TOKEN_DUPLICATE, &tok); err != nil {
		return fmt.Errorf("%w: process %d's token: %v", ErrUntrustedServer, pid, err)
	}
	defer tok.Close()
	var dup windows.Token
	if err := windows.DuplicateTokenEx(tok, windows.TOKEN_QUERY, nil, windows.SecurityIdentification, windows.TokenImpersonation, &dup); err != nil {
		return fmt.Errorf("%w: process %d's token: %v", ErrUntrustedServer, pid, err)
	}
	defer dup.Close()
	for _, t := range []windows.WELL_KNOWN_SID_TYPE{windows.WinLocalSystemSid, windows.WinBuiltinAdministratorsSid} {
		sid, err := windows.CreateWellKnownSid(t)
		if err != nil {
			continue
		}
		if ok, err := dup.IsMember(sid); err == nil && ok {
			return nil
		}
	}
	return fmt.Errorf("%w: process %d runs as neither SYSTEM nor an administrator", ErrUntrustedServer, pid)
}
