package daemon

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// Handler turns the channel's requests into engine calls.
type Handler struct {
	Engine *engine.Engine
	Fleet  *FleetAgent // nil: no fleet commands (tests of the channel alone)
	// AuthDB is the macOS login-window drift watch; nil elsewhere.
	AuthDB *authdb.Watcher
}

// Login implements ipc.Handler.
func (h *Handler) Login(ctx context.Context, req engine.LoginRequest, conv engine.Conversation) engine.Verdict {
	return h.Engine.Login(ctx, req, conv)
}

// Enroll implements ipc.Handler.
func (h *Handler) Enroll(ctx context.Context, req engine.LoginRequest, conv engine.Conversation) engine.Verdict {
	return h.Engine.SelfEnroll(ctx, req, conv)
}

func actorOf(p ipc.Peer) engine.Actor {
	if p.UID < 0 {
		return "admin"
	}
	return engine.Actor("uid:" + strconv.Itoa(p.UID))
}

// command is one admin command: fields in, rows out.
type command func(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error

var commands = map[string]command{
	"org.totp":            cmdOrgTOTP,
	"device.mfa":          cmdDeviceMFA,
	"settings.get":        cmdSettingsGet,
	"settings.set":        cmdSettingsSet,
	"user.require":        cmdUserRequire,
	"user.unrequire":      cmdUserUnrequire,
	"user.enroll":         cmdUserEnroll,
	"user.status":         cmdUserStatus,
	"user.reset":          cmdUserReset,
	"user.unlock":         cmdUserUnlock,
	"user.remove":         cmdUserRemove,
	"user.recovery-codes": cmdUserRecoveryCodes,
	"users.list":          cmdUsersList,
	"policy.add":          cmdPolicyAdd,
	"policy.list":         cmdPolicyList,
	"policy.remove":       cmdPolicyRemove,
	"policy.enable":       cmdPolicyEnable,
	"audit":               cmdAudit,
	"authdb.status":       cmdAuthDBStatus,
}

// Command implements ipc.Handler.
func (h *Handler) Command(ctx context.Context, peer ipc.Peer, name string, f map[string]string, out *ipc.Reply) error {
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q", name)
	}
	// Logins are answered before their commit (store.Record): let the
	// admin see every login answered so far (audit, status, listings).
	h.Engine.Store.Settle()
	// An admin who has just added or renamed an account (useradd -o,
	// a directory change) and now requires it must not meet a stale
	// answer about that name.
	h.Engine.ForgetAccounts()
	a := actorOf(peer)
	if f["local_override"] == "1" {
		a = a.LocalOverride()
	}
	return cmd(h, a, fields(f), out)
}

// fields reads typed values out of a command's key=value fields.
type fields map[string]string

func (f fields) user() (string, error) {
	u := f["user"]
	if u == "" {
		return "", fmt.Errorf("a user name is required")
	}
	return u, engine.CheckName(u)
}

func (f fields) boolean(k string) (v, set bool, err error) {
	s, ok := f[k]
	if !ok {
		return false, false, nil
	}
	switch s {
	case "1", "true", "on", "yes":
		return true, true, nil
	case "0", "false", "off", "no":
		return false, true, nil
	}
	return false, true, fmt.Errorf("%s must be 1 or 0, not %q", k, s)
}

func (f fields) integer(k string) (v int, set bool, err error) {
	s, ok := f[k]
	if !ok {
		return 0, false, nil
	}
	v, err = strconv.Atoi(s)
	if err != nil {
		return 0, true, fmt.Errorf("%s must be a whole number, not %q", k, s)
	}
	return v, true, nil
}

