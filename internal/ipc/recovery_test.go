//go:build !windows

// Over a Unix socket, like server_test.go (whose helpers it uses).

package ipc_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// infos keeps the INFO lines of a dialogue and answers its one question.
type infos struct {
	answer
	lines *[]string
}

func (i infos) Info(t string) error { *i.lines = append(*i.lines, t); return nil }

// Over the real socket: RECOVERY makes codes after a TOTP code, each logs
// in once at LOGIN, and a bad count is a protocol error, not a crash.
func TestRecoveryOverSocket(t *testing.T) { // R4, R9
	c := startDaemon(t)
	sec := enrolled(t, c, "alice")
	code, _ := totp.Code(sec, time.Now(), totp.Default)
	var lines []string
	v, err := c.Recovery("alice", 3, infos{answer{code}, &lines})
	if err != nil || v.Word != "allow" || v.Reason != "recovery-codes" {
		t.Fatalf("RECOVERY: %+v %v", v, err)
	}
	var codes []string
	for _, l := range lines {
		if canon, ok := recovery.Normalize(l); ok {
			codes = append(codes, canon)
		}
	}
	if len(codes) != 3 {
		t.Fatalf("codes shown: %q", lines)
	}
	if v := login(t, c, "alice", codes[0]); v.Word != "allow" || v.Reason != "recovery-code" {
		t.Fatalf("login with a recovery code: %+v", v)
	}
	if v := login(t, c, "alice", codes[0]); v.Word != "deny" || v.Reason != "wrong-code" {
		t.Fatalf("the same recovery code again: %+v", v)
	}
	for _, n := range []int{-1, 1000, 51} {
		v, err := c.Recovery("alice", n, infos{answer{code}, &lines})
		if err != nil || v.Word != "deny" {
			t.Fatalf("count %d: %+v %v, want a deny", n, v, err)
		}
	}
	var row engine.UserRow
	if err := jsonRow(cmd(t, c, "user.status", "user", "alice")[0], &row); err != nil || row.RecoveryCodes != 2 {
		t.Fatalf("status: %+v %v, want 2 codes left", row, err)
	}
}

func jsonRow(raw []byte, v any) error { return json.Unmarshal(raw, v) }
