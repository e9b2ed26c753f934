package plugintest

import (
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/recovery"
)

// Issue 17, item 1 (row R4) at the macOS login window: the plugin relays a
// recovery code typed in its code field like any answer; the daemon
// accepts it once.
func TestRecoveryCodeAtTheLoginWindow(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	var codes []string
	for _, l := range strings.Split(admin(t, sock, "user", "recovery-codes", "alice", "--count", "2"), "\n") {
		if _, ok := recovery.Normalize(l); ok {
			codes = append(codes, strings.TrimSpace(l))
		}
	}
	if len(codes) != 2 {
		t.Fatalf("codes: %q", codes)
	}
	r := invoke(t, at(sock, "alice", "--answer", " "+strings.ToUpper(codes[0])+" ")...)
	wantResult(t, r, "allow")
	wantPrompts(t, r, 1)
	if v, reason, surface := lastLogin(t, sock, "alice"); v != "allow" || reason != "recovery-code" || surface != "gui" {
		t.Errorf("audited as %s/%s on %q, want allow/recovery-code on gui", v, reason, surface)
	}
	r = invoke(t, at(sock, "alice", "--answer", codes[0])...)
	wantResult(t, r, "deny")
	if v, reason, _ := lastLogin(t, sock, "alice"); v != "deny" || reason != "wrong-code" {
		t.Errorf("second use audited as %s/%s, want deny/wrong-code", v, reason)
	}
}
