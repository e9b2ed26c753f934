package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
)

// Spec is fleet.yaml: the desired state an admin keeps under version
// control. It holds no secrets; those are in the sealed secrets file.
type Spec struct {
	Version      int                    `yaml:"version"`
	Org          OrgSpec                `yaml:"org"`
	Settings     SettingsSpec           `yaml:"settings"`
	DeviceGroups map[string]DeviceGroup `yaml:"device_groups"`
	Users        map[string]UserSpec    `yaml:"users"`
	Policies     []PolicySpec           `yaml:"policies"`

	file string
	root *yaml.Node
}

// OrgSpec holds the organisation-wide switch.
type OrgSpec struct {
	TOTP bool `yaml:"totp"`
}

// SettingsSpec are the limits; an omitted field keeps jcmfa's default.
type SettingsSpec struct {
	Attempts     *int    `yaml:"attempts"`
	Lockout      *string `yaml:"lockout"` // Go duration; "0": until an admin unlocks
	Skew         *int    `yaml:"skew"`
	EnrollDays   *int    `yaml:"enroll_days"`
	UnlockCode   *bool   `yaml:"unlock_code"`
	UACCode      *bool   `yaml:"uac_code"` // Windows elevation prompts (surface uac)
	InbandEnroll *bool   `yaml:"inband_enroll"`
	// AuthDBDrift: macOS, when jcmfa:verify is gone from the login
	// window's rule: repair (default) or report (the MDM owns the rule).
	AuthDBDrift *string `yaml:"authdb_drift"`
	// TrustedNetworks: CIDR prefixes whose logins are not asked for a
	// code (policy/netrule.go).
	TrustedNetworks []string `yaml:"trusted_networks"`
	// Grace: a Go duration ("10m"; "0" or omitted: off) and the surfaces
	// it spares (policy/grace.go).
	Grace         *string  `yaml:"grace"`
	GraceSurfaces []string `yaml:"grace_surfaces"`
}

// DeviceGroup names devices and switches MFA on for them.
type DeviceGroup struct {
	MFA        bool     `yaml:"mfa"`
	UnlockCode *bool    `yaml:"unlock_code"`
	Devices    []string `yaml:"devices"` // registered device names; "*" is every device
}

// UserSpec is one account: whether MFA is required of it and where it is
// bound (only bound devices receive the account and its secret).
type UserSpec struct {
	Required     *bool    `yaml:"required"` // default true: listing a user means MFA for them
	EnrollDays   int      `yaml:"enroll_days"`
	Forced       bool     `yaml:"forced"`
	Surfaces     []string `yaml:"surfaces"` // scope of the requirement; empty: every surface
	Devices      []string `yaml:"devices"`
	DeviceGroups []string `yaml:"device_groups"`
	// Enrolled: omitted follows the secrets file; true requires a secret
	// there; false withholds it and resets enrollments made on devices.
	Enrolled *bool `yaml:"enrolled"`
}

// PolicySpec is a conditional policy on OS groups, optionally limited to
// device groups.
type PolicySpec struct {
	Name     string   `yaml:"name"`
	All      bool     `yaml:"all"`
	Groups   []string `yaml:"groups"`
	Exclude  []string `yaml:"exclude"`
	Enabled  *bool    `yaml:"enabled"`
	Surfaces []string `yaml:"surfaces"` // scope; empty: every surface
	// TrustedNetworks lift this policy for logins from these prefixes.
	TrustedNetworks []string `yaml:"trusted_networks"`
	DeviceGroups    []string `yaml:"device_groups"`
}

// Problem is one thing wrong with fleet.yaml.
type Problem struct {
	Line  int
	Field string
	What  string
}

// Problems is every problem found; it is the error Load returns.
type Problems struct {
	File string
	List []Problem
}