func (f fields) list(k string) []string {
	var out []string
	for _, s := range strings.Split(f[k], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func toggle(h *Handler, a engine.Actor, f fields, out *ipc.Reply, what string, set func(*store.Settings, bool)) error {
	on, ok, err := f.boolean("enable")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("enable=1 or enable=0 is required")
	}
	s, err := h.Engine.UpdateSettings(a, fmt.Sprintf("%s=%v", what, on), func(s *store.Settings) { set(s, on) })
	if err != nil {
		return err
	}
	return out.Data(s)
}

func cmdOrgTOTP(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	return toggle(h, a, f, out, "org_totp", func(s *store.Settings, on bool) { s.OrgTOTP = on })
}

func cmdDeviceMFA(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	return toggle(h, a, f, out, "device_mfa", func(s *store.Settings, on bool) { s.DeviceMFA = on })
}

func cmdSettingsGet(h *Handler, _ engine.Actor, _ fields, out *ipc.Reply) error {
	s, err := h.Engine.Settings()
	if err != nil {
		return err
	}
	return out.Data(s)
}

func cmdSettingsSet(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	var edits []func(*store.Settings)
	var what []string
	for _, k := range []string{"attempts", "skew", "enroll_days"} {
		v, ok, err := f.integer(k)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		what = append(what, fmt.Sprintf("%s=%d", k, v))
		switch k {
		case "attempts":
			edits = append(edits, func(s *store.Settings) { s.AttemptLimit = v })
		case "skew":
			edits = append(edits, func(s *store.Settings) { s.Skew = v })
		case "enroll_days":
			edits = append(edits, func(s *store.Settings) { s.EnrollDays = v })
		}
	}
	if l, ok := f["lockout"]; ok {
		d, err := time.ParseDuration(l)
		if l == "0" {
			d, err = 0, nil
		}
		if err != nil {
			return fmt.Errorf("lockout must be a duration like 15m or 1h, or 0 for until an admin unlocks; not %q", l)
		}
		what = append(what, "lockout="+d.String())
		edits = append(edits, func(s *store.Settings) { s.Lockout = d })
	}
	if m, ok := f["authdb_drift"]; ok {
		// Checked again, with the rest, by engine.ValidateSettings.
		what = append(what, "authdb_drift="+m)
		edits = append(edits, func(s *store.Settings) { s.AuthDBDrift = m })
	}
	for _, k := range []string{"unlock", "uac", "inband"} {
		v, ok, err := f.boolean(k)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		what = append(what, fmt.Sprintf("%s=%v", k, v))
		switch k {
		case "unlock":
			edits = append(edits, func(s *store.Settings) { s.UnlockRequiresCode = v })
		case "uac":
			edits = append(edits, func(s *store.Settings) { s.UACRequiresCode = v })
		default:
			edits = append(edits, func(s *store.Settings) { s.InBandEnrollment = v })
		}
	}
	if g, ok := f["grace"]; ok {
		d, err := time.ParseDuration(g)
		if g == "0" {
			d, err = 0, nil
		}
		if err != nil {
			return fmt.Errorf("grace must be a duration like 10m or 1h, or 0 for off; not %q", g)
		}
		what = append(what, "grace="+d.String())
		edits = append(edits, func(s *store.Settings) { s.Grace = d })
	}
	if l, ok := f["grace_surfaces"]; ok {
		sf, err := policy.ParseSurfaces(l)
		if err != nil {
			return fmt.Errorf("grace surfaces: %w", err)
		}
		what = append(what, "grace_surfaces="+strings.Join(sf, ","))
		edits = append(edits, func(s *store.Settings) { s.GraceSurfaces = sf })
	}
	if l, ok := f["trusted_networks"]; ok {
		nets, err := policy.ParseNetworks(l)
		if err != nil {
			return err
		}
		what = append(what, "trusted_networks="+strings.Join(nets, ","))
		edits = append(edits, func(s *store.Settings) { s.TrustedNetworks = nets })
	}
	if len(edits) == 0 {
		return cmdSettingsGet(h, a, f, out)
	}
	s, err := h.Engine.UpdateSettings(a, strings.Join(what, " "), func(s *store.Settings) {
		for _, e := range edits {
			e(s)
		}
	})
	if err != nil {
		return err
	}
	return out.Data(s)
}

func cmdUserRequire(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	u, err := f.user()
	if err != nil {
		return err
	}
	days, _, err := f.integer("days")
	if err != nil {
		return err
	}
	forced, _, err := f.boolean("forced")
	if err != nil {
		return err
	}
	pre, _, err := f.boolean("pre")
	if err != nil {
		return err
	}
	surfaces, err := policy.ParseSurfaces(f["surfaces"])
	if err != nil {
		return err
	}
	row, warnings, err := h.Engine.RequireUser(a, u, engine.RequireOptions{EnrollDays: days, Forced: forced, Pre: pre, Surfaces: surfaces})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		out.Info("warning: " + w)
	}
	return out.Data(row)
}

func userRowCmd(fn func(*engine.Engine, engine.Actor, string) (engine.UserRow, error)) command {
	return func(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
		u, err := f.user()
		if err != nil {
			return err
		}
		row, err := fn(h.Engine, a, u)
		if err != nil {
			return err
		}
		return out.Data(row)
	}
}

