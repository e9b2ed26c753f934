package doctor

import (
	"errors"

	"golang.org/x/sys/windows/registry"

	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/paths"
)

// PipeState is what the pipe checks depend on (docs/windows.md, "The pipe
// name"), read apart from the rules so they are tested on values.
type PipeState struct {
	Socket        string        // the --socket doctor was given ("auto" by default)
	Published     ipc.Published // HKLM\SOFTWARE\jcmfa\Agent, when PublishedErr is nil
	PublishedErr  error
	ListenProblem string // ListenError: why the service cannot listen
	DLLPipe       string // HKLM\SOFTWARE\jcmfa Pipe: a fixed name for the credential provider
}

// ReadPipeState reads PipeState from this machine.
func ReadPipeState(socket string) PipeState {
	s := PipeState{Socket: socket, ListenProblem: ipc.ReadListenProblem()}
	s.Published, s.PublishedErr = ipc.ReadPublished()
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, settingsKey, registry.QUERY_VALUE|registry.WOW64_64KEY); err == nil {
		s.DLLPipe, _, _ = k.GetStringValue("Pipe")
		k.Close()
	}
	return s
}

// WindowsPipe judges how clients find the service's pipe and whether
// someone else holds a name the service needs.
func WindowsPipe(s PipeState) Report {
	const area = "pipe"
	var r Report
	if s.ListenProblem != "" {
		r = append(r, Finding{Fail, area, "the service cannot listen: " + s.ListenProblem, ""})
	}
	switch {
	case s.PublishedErr == nil:
		r = append(r, ok(area, "the service published its pipe "+s.Published.Name+
			" (a fresh random name at each start, so no one can take it in advance)"))
	case errors.Is(s.PublishedErr, ipc.ErrNotPublished):
		if s.Socket == paths.Socket && s.DLLPipe == "" {
			r = append(r, Finding{Fail, area, "no pipe name is published: the service is not running, so logons are refused (FailMode=secure) or need only the password (safe)",
				"jcmfa-agent service start"})
		}
	default:
		r = append(r, Finding{Fail, area, s.PublishedErr.Error(), "restart the service: jcmfa-agent service stop, then service start"})
	}
	if s.DLLPipe != "" {
		r = append(r, Finding{Warn, area, "the credential provider uses the fixed pipe name " + s.DLLPipe +
			` (HKLM\SOFTWARE\jcmfa Pipe): any user can create that pipe while the service is stopped, and then every logon is refused until it is gone`,
			`reg delete HKLM\SOFTWARE\jcmfa /v Pipe /f, and reinstall the service without --socket (it then publishes a random name)`})
	}
	return r
}
