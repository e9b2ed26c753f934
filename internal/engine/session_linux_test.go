package engine

import (
	"os"
	"strings"
	"testing"
)

// TestLoginSessionReadsTheKernel: this process's session as the kernel
// has it: "" when unset (a test run outside any login session), else the
// boot id and the number.
func TestLoginSessionReadsTheKernel(t *testing.T) {
	raw, err := os.ReadFile("/proc/self/sessionid")
	if err != nil {
		t.Skip("no /proc/self/sessionid (kernel without audit)")
	}
	got := loginSession(os.Getpid())
	if id := strings.TrimSpace(string(raw)); id == unsetSession {
		if got != "" {
			t.Fatalf("unset session read as %q", got)
		}
	} else if !strings.HasSuffix(got, ":"+id) || len(got) < 36 {
		t.Fatalf("session %q, kernel says %s", got, id)
	}
	if loginSession(1<<30) != "" {
		t.Fatal("a pid that does not exist has a session")
	}
}

// BenchmarkLoginSession: what a local login pays for its grace origin
// (only with grace on and no remote host).
func BenchmarkLoginSession(b *testing.B) {
	pid := os.Getpid()
	for range b.N {
		loginSession(pid)
	}
}
