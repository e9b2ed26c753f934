package policy

import (
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/store"
)

// TestSurfaceScope is the S-rows of docs/policy.md: requirements scoped to
// surfaces (`--surfaces`).
func TestSurfaceScope(t *testing.T) {
	scoped := func(required bool, user []string, pol ...[]string) Input {
		in := Input{Settings: on(), Now: now, HasUser: true,
			User: store.User{Name: "alice", Required: required, TOTP: secret, Surfaces: user}}
		for i, s := range pol {
			in.Policies = append(in.Policies, store.Policy{ID: string(rune('1' + i)), Enabled: true, AllUsers: true, Surfaces: s})
		}
		return in
	}
	rows := []struct {
		id      string
		in      Input
		surface string
		edit    func(*store.Settings)
		want    Action
		reason  string
	}{
		{id: "S1", in: scoped(true, nil), surface: SurfaceSudo, want: Prompt},
		{id: "S1", in: scoped(false, nil, nil), surface: SurfaceGUI, want: Prompt},
		{id: "S2", in: scoped(true, []string{SurfaceSSH, SurfaceRDP}), surface: SurfaceRDP, want: Prompt},
		{id: "S2", in: scoped(true, []string{SurfaceSSH, SurfaceRDP}), surface: SurfaceGUI, want: Skip, reason: "not-required"},
		{id: "S2", in: scoped(false, nil, []string{SurfaceRDP}), surface: SurfaceRDP, want: Prompt},
		{id: "S2", in: scoped(false, nil, []string{SurfaceRDP}), surface: SurfaceGUI, want: Skip, reason: "not-required"},
		{id: "S2", in: scoped(false, nil, []string{SurfaceRDP}), surface: SurfaceConsole, want: Skip, reason: "not-required"},
		{id: "S3", in: scoped(false, nil, []string{SurfaceSSH}), surface: SurfaceUnlock, want: Skip, reason: "surface-exempt"},
		{id: "S3", in: scoped(false, nil, []string{SurfaceUnlock}), surface: SurfaceUnlock, want: Skip, reason: "surface-exempt"},
		{id: "S3", in: scoped(false, nil, []string{SurfaceUnlock}), surface: SurfaceUnlock, edit: func(s *store.Settings) { s.UnlockRequiresCode = true }, want: Prompt},
		{id: "S3", in: scoped(false, nil, []string{SurfaceSSH}), surface: SurfaceUnlock, edit: func(s *store.Settings) { s.UnlockRequiresCode = true }, want: Skip, reason: "not-required"},
		// S4: a user's own scope and a policy's add up (union).
		{id: "S4", in: scoped(true, []string{SurfaceSSH}, []string{SurfaceSudo}), surface: SurfaceSSH, want: Prompt},
		{id: "S4", in: scoped(true, []string{SurfaceSSH}, []string{SurfaceSudo}), surface: SurfaceSudo, want: Prompt},
		{id: "S4", in: scoped(true, []string{SurfaceSSH}, []string{SurfaceSudo}), surface: SurfaceConsole, want: Skip, reason: "not-required"},
		{id: "S4", in: scoped(false, nil, []string{SurfaceSSH}, []string{SurfaceRDP}), surface: SurfaceRDP, want: Prompt},
	}
	for _, r := range rows {
		t.Run(r.id+"/"+r.surface, func(t *testing.T) {
			if r.edit != nil {
				r.edit(&r.in.Settings)
			}
			d := Decide(r.in, r.surface, false)
			if d.Action != r.want || d.Reason != r.reason {
				t.Fatalf("Decide = action %d reason %q, want action %d reason %q", d.Action, d.Reason, r.want, r.reason)
			}
		})
	}
	// A status listing (no surface) shows a scoped requirement as required.
	if st := StatusOf(scoped(true, []string{SurfaceRDP})); st.Kind != StatusEnrolled {
		t.Fatalf("status of an rdp-scoped user %q, want enrolled", st.Kind)
	}
}

func TestParseSurfaces(t *testing.T) { // S5
	got, err := ParseSurfaces(" rdp, SSH ,rdp")
	if err != nil || strings.Join(got, ",") != "ssh,rdp" {
		t.Fatalf("ParseSurfaces = %v, %v; want [ssh rdp] in canonical order", got, err)
	}
	if got, err := ParseSurfaces(""); err != nil || got != nil {
		t.Fatalf("empty scope = %v, %v; want nil (every surface)", got, err)
	}
	for _, bad := range []string{"ssh,telnet", "ssh,", "cli", "SSH\x00"} {
		if _, err := ParseSurfaces(bad); err == nil || !strings.Contains(err.Error(), "unknown surface") {
			t.Fatalf("ParseSurfaces(%q) = %v; want an unknown-surface error", bad, err)
		}
	}
	for _, s := range Surfaces {
		if !KnownSurface(s) {
			t.Fatalf("%s not known", s)
		}
	}
}
