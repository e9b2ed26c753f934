package doctor

import (
	"strings"
	"testing"
)

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

// Each provider KeepProviders keeps is its own warning, and so is each
// entry the DLL would ignore; an unset value adds nothing.
func TestKeepProvidersWarnsForEachWayAround(t *testing.T) {
	hardened := LogonState{ProviderRegistered: true, FilterRegistered: true, SafeModeBlockNonAdmins: true, DisableARSO: true, Excluded: []string{"x"}}
	tests := []struct {
		name  string
		keep  []string
		split bool
		bad   bool
		warns []string
	}{
		{"unset", nil, false, false, nil},
		{"NGC and FIDO", []string{"NGC", "{F8A1793B-7873-4046-B2A7-1F318747F427}"}, false, false, []string{`keeps "NGC" (Windows Hello PIN`, `FIDO security key`}},
		{"REG_SZ list with junk", []string{"SmartCardProvider; junk"}, true, false, []string{"all four", `entry "junk" is neither`}},
		{"another type", nil, false, true, []string{"neither REG_MULTI_SZ nor REG_SZ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := hardened
			s.KeepProviders, s.KeepSplit, s.KeepBadType = tt.keep, tt.split, tt.bad
			var warns []string
			for _, f := range WindowsLogon(s) {
				if f.Severity == Warn {
					warns = append(warns, f.Problem)
				}
			}
			if len(warns) != len(tt.warns) {
				t.Fatalf("warnings %q, want %d", warns, len(tt.warns))
			}
			for i, w := range tt.warns {
				if !strings.Contains(warns[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warns[i], w)
				}
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
