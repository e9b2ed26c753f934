package doctor

import "testing"

func TestWindowsLogonFlagsEachBypass(t *testing.T) {
	tests := []struct {
		name  string
		state LogonState
		fails bool
		warns int
	}{
		{"hardened", LogonState{ProviderRegistered: true, FilterRegistered: true, SafeModeBlockNonAdmins: true, DisableARSO: true, Excluded: []string{`.\breakglass`}}, false, 0},
		{"provider missing", LogonState{FilterRegistered: true, SafeModeBlockNonAdmins: true, DisableARSO: true, Excluded: []string{"x"}}, true, 0},
		{"safe mode open", LogonState{ProviderRegistered: true, FilterRegistered: true, DisableARSO: true, Excluded: []string{"x"}}, false, 1},
		{"ARSO on", LogonState{ProviderRegistered: true, FilterRegistered: true, SafeModeBlockNonAdmins: true, Excluded: []string{"x"}}, false, 1},
		{"failmode safe", LogonState{ProviderRegistered: true, FilterRegistered: true, SafeModeBlockNonAdmins: true, DisableARSO: true, FailMode: "safe"}, false, 1},
		{"no break-glass", LogonState{ProviderRegistered: true, FilterRegistered: true, SafeModeBlockNonAdmins: true, DisableARSO: true}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := WindowsLogon(tt.state)
			warns := 0
			for _, f := range r {
				if f.Severity == Warn {
					warns++
				}
			}
			if r.Failed() != tt.fails || warns != tt.warns {
				t.Errorf("failed=%v warns=%d, want %v %d:\n%s", r.Failed(), warns, tt.fails, tt.warns, r)
			}
		})
	}
}

func TestReadLogonStateReadsThisRegistry(t *testing.T) {
	// Whatever this machine has, reading it must not panic, and a machine
	// without jcmfa installed reads as "not registered".
	s := ReadLogonState()
	if s.ProviderRegistered && !s.FilterRegistered {
		t.Logf("provider registered without filter: %+v", s)
	}
}
