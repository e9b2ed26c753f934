package ipc

import (
	"context"
	"strconv"

	"github.com/jcmfa/jcmfa/internal/engine"
)

// RecoveryHandler is a Handler that also makes recovery codes for a peer's
// own account (verb RECOVERY). A Handler without it answers RECOVERY with
// a protocol refusal, as an older daemon would an unknown verb.
type RecoveryHandler interface {
	// RecoveryCodes runs the dialogue: a current TOTP code, then n new
	// codes (0: the default) as INFO lines, or a refusal.
	RecoveryCodes(ctx context.Context, req engine.LoginRequest, n int, conv engine.Conversation) engine.Verdict
}

// recovery serves RECOVERY [user=NAME] [count=N]: the peer's own account
// (an admin peer may name another), under the same limits as ENROLL, which
// it resembles (one code asked, text shown).
func (ss *session) recovery(ctx context.Context, l Line, client string) {
	h, ok := ss.s.Handler.(RecoveryHandler)
	if !ok {
		ss.refuse("protocol", "protocol error: this daemon does not make recovery codes")
		return
	}
	n := 0
	if c := l.Get("count"); c != "" {
		v, err := strconv.Atoi(c)
		if err != nil || v < 1 || len(c) > 3 {
			ss.refuse("protocol", "protocol error: count must be a whole number from 1")
			return
		}
		n = v
	}
	req, ok := ss.selfDialogue(l, client)
	if !ok {
		return
	}
	release, ok := ss.boundSelfService()
	if !ok {
		return
	}
	defer release()
	ss.verdict(h.RecoveryCodes(ctx, req, n, ss))
}

// Recovery runs the RECOVERY dialogue; user may be "" (self), n 0 (the
// default count).
func (c Client) Recovery(user string, n int, conv engine.Conversation) (engine.Verdict, error) {
	count := ""
	if n != 0 {
		count = strconv.Itoa(n)
	}
	return c.dialogue(conv, "RECOVERY", "user", user, "count", count)
}
