package policy

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
)

// Grace windows (rows G1-G12 of docs/policy.md): after an allowed code for
// an account from an origin, the same account from the same origin on a
// listed surface is not asked again until the window ends.
//
// An origin is where the login comes from as the daemon can tell it: the
// remote host as an IP address (RHostAddr: never a name), or for a local
// login the kernel's login session of the process that asked, with its
// tty (the engine derives it; docs/policy.md says how). A login with
// neither has no origin and never uses or opens a window.
//
// A window is living data kept in the account's sealed state record
// (store.State.Grace), never in a bundle. It holds only while everything
// it was opened under still holds, checked at each use rather than by
// finding every window to delete:
//   - the same secret (a new secret: admin enroll, self-enroll, in-band,
//     a bundle's new secret), SecretID;
//   - the same settings (any settings change, by the CLI or a bundle),
//     SettingsID;
//   - opened after the store's crash fence (a crash may have lost a deny
//     that would have cleared it; store/fence.go);
//   - not in the future (a clock set back).
// A deny for the account, a lockout (which is a deny) and `user reset`
// clear the account's windows outright (the engine).

// GraceCap bounds one account's windows: opening one more drops the
// oldest. With N accounts the store holds at most N·GraceCap windows,
// each under 200 bytes.
const GraceCap = 8

// DefaultGraceSurfaces are where a window applies when the admin names
// none: the two surfaces whose origin the daemon can tell.
var DefaultGraceSurfaces = []string{SurfaceSSH, SurfaceSudo}

// MaxGrace bounds the window length an admin may set.
const MaxGrace = 24 * time.Hour

// GraceSurfaces are the surfaces a window applies on under s.
func GraceSurfaces(s store.Settings) []string {
	if len(s.GraceSurfaces) > 0 {
		return s.GraceSurfaces
	}
	return DefaultGraceSurfaces
}

// SecretID names the secret a window was opened with; it changes with
// every new secret.
func SecretID(sec *store.Secret) string {
	if sec == nil {
		return ""
	}
	h := fnv.New64a()
	h.Write([]byte(sec.Key))
	h.Write([]byte(strconv.FormatInt(sec.EnrolledAt.UnixNano(), 10)))
	return strconv.FormatUint(h.Sum64(), 36)
}

// SettingsID names the settings a window was opened under; it changes
// with any change to them.
func SettingsID(s store.Settings) string {
	raw, _ := json.Marshal(s)
	h := fnv.New64a()
	h.Write(raw)
	return strconv.FormatUint(h.Sum64(), 36)
}

// graceWindow returns the window that spares this login its code, if one
// does: in.Origin and in.Surface set, grace on, surface listed.
func graceWindow(in Input) (store.GraceWindow, bool) {
	s := in.Settings
	if s.Grace <= 0 || in.Origin == "" || len(in.State.Grace) == 0 || !slices.Contains(GraceSurfaces(s), in.Surface) {
		return store.GraceWindow{}, false
	}
	for _, w := range in.State.Grace {
		// The two ids cost a JSON encoding and a hash: only for the
		// window of this origin (one at most: OpenGrace replaces).
		if w.Origin == in.Origin && w.At.After(in.Fence) && !w.At.After(in.Now) && in.Now.Before(w.At.Add(s.Grace)) &&
			w.Secret == SecretID(in.User.TOTP) && w.Settings == SettingsID(s) {
			return w, true
		}
	}
	return store.GraceWindow{}, false
}

// GraceDetail is the audit detail of a grace skip: the earlier login.
func GraceDetail(w store.GraceWindow) string {
	return fmt.Sprintf("within the grace window of the code allowed at %s on %s from %s", w.At.UTC().Format(time.RFC3339), w.Surface, w.Origin)
}

// OpenGrace returns st with a window opened at now for origin, after an
// allowed code on surface: expired windows (and the oldest beyond
// GraceCap) are dropped, and an earlier window for the same origin is
// replaced. Grace off or no origin: st unchanged.
func OpenGrace(st store.State, in Input, origin, surface string) store.State {
	s := in.Settings
	if s.Grace <= 0 || origin == "" || in.User.TOTP == nil {
		return st
	}
	w := store.GraceWindow{Origin: origin, Surface: surface, At: in.Now, Secret: SecretID(in.User.TOTP), Settings: SettingsID(s)}
	kept := []store.GraceWindow{w}
	for _, old := range st.Grace {
		if old.Origin != origin && in.Now.Before(old.At.Add(s.Grace)) && !old.At.After(in.Now) && len(kept) < GraceCap {
			kept = append(kept, old)
		}
	}
	st.Grace = kept // newest first: the oldest falls off at the cap
	return st
}
