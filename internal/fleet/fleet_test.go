package fleet

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
)

func TestSpecProblemsNameLineAndField(t *testing.T) {
	id, _ := NewIdentity()
	devices := map[string]Device{"web1": {Recipient: id.Recipient().String()}}
	cases := []struct {
		name, yaml string
		want       []string // substrings, in order of line
	}{
		{"UnknownField", "version: 1\nusers:\n  alice:\n    devices: [web1]\n    colour: blue\n",
			[]string{"f.yaml:5: field colour not found"}},
		{"EverythingAtOnce", `version: 2
settings:
  lockout: soon
device_groups:
  servers:
    devices: [web1, web9]
users:
  alice:
    devices: [web1]
    enroll_days: 400
    enrolled: true
  bob: {}
policies:
  - name: p
    all: true
    groups: [x]
    device_groups: [laptops]
`, []string{
			"f.yaml:1: version: must be 1, not 2",
			"f.yaml:3: settings.lockout: lockout must be a duration",
			"f.yaml:6: device_groups.servers.devices.1: device \"web9\" is not registered",
			"f.yaml:10: users.alice.enroll_days: must be 1 to 365",
			"f.yaml:11: users.alice.enrolled: enrolled: true but the secrets file holds no secret",
			"f.yaml:12: users.bob: bound to no device",
			"f.yaml:14: policies.0: give either all: true or groups",
			"f.yaml:17: policies.0.device_groups.0: no device group \"laptops\"",
		}},
	}
	cases = append(cases, struct {
		name, yaml string
		want       []string
	}{"AuthDBDrift", "version: 1\nsettings:\n  authdb_drift: off\n", []string{"f.yaml:3: settings.authdb_drift: authdb drift must be repair or report, not \"off\""}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSpec("f.yaml", []byte(c.yaml), devices, nil)
			var p *Problems
			if !errors.As(err, &p) {
				t.Fatalf("err = %v", err)
			}
			msg := err.Error()
			at := 0
			for _, w := range c.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("missing or out of order %q in:\n%s", w, msg)
				}
				at += i
			}
		})
	}
}

func TestBundleOpensOnlyOnItsDevice(t *testing.T) {
	a, _ := NewIdentity()
	b, _ := NewIdentity()
	p := Payload{Format: BundleFormat, Device: "a", Recipient: a.Recipient().String(), Serial: 1,
		Users: []store.User{{Name: "alice", TOTP: &store.Secret{Key: "SECRETSECRET"}}}}
	sealed, err := p.Seal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "alice") || strings.Contains(string(sealed), "SECRETSECRET") {
		t.Fatal("the bundle shows user names or secrets in clear")
	}
	if _, err := OpenBundle(sealed, b); !errors.Is(err, ErrNotForThisDevice) {
		t.Fatalf("B opened A's bundle: %v", err)
	}
	got, err := OpenBundle(sealed, a)
	if err != nil || got.Users[0].TOTP.Key != "SECRETSECRET" {
		t.Fatalf("A: %+v %v", got, err)
	}
}

func TestForgedEnrollmentIsRefused(t *testing.T) {
	dev, _ := NewIdentity()
	attacker, _ := NewIdentity()
	admin, _ := NewIdentity()
	e := Enrollment{User: "alice", Secret: store.Secret{Key: "K"}, Created: time.Now()}
	sealed, _ := SealEnrollment(e, dev, []string{admin.Recipient().String()})
	if got, err := openEnrollment(sealed, admin); err != nil || got.Device != dev.Recipient().String() {
		t.Fatalf("genuine enrollment: %+v %v", got, err)
	}
	// The attacker knows the device's public key and claims to be it.
	forged, _ := SealEnrollment(e, attacker, []string{admin.Recipient().String()})
	f, _ := openEnrollment(forged, admin)
	f.Device = dev.Recipient().String()
	k, _ := macKey(attacker, admin.Recipient().String())
	f.MACs = map[string]string{admin.Recipient().String(): mac(k, f.body())}
	// A hand-made file naming the device, MACed with the attacker's key.
	if _, err := openEnrollment(sealWithout(t, f, admin.Recipient().String()), admin); err == nil {
		t.Fatal("an enrollment MACed by another key was accepted as the device's")
	}
}

// sealWithout encrypts e as is (no re-MAC), as an attacker would.
func sealWithout(t *testing.T, e Enrollment, admin string) []byte {
	t.Helper()
	var buf strings.Builder
	r, _ := ParseRecipient(admin)
	w, err := ageEncrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	jsonEncode(w, e)
	w.Close()
	return []byte(buf.String())
}

// settings.authdb_drift reaches the device's settings; omitted, the
// device repairs (the default).
func TestSpecAuthDBDrift(t *testing.T) {
	for yaml, want := range map[string]string{"": "repair", "settings:\n  authdb_drift: report\n": "report"} {
		s, err := ParseSpec("f.yaml", []byte("version: 1\n"+yaml), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.settings()
		if err != nil || st.AuthDBDrift != want {
			t.Fatalf("%q: %q %v", yaml, st.AuthDBDrift, err)
		}
	}
}