func (p *Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s), nothing published:", p.File, len(p.List))
	for _, x := range p.List {
		b.WriteString("\n  " + p.File)
		if x.Line > 0 {
			fmt.Fprintf(&b, ":%d", x.Line)
		}
		if x.Field != "" {
			b.WriteString(": " + x.Field)
		}
		b.WriteString(": " + x.What)
	}
	return b.String()
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// LoadSpec reads and validates fleet.yaml against the registered devices
// and the secrets the admin holds (users with a secret). Every problem is
// reported at once, with its line and field.
func LoadSpec(path string, devices map[string]Device, secrets map[string]store.Secret) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSpec(path, raw, devices, secrets)
}

// ParseSpec is LoadSpec on bytes already read.
func ParseSpec(name string, raw []byte, devices map[string]Device, secrets map[string]store.Secret) (*Spec, error) {
	probs := &Problems{File: name}
	s := &Spec{file: name, root: &yaml.Node{}}
	if err := yaml.Unmarshal(raw, s.root); err != nil {
		probs.add(0, "", err.Error())
		return nil, probs
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				if m := yamlLine.FindStringSubmatch(e); m != nil {
					n, _ := strconv.Atoi(m[1])
					probs.add(n, "", m[2])
				} else {
					probs.add(0, "", e)
				}
			}
		} else {
			probs.add(0, "", err.Error())
		}
		return nil, probs
	}
	s.validate(probs, devices, secrets)
	if len(probs.List) > 0 {
		sort.SliceStable(probs.List, func(i, j int) bool { return probs.List[i].Line < probs.List[j].Line })
		return nil, probs
	}
	return s, nil
}

func (p *Problems) add(line int, field, what string) {
	p.List = append(p.List, Problem{Line: line, Field: field, What: what})
}

// line finds the line of a field by its path (map keys; sequence indexes as
// numbers), falling back to the nearest parent that exists.
func (s *Spec) line(path ...string) int {
	n := s.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	best := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					best = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(p); err == nil && i < len(n.Content) {
				next = n.Content[i]
				best = next.Line
			}
		}
		if next == nil {
			return best
		}
		n = next
	}
	return best
}

func (s *Spec) problem(probs *Problems, what string, path ...string) {
	probs.add(s.line(path...), strings.Join(path, "."), what)
}

