package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// untilNextStep is how long, from now, until the authenticator app shows a
// code of a step above last, the highest step this account has used: the
// first code the daemon will take again. It is the start of step last+1;
// zero when that step has begun already (the code typed was an old one and
// the app shows a usable code now).
func untilNextStep(now time.Time, p totp.Params, last int64) time.Duration {
	period := p.Period
	if period <= 0 {
		period = totp.Default.Period
	}
	next := time.Unix((last+1)*int64(period), 0)
	if d := next.Sub(now); d > 0 {
		return d
	}
	return 0
}

// replayMessage is what a person is told after typing a code that was
// already used, typically in a second session opened within the same 30 s:
// how long until the app shows a code that works (rounded up, so waiting
// that long always suffices).
func replayMessage(wait time.Duration) string {
	if wait <= 0 {
		return "That code was already used. Enter the code your app shows now."
	}
	s := ceilSeconds(wait)
	unit := "seconds"
	if s == 1 {
		unit = "second"
	}
	return fmt.Sprintf("That code was already used. The next code appears in %d %s: wait for it and try again.", s, unit)
}

func ceilSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// codeCheck is what one TOTP answer is, against the account's secret, its
// last used step and the fence after an unclean restart: the one reading
// both a login (checkCode) and the person's proof for new recovery codes
// (RecoveryCodes) act on.
type codeCheck struct {
	step     int64         // the step accepted (err == nil)
	err      error         // nil, totp.ErrReplayed, ErrFormat, ErrWrong, or a failure
	byFence  bool          // a valid code refused only by the fence (row D13)
	nextCode time.Duration // a replay: until the app shows a code that works
}

func (e *Engine) checkTOTP(in policy.Input, answer string, now time.Time) codeCheck {
	sec := in.User.TOTP
	p := paramsOf(sec)
	last := max(in.State.LastStep, fenceStep(e.Store.Fence(), p, in.Settings.Skew))
	step, err := totp.Verify(sec.Key, answer, now, p, in.Settings.Skew, last)
	c := codeCheck{step: step, err: err}
	if errors.Is(err, totp.ErrReplayed) {
		c.byFence = last > in.State.LastStep && fenced(sec.Key, answer, now, p, in.Settings.Skew, in.State.LastStep)
		// Past last, not only the used step: under the fence the next
		// code that works is the first one after it.
		c.nextCode = untilNextStep(now, p, last)
	}
	return c
}
