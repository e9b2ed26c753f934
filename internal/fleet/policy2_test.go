package fleet

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSpecCarriesScopesNetworksAndGrace: the issue 17 keys of fleet.yaml
// reach the device's payload in canonical form, and bad values are
// problems with their line and field.
func TestSpecCarriesScopesNetworksAndGrace(t *testing.T) {
	id, _ := NewIdentity()
	devices := map[string]Device{"web1": {Recipient: id.Recipient().String()}}
	good := `version: 1
org:
  totp: true
settings:
  trusted_networks: [10.20.0.0/16]
  grace: 10m
  grace_surfaces: [sudo, ssh]
device_groups:
  servers:
    mfa: true
    devices: [web1]
users:
  alice:
    devices: [web1]
    surfaces: [rdp, ssh]
policies:
  - name: ops
    all: true
    surfaces: [sudo]
    trusted_networks: [192.168.10.0/24]
`
	s, err := ParseSpec("f.yaml", []byte(good), devices, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.ForDevice("web1", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Settings
	if st.Grace != 10*time.Minute || !slices.Equal(st.GraceSurfaces, []string{"ssh", "sudo"}) || !slices.Equal(st.TrustedNetworks, []string{"10.20.0.0/16"}) {
		t.Fatalf("settings %+v", st)
	}
	if !slices.Equal(p.Users[0].Surfaces, []string{"ssh", "rdp"}) {
		t.Fatalf("user surfaces %v", p.Users[0].Surfaces)
	}
	if !slices.Equal(p.Policies[0].Surfaces, []string{"sudo"}) || !slices.Equal(p.Policies[0].TrustedNetworks, []string{"192.168.10.0/24"}) {
		t.Fatalf("policy %+v", p.Policies[0])
	}

	bad := strings.NewReplacer("grace: 10m", "grace: soon", "surfaces: [rdp, ssh]", "surfaces: [rdp, telnet]",
		"[192.168.10.0/24]", "[192.168.10.1/24]").Replace(good)
	_, err = ParseSpec("f.yaml", []byte(bad), devices, nil)
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err %v", err)
	}
	for _, w := range []string{"f.yaml:6: settings.grace: grace must be a duration", "users.alice.surfaces: unknown surface \"telnet\"",
		"policies.0.trusted_networks: trusted network \"192.168.10.1/24\" has host bits set"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%s", w, err)
		}
	}
}