var (
	cmdUserUnrequire = userRowCmd((*engine.Engine).UnrequireUser)
	cmdUserReset     = userRowCmd((*engine.Engine).ResetUser)
	cmdUserUnlock    = userRowCmd((*engine.Engine).UnlockUser)
	cmdUserStatus    = userRowCmd(func(e *engine.Engine, _ engine.Actor, u string) (engine.UserRow, error) { return e.UserStatus(u) })
)

func cmdUserRemove(h *Handler, a engine.Actor, f fields, _ *ipc.Reply) error {
	u, err := f.user()
	if err != nil {
		return err
	}
	return h.Engine.RemoveUser(a, u)
}

// EnrollResult is what `user enroll` returns: the secret is shown once.
type EnrollResult struct {
	User      string `json:"user"`
	Secret    string `json:"secret"`
	URI       string `json:"uri"`
	Algorithm string `json:"algorithm"`
	Digits    int    `json:"digits"`
	Period    int    `json:"period"`
}

func cmdUserEnroll(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	u, err := f.user()
	if err != nil {
		return err
	}
	p := totp.Default
	if alg := f["algorithm"]; alg != "" {
		p.Algorithm = strings.ToUpper(alg)
	}
	if d, ok, err := f.integer("digits"); err != nil {
		return err
	} else if ok {
		p.Digits = d
	}
	if d, ok, err := f.integer("period"); err != nil {
		return err
	} else if ok {
		p.Period = d
	}
	ns, warnings, err := h.Engine.EnrollUser(a, u, p)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		out.Info("warning: " + w)
	}
	for _, row := range ns.QR {
		out.Info(row)
	}
	return out.Data(EnrollResult{User: u, Secret: ns.Secret.Key, URI: ns.URI,
		Algorithm: ns.Secret.Algorithm, Digits: ns.Secret.Digits, Period: ns.Secret.Period})
}

func cmdUsersList(h *Handler, _ engine.Actor, _ fields, out *ipc.Reply) error {
	return h.Engine.ListUsers(func(r engine.UserRow) error { return out.Data(r) })
}

func cmdPolicyAdd(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	all, _, err := f.boolean("all")
	if err != nil {
		return err
	}
	enabled, set, err := f.boolean("enabled")
	if err != nil {
		return err
	}
	if !set {
		enabled = true
	}
	surfaces, err := policy.ParseSurfaces(f["surfaces"])
	if err != nil {
		return err
	}
	nets, err := policy.ParseNetworks(f["trusted_networks"])
	if err != nil {
		return err
	}
	p, err := h.Engine.AddPolicy(a, store.Policy{Name: f["name"], Enabled: enabled, AllUsers: all,
		Groups: f.list("groups"), Exclude: f.list("exclude"), Surfaces: surfaces, TrustedNetworks: nets})
	if err != nil {
		return err
	}
	return out.Data(p)
}

func cmdPolicyList(h *Handler, _ engine.Actor, _ fields, out *ipc.Reply) error {
	ps, err := h.Engine.Policies()
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := out.Data(p); err != nil {
			return err
		}
	}
	return nil
}

func cmdPolicyRemove(h *Handler, a engine.Actor, f fields, _ *ipc.Reply) error {
	if f["id"] == "" {
		return fmt.Errorf("a policy id is required (see `jcmfa-agent policy list`)")
	}
	return h.Engine.RemovePolicy(a, f["id"])
}

func cmdPolicyEnable(h *Handler, a engine.Actor, f fields, out *ipc.Reply) error {
	on, ok, err := f.boolean("enable")
	if err != nil {
		return err
	}
	if !ok || f["id"] == "" {
		return fmt.Errorf("id= and enable=1|0 are required")
	}
	p, err := h.Engine.EnablePolicy(a, f["id"], on)
	if err != nil {
		return err
	}
	return out.Data(p)
}

func cmdAudit(h *Handler, _ engine.Actor, f fields, out *ipc.Reply) error {
	n, ok, err := f.integer("n")
	if err != nil {
		return err
	}
	if !ok {
		n = 50
	}
	if n < 1 {
		return fmt.Errorf("n must be at least 1")
	}
	evs, err := h.Engine.Audit(n)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		if err := out.Data(ev); err != nil {
			return err
		}
	}
	return nil
}