func (s *Spec) validate(probs *Problems, devices map[string]Device, secrets map[string]store.Secret) {
	if s.Version != 1 {
		s.problem(probs, fmt.Sprintf("must be 1, not %d", s.Version), "version")
	}
	if _, err := s.settings(); err != nil {
		field := "settings"
		// The error's first words name the key (settings() and
		// engine.ValidateSettings write them so).
		for _, k := range [][2]string{{"lockout", "lockout"}, {"authdb drift", "authdb_drift"}, {"grace surfaces", "grace_surfaces"}, {"grace_surfaces", "grace_surfaces"},
			{"grace", "grace"}, {"trusted network", "trusted_networks"}} {
			if strings.HasPrefix(err.Error(), k[0]) {
				field = "settings." + k[1]
				break
			}
		}
		s.problem(probs, err.Error(), strings.Split(field, ".")...)
	}
	checkDevices := func(list []string, path ...string) {
		for i, d := range list {
			if d == "*" {
				continue
			}
			if _, ok := devices[d]; !ok {
				s.problem(probs, fmt.Sprintf("device %q is not registered: run `jcmfa-agent fleet device add %s --key AGE_RECIPIENT DIR`", d, d), append(path, strconv.Itoa(i))...)
			}
		}
	}
	checkGroups := func(list []string, path ...string) {
		for i, g := range list {
			if _, ok := s.DeviceGroups[g]; !ok {
				s.problem(probs, fmt.Sprintf("no device group %q in device_groups", g), append(path, strconv.Itoa(i))...)
			}
		}
	}
	for _, name := range sortedKeys(s.DeviceGroups) {
		checkDevices(s.DeviceGroups[name].Devices, "device_groups", name, "devices")
	}
	for _, name := range sortedKeys(s.Users) {
		u := s.Users[name]
		if err := engine.CheckName(name); err != nil {
			s.problem(probs, err.Error(), "users", name)
		}
		if u.EnrollDays != 0 && (u.EnrollDays < 1 || u.EnrollDays > 365) {
			s.problem(probs, fmt.Sprintf("must be 1 to 365 days (or omitted for the default), not %d", u.EnrollDays), "users", name, "enroll_days")
		}
		if err := policy.CheckSurfaces(u.Surfaces); err != nil {
			s.problem(probs, err.Error(), "users", name, "surfaces")
		}
		checkDevices(u.Devices, "users", name, "devices")
		checkGroups(u.DeviceGroups, "users", name, "device_groups")
		if len(u.Devices) == 0 && len(u.DeviceGroups) == 0 {
			s.problem(probs, "bound to no device: add devices: [NAME] or device_groups: [GROUP]", "users", name)
		}
		if _, has := secrets[name]; u.Enrolled != nil && *u.Enrolled && !has {
			s.problem(probs, "enrolled: true but the secrets file holds no secret for this user: run `jcmfa-agent fleet collect` or `jcmfa-agent fleet secret add`", "users", name, "enrolled")
		}
	}
	for i, p := range s.Policies {
		at := []string{"policies", strconv.Itoa(i)}
		if strings.TrimSpace(p.Name) == "" {
			s.problem(probs, "a policy needs a name", at...)
		}
		if p.All == (len(p.Groups) > 0) {
			s.problem(probs, "give either all: true or groups: [a, b], not both or neither", at...)
		}
		for j, g := range slices.Concat(p.Groups, p.Exclude) {
			if err := engine.CheckName(g); err != nil {
				s.problem(probs, "group: "+err.Error(), append(at, "groups", strconv.Itoa(j))...)
			}
		}
		if err := policy.CheckSurfaces(p.Surfaces); err != nil {
			s.problem(probs, err.Error(), append(at, "surfaces")...)
		}
		if err := policy.CheckNetworks(p.TrustedNetworks); err != nil {
			s.problem(probs, err.Error(), append(at, "trusted_networks")...)
		}
		checkGroups(p.DeviceGroups, append(at, "device_groups")...)
		for j, q := range s.Policies[:i] {
			if q.Name == p.Name {
				s.problem(probs, fmt.Sprintf("the same name as policy %d", j), append(at, "name")...)
			}
		}
	}
}

