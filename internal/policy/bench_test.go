package policy

import (
	"fmt"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
)

// BenchmarkDecide: the decision a login with a code makes, plain, and with
// the checks of issue 17 at work: three trusted networks that do not hold
// the remote host, a policy scoped to surfaces, and eight grace windows
// none of which matches (the slowest case: every list walked).
func BenchmarkDecide(b *testing.B) {
	plain := Input{Settings: on(), Now: now, HasUser: true, User: store.User{Name: "alice", Required: true, TOTP: secret}, RHost: "192.0.2.9"}
	busy := plain
	busy.Settings.TrustedNetworks = []string{"10.0.0.0/8", "172.16.0.0/12", "2001:db8::/32"}
	busy.Settings.Grace = time.Hour
	busy.Policies = []store.Policy{{ID: "1", Enabled: true, AllUsers: true, Surfaces: []string{SurfaceSSH, SurfaceRDP}, TrustedNetworks: []string{"192.168.0.0/16"}}}
	busy.Origin = "ip:192.0.2.9"
	for i := range GraceCap {
		busy.State.Grace = append(busy.State.Grace, store.GraceWindow{Origin: fmt.Sprintf("ip:198.51.100.%d", i), Surface: SurfaceSSH, At: now.Add(-time.Minute)})
	}
	for _, c := range []struct {
		name string
		in   Input
	}{{"plain", plain}, {"networks+scope+grace", busy}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				if d := Decide(c.in, SurfaceSSH, false); d.Action != Prompt {
					b.Fatal(d)
				}
			}
		})
	}
}
