package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Surfaces is every surface a client may name, in the order docs and
// errors list them. A LOGIN naming any other is refused (the engine's
// ErrUnknownSurface): a surface decides which scoped requirements apply,
// so a word nobody scoped must not read as "not in scope".
var Surfaces = []string{SurfaceSSH, SurfaceConsole, SurfaceSudo, SurfaceGUI, SurfaceRDP, SurfaceUnlock, SurfaceUAC}

// KnownSurface reports whether s is one of Surfaces.
func KnownSurface(s string) bool { return slices.Contains(Surfaces, s) }

// ParseSurfaces reads a comma-separated scope (`--surfaces ssh,rdp`):
// known names only, no repeats, in Surfaces order. Empty means every
// surface.
func ParseSurfaces(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, w := range strings.Split(list, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if !KnownSurface(w) {
			return nil, fmt.Errorf("unknown surface %q: use a comma-separated list of %s", w, strings.Join(Surfaces, ", "))
		}
		seen[w] = true
	}
	var out []string
	for _, s := range Surfaces {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// CheckSurfaces validates a scope read from a store or a bundle.
func CheckSurfaces(scope []string) error {
	_, err := ParseSurfaces(strings.Join(scope, ","))
	return err
}

// InScope reports whether a requirement scoped to scope applies on
// surface. An empty scope is every surface; an empty surface (a status
// listing, not a login) is in every scope. unlock and uac are asked only
// when their own switch is on (row P3), whatever the scope says: a scope
// narrows where a requirement applies, it never switches a surface on.
func InScope(scope []string, surface string) bool {
	return len(scope) == 0 || surface == "" || slices.Contains(scope, surface)
}
