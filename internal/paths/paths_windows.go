package paths

import (
	"os"
	"path/filepath"
)

// StateDir is where the store and its DPAPI-protected key live.
var StateDir = filepath.Join(programData(), "jcmfa")

// Socket is the default --socket on Windows. It is not a pipe name: the
// service listens on a fresh random name at each start and publishes it in
// HKLM\SOFTWARE\jcmfa\Agent, and clients read it there
// (internal/ipc/pipename_windows.go). Any other value is a fixed pipe name
// used as given.
const Socket = "auto"

// LegacyPipe is the fixed name the service used before it published a
// random one. Any user may create a pipe of a free name, so while the
// service is stopped someone else can hold this one (docs/windows.md,
// "The pipe name"); it still works where an admin configures it.
const LegacyPipe = `\\.\pipe\jcmfa-agent`

func programData() string {
	if d := os.Getenv("ProgramData"); d != "" {
		return d
	}
	return `C:\ProgramData`
}
