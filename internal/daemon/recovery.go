package daemon

import (
	"context"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
)

// RecoveryCodes implements ipc.RecoveryHandler: a person makes their own
// recovery codes after proving a current TOTP code.
func (h *Handler) RecoveryCodes(ctx context.Context, req engine.LoginRequest, n int, conv engine.Conversation) engine.Verdict {
	return h.Engine.SelfRecoveryCodes(ctx, req, n, conv)
}

// cmdUserRecoveryCodes is the admin's `user recovery-codes USER [--count N]`:
// the new codes in one DATA row, shown once and never logged.
func cmdUserRecoveryCodes(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	u, err := f.user()
	if err != nil {
		return err
	}
	n, _, err := f.integer("count")
	if err != nil {
		return err
	}
	ri, err := h.Engine.IssueRecoveryCodes(a, u, n)
	if err != nil {
		return err
	}
	return out.Data(ri)
}