// canonSurfaces is a validated scope in policy.Surfaces order.
func canonSurfaces(list []string) []string {
	out, _ := policy.ParseSurfaces(strings.Join(list, ","))
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// settings resolves the org-wide settings.
func (s *Spec) settings() (store.Settings, error) {
	st := store.DefaultSettings()
	st.OrgTOTP = s.Org.TOTP
	c := s.Settings
	if c.Attempts != nil {
		st.AttemptLimit = *c.Attempts
	}
	if c.Lockout != nil {
		if *c.Lockout == "0" {
			st.Lockout = 0
		} else {
			d, err := time.ParseDuration(*c.Lockout)
			if err != nil {
				return st, fmt.Errorf("lockout must be a duration like 15m or 1h, or \"0\" for until an admin unlocks; not %q", *c.Lockout)
			}
			st.Lockout = d
		}
	}
	if c.Skew != nil {
		st.Skew = *c.Skew
	}
	if c.EnrollDays != nil {
		st.EnrollDays = *c.EnrollDays
	}
	if c.UnlockCode != nil {
		st.UnlockRequiresCode = *c.UnlockCode
	}
	if c.UACCode != nil {
		st.UACRequiresCode = *c.UACCode
	}
	if c.InbandEnroll != nil {
		st.InBandEnrollment = *c.InbandEnroll
	}
	if c.AuthDBDrift != nil {
		st.AuthDBDrift = *c.AuthDBDrift
	}
	st.TrustedNetworks = c.TrustedNetworks
	if c.Grace != nil && *c.Grace != "0" {
		d, err := time.ParseDuration(*c.Grace)
		if err != nil {
			return st, fmt.Errorf("grace must be a duration like 10m or 1h, or \"0\" for off; not %q", *c.Grace)
		}
		st.Grace = d
	}
	st.GraceSurfaces = canonSurfaces(c.GraceSurfaces)
	if err := policy.CheckSurfaces(c.GraceSurfaces); err != nil {
		return st, fmt.Errorf("grace_surfaces: %w", err)
	}
	return st, engine.ValidateSettings(st)
}

// groupsOf lists the device groups a device is in.
func (s *Spec) groupsOf(device string) []string {
	var out []string
	for _, g := range sortedKeys(s.DeviceGroups) {
		ds := s.DeviceGroups[g].Devices
		if slices.Contains(ds, device) || slices.Contains(ds, "*") {
			out = append(out, g)
		}
	}
	return out
}

// Bound reports whether the user is bound to the device (directly or through
// one of its device groups).
func (u UserSpec) bound(device string, groups []string) bool {
	if slices.Contains(u.Devices, device) || slices.Contains(u.Devices, "*") {
		return true
	}
	for _, g := range u.DeviceGroups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// ForDevice is the configuration of one device: the settings, the users
// bound to it (with their secrets and recovery sets) and the policies that apply to it.
// Device MFA is on if any of its device groups switches it on.
func (s *Spec) ForDevice(device string, secrets map[string]store.Secret, recovery map[string]store.FleetRecovery, resetAt map[string]time.Time) (Payload, error) {
	st, err := s.settings()
	if err != nil {
		return Payload{}, err
	}
	groups := s.groupsOf(device)
	for _, g := range groups {
		dg := s.DeviceGroups[g]
		st.DeviceMFA = st.DeviceMFA || dg.MFA
		if dg.UnlockCode != nil && *dg.UnlockCode {
			st.UnlockRequiresCode = true
		}
	}
	p := Payload{Format: BundleFormat, Device: device, Settings: st}
	for _, name := range sortedKeys(s.Users) {
		u := s.Users[name]
		if !u.bound(device, groups) {
			continue
		}
		su := store.User{Name: name, Required: u.Required == nil || *u.Required, EnrollDays: u.EnrollDays, Forced: u.Forced, Surfaces: canonSurfaces(u.Surfaces)}
		withheld := u.Enrolled != nil && !*u.Enrolled
		if sec, ok := secrets[name]; ok && !withheld {
			su.TOTP = &sec
		}
		// The fleet's recovery set goes with the user, sealed to the
		// device with the rest of the payload; a withheld (reset) user
		// gets none, as a reset revokes codes on a device (R3).
		if rs, ok := recovery[name]; ok && !withheld {
			// Devices refuse a bad set (store.Bundle.CheckRecovery);
			// the admin hears it first, here.
			if err := rs.Check(); err != nil {
				return Payload{}, fmt.Errorf("%s: %s: %w; make a new set: jcmfa-agent fleet recovery-codes add %s DIR", secretsFile, name, err, name)
			}
			su.Recovery = &rs
		}
		if withheld {
			if p.ResetBefore == nil {
				p.ResetBefore = map[string]time.Time{}
			}
			p.ResetBefore[name] = resetAt[name]
		}
		p.Users = append(p.Users, su)
	}
	for i, ps := range s.Policies {
		if len(ps.DeviceGroups) > 0 && !slices.ContainsFunc(ps.DeviceGroups, func(g string) bool { return slices.Contains(groups, g) }) {
			continue
		}
		p.Policies = append(p.Policies, store.Policy{ID: "f" + strconv.Itoa(i+1), Name: ps.Name,
			Enabled: ps.Enabled == nil || *ps.Enabled, AllUsers: ps.All, Groups: ps.Groups, Exclude: ps.Exclude, Surfaces: canonSurfaces(ps.Surfaces), TrustedNetworks: ps.TrustedNetworks})
	}
	return p, nil
}
