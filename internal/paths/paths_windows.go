package paths

import (
	"os"
	"path/filepath"
)

// StateDir is where the store and its DPAPI-protected key live.
var StateDir = filepath.Join(programData(), "jcmfa")

// Socket is the daemon's named pipe.
const Socket = `\\.\pipe\jcmfa-agent`

func programData() string {
	if d := os.Getenv("ProgramData"); d != "" {
		return d
	}
	return `C:\ProgramData`
}
