package policy

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
)

// TestTrustedNetworkMatch is rows N3 and N4: only an IP literal inside a
// listed network matches.
func TestTrustedNetworkMatch(t *testing.T) {
	list := []string{"10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "fe80::/10"}
	cases := []struct {
		rhost, want string
	}{
		{"10.1.2.3", "10.0.0.0/8"},
		{"192.168.1.200", "192.168.1.0/24"},
		{"192.168.2.1", ""},
		{"2001:db8::5", "2001:db8::/32"},
		{"2001:DB8::5", "2001:db8::/32"},
		{"::ffff:10.9.9.9", "10.0.0.0/8"}, // N4: IPv4-mapped is its IPv4 address
		{"::ffff:192.168.2.1", ""},
		{"fe80::1%eth0", ""}, // N4: a zone never matches
		{"fe80::1", "fe80::/10"},
		{"", ""},                // N3: no remote host (console, sudo, Windows, macOS)
		{"host.example", ""},    // N3: a name never matches (sshd UseDNS yes)
		{"10.1.2.3.nip.io", ""}, // N3
		{"010.1.2.3", ""},       // leading zeros: octal to some parsers
		{" 10.1.2.3", ""},
		{"10.1.2.3 ", ""},
		{"10.1.2.3:22", ""},
		{"[2001:db8::5]", ""},
		{"10.1.2.3/32", ""},
		{"localhost", ""},
	}
	for _, c := range cases {
		if got := TrustedNetwork(list, c.rhost); got != c.want {
			t.Errorf("TrustedNetwork(%q) = %q, want %q", c.rhost, got, c.want)
		}
	}
	if TrustedNetwork(nil, "10.1.2.3") != "" {
		t.Error("an empty list matched")
	}
}

// TestParseNetworks is row N6: what an admin may list.
func TestParseNetworks(t *testing.T) {
	got, err := ParseNetworks(" 10.0.0.0/8 , 2001:DB8::/32")
	if err != nil || strings.Join(got, ",") != "10.0.0.0/8,2001:db8::/32" {
		t.Fatalf("ParseNetworks = %v, %v", got, err)
	}
	if got, err := ParseNetworks(""); err != nil || got != nil {
		t.Fatalf("empty list: %v %v", got, err)
	}
	for bad, hint := range map[string]string{
		"10.0.0.5/8":          "did you mean 10.0.0.0/8",
		"10.0.0.5":            "write 10.0.0.5/32",
		"::ffff:10.0.0.0/104": "IPv4-mapped",
		"fe80::/10%eth0":      "not a CIDR prefix",
		"office":              "not a CIDR prefix",
		"10.0.0.0/33":         "not a CIDR prefix",
		"10.0.0.0/8,":         "not a CIDR prefix",
	} {
		if _, err := ParseNetworks(bad); err == nil || !strings.Contains(err.Error(), hint) {
			t.Errorf("ParseNetworks(%q) = %v, want an error saying %q", bad, err, hint)
		}
	}
}

// TestTrustedNetworkRows is rows N1, N2, N5, N7 of docs/policy.md.
func TestTrustedNetworkRows(t *testing.T) {
	base := func() Input {
		return Input{Settings: on(), Now: now, HasUser: true, User: store.User{Name: "alice", Required: true, TOTP: secret}, RHost: "10.1.2.3"}
	}
	rows := []struct {
		id     string
		edit   func(*Input)
		want   Action
		reason string
	}{
		{"N1", func(in *Input) { in.Settings.TrustedNetworks = []string{"10.0.0.0/8"} }, Skip, "trusted-network"},
		{"N1", func(in *Input) { in.Settings.TrustedNetworks = []string{"192.168.0.0/16"} }, Prompt, ""},
		{"N1", func(in *Input) { in.Settings.TrustedNetworks = []string{"10.0.0.0/8"}; in.RHost = "" }, Prompt, ""},
		// N2: a policy's networks lift that policy alone.
		{"N2", func(in *Input) {
			in.User.Required = false
			in.Policies = []store.Policy{{ID: "1", Enabled: true, AllUsers: true, TrustedNetworks: []string{"10.0.0.0/8"}}}
		}, Skip, "trusted-network"},
		{"N2", func(in *Input) {
			in.Policies = []store.Policy{{ID: "1", Enabled: true, AllUsers: true, TrustedNetworks: []string{"10.0.0.0/8"}}}
		}, Prompt, ""}, // the user's own requirement still asks
		{"N2", func(in *Input) {
			in.User.Required = false
			in.Policies = []store.Policy{{ID: "1", Enabled: true, AllUsers: true, TrustedNetworks: []string{"10.0.0.0/8"}},
				{ID: "2", Enabled: true, AllUsers: true}}
		}, Prompt, ""}, // another policy still asks
		// N5: locked wins.
		{"N5", func(in *Input) {
			in.Settings.TrustedNetworks = []string{"10.0.0.0/8"}
			in.State = store.State{Failures: 5, Locked: true, LockedUntil: now.Add(time.Hour)}
		}, Deny, "locked-out"},
		{"N5", func(in *Input) {
			in.User.Required = false
			in.Policies = []store.Policy{{ID: "1", Enabled: true, AllUsers: true, TrustedNetworks: []string{"10.0.0.0/8"}}}
			in.State = store.State{Failures: 5, Locked: true}
		}, Deny, "locked-out"},
		// N7: enrollment is not a code: the period and in-band setup apply as before.
		{"N7", func(in *Input) {
			in.Settings.TrustedNetworks = []string{"10.0.0.0/8"}
			in.User.TOTP = nil
			in.State.PeriodStart = now.Add(-30 * 24 * time.Hour)
		}, Deny, "enrollment-expired"},
	}
	for _, r := range rows {
		t.Run(r.id, func(t *testing.T) {
			in := base()
			r.edit(&in)
			d := Decide(in, SurfaceSSH, false)
			if d.Action != r.want || d.Reason != r.reason {
				t.Fatalf("Decide = %d %q, want %d %q", d.Action, d.Reason, r.want, r.reason)
			}
			if d.Reason == "trusted-network" && !strings.Contains(d.Detail, "10.0.0.0/8") {
				t.Fatalf("detail %q does not name the network", d.Detail)
			}
		})
	}
}

// FuzzTrustedNetwork checks the matcher against the older net package as
// an independent reference: a match is exactly "rhost is an IP literal
// (no zone, no name) inside the prefix", IPv4-mapped addresses included.
func FuzzTrustedNetwork(f *testing.F) {
	for _, s := range [][2]string{{"10.1.2.3", "10.0.0.0/8"}, {"::ffff:10.1.2.3", "10.0.0.0/8"}, {"fe80::1%lo", "fe80::/10"},
		{"host", "0.0.0.0/0"}, {"", "::/0"}, {"2001:db8::1", "2001:db8::/32"}, {"1.2.3.4", "::ffff:0:0/96"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, rhost, cidr string) {
		list, err := ParseNetworks(cidr)
		if err != nil || len(list) != 1 {
			if TrustedNetwork([]string{cidr}, rhost) != "" && err != nil {
				// A list that was refused when set can still reach
				// the matcher from an old store: it must not widen.
				if _, n, perr := net.ParseCIDR(cidr); perr != nil || !n.Contains(net.ParseIP(rhost)) {
					t.Fatalf("refused list %q matched %q", cidr, rhost)
				}
			}
			return
		}
		got := TrustedNetwork(list, rhost) != ""
		ip := net.ParseIP(rhost) // no zones, no names, no leading-zero forms in Go ≥1.17
		_, n, perr := net.ParseCIDR(list[0])
		if perr != nil {
			t.Fatalf("ParseNetworks accepted %q, net.ParseCIDR refuses it: %v", list[0], perr)
		}
		want := ip != nil && n.Contains(ip) && (len(n.IP) == net.IPv4len) == (ip.To4() != nil)
		if got != want {
			t.Fatalf("TrustedNetwork(%q, %q) = %v, reference says %v", list[0], rhost, got, want)
		}
	})
}
