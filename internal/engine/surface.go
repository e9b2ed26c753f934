package engine

import (
	"fmt"
	"strings"

	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
)

// checkSurface refuses a login whose surface is not one the policy knows
// (policy.Surfaces). The surface is the client's word and decides which
// scoped requirements apply: a word no scope names would otherwise read
// as "not in scope" and skip the code, so an unknown one is a protocol
// error (deny, reason `protocol`, audited), never a guess.
func (e *Engine) checkSurface(req *LoginRequest, conv Conversation) *Verdict {
	if policy.KnownSurface(req.Surface) {
		return nil
	}
	v := Verdict{Deny, "protocol"}
	conv.Error(fmt.Sprintf("The login agent does not know the login surface %q (known: %s). Ask your administrator to check the login module's surface= setting.",
		truncate(req.Surface, 32), strings.Join(policy.Surfaces, ", ")))
	req.Surface = truncate(req.Surface, 64) // the sinks escape it
	req.Typed, req.User = truncate(req.User, 64), ""
	ev := loginEvent(*req, v)
	ev.Detail = "unknown surface"
	err := e.Store.Record("", func(tx *store.Tx) error { return e.audit(tx, ev) })
	e.logEvent(ev, err)
	return &v
}
