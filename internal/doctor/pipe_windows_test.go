package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/ipc"
)

func TestWindowsPipeReportsATakenOrMissingName(t *testing.T) {
	pub := ipc.Published{Name: `\\.\pipe\jcmfa-agent-00112233445566778899aabbccddeeff`, PID: 42, Start: 1}
	tests := []struct {
		name  string
		state PipeState
		fails bool
		warns int
		says  string
	}{
		{"published", PipeState{Socket: "auto", Published: pub}, false, 0, "published its pipe"},
		{"not running", PipeState{Socket: "auto", PublishedErr: ipc.ErrNotPublished}, true, 0, "no pipe name is published"},
		{"garbled key", PipeState{Socket: "auto", PublishedErr: errors.New("HKLM... is \"x\"")}, true, 0, "restart the service"},
		{"fixed name taken", PipeState{Socket: `\\.\pipe\jcmfa-agent`, PublishedErr: ipc.ErrNotPublished, DLLPipe: `\\.\pipe\jcmfa-agent`,
			ListenProblem: `the named pipe \\.\pipe\jcmfa-agent already exists: process 77 created it`}, true, 1, "process 77"},
		{"fixed name in use", PipeState{Socket: `\\.\pipe\jcmfa-agent`, PublishedErr: ipc.ErrNotPublished, DLLPipe: `\\.\pipe\jcmfa-agent`}, false, 1, "fixed pipe name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := WindowsPipe(tt.state)
			warns := 0
			for _, f := range r {
				if f.Severity == Warn {
					warns++
				}
			}
			if r.Failed() != tt.fails || warns != tt.warns || !strings.Contains(r.String(), tt.says) {
				t.Errorf("failed=%v warns=%d, want %v %d and %q in:\n%s", r.Failed(), warns, tt.fails, tt.warns, tt.says, r)
			}
		})
	}
}
