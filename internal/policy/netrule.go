package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// Trusted networks (rows N1-N7 of docs/policy.md): a login whose remote
// host is an IP address inside a listed network is not asked for a code.
//
// The remote host is the client's PAM_RHOST (or nothing: the Windows
// credential provider and the macOS plugin send none, and a console or sudo
// has none). It matches only as an IP literal: sshd puts a name there when
// UseDNS is on (sshd_config(5)), and a name is whatever the client's
// reverse DNS says, so a name never matches. Everything that is not a plain
// address reads as "no address":
//   - IPv4-mapped IPv6 (::ffff:10.0.0.5, as a dual-stack socket reports an
//     IPv4 peer) is the IPv4 address it maps (netip.Addr.Unmap), so it
//     matches the IPv4 networks and only those.
//   - an IPv6 address with a zone (fe80::1%eth0) never matches: a zone
//     names an interface of the machine that reported it, which a network
//     list cannot name, and netip.Prefix.Contains is false for it too.
//   - leading zeros (010.0.0.1: octal to inet_aton, decimal to others),
//     brackets, ports, spaces: ParseAddr refuses them, so no match.

// ParseNetworks reads a comma-separated list of CIDR prefixes
// (`--trusted-networks 10.0.0.0/8,2001:db8::/32`) into its canonical
// form. A prefix with host bits set, a zone, or an IPv4-mapped IPv6 prefix
// is refused with what to write instead; a bare address is refused (write
// /32 or /128, so a typo cannot trust a whole network or none).
func ParseNetworks(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []string
	for _, w := range strings.Split(list, ",") {
		w = strings.TrimSpace(w)
		p, err := parseNetwork(w)
		if err != nil {
			return nil, err
		}
		out = append(out, p.String())
	}
	return out, nil
}

func parseNetwork(w string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(w)
	if err != nil {
		if a, aerr := netip.ParseAddr(w); aerr == nil && a.Zone() == "" {
			return p, fmt.Errorf("trusted network %q is an address, not a network: write %s/%d for that address alone", w, a.Unmap(), a.Unmap().BitLen())
		}
		return p, fmt.Errorf("trusted network %q is not a CIDR prefix like 10.0.0.0/8 or 2001:db8::/32", w)
	}
	if p.Addr().Is4In6() {
		return p, fmt.Errorf("trusted network %q is IPv4-mapped IPv6: write the IPv4 network (mapped addresses are matched as IPv4)", w)
	}
	if p.Masked() != p {
		return p, fmt.Errorf("trusted network %q has host bits set: did you mean %s?", w, p.Masked())
	}
	return p, nil
}

// CheckNetworks validates a list read from a store, a bundle or a spec.
func CheckNetworks(list []string) error {
	for _, w := range list {
		if _, err := parseNetwork(w); err != nil {
			return err
		}
	}
	return nil
}

// RHostAddr is rhost as an IP address, if it is exactly one (see above).
func RHostAddr(rhost string) (netip.Addr, bool) {
	if rhost == "" || len(rhost) > 64 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(rhost)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// TrustedNetwork returns the network of list that rhost is inside, or "".
// A malformed entry matches nothing (they are refused when set).
func TrustedNetwork(list []string, rhost string) string {
	if len(list) == 0 {
		return ""
	}
	a, ok := RHostAddr(rhost)
	if !ok {
		return ""
	}
	for _, w := range list {
		p, err := netip.ParsePrefix(w)
		if err == nil && p.Contains(a) {
			return w
		}
	}
	return ""
}

// trustedHere names the trusted network that spares this login its code:
// the device's (settings), or the only policies that require it (N1, N2).
func trustedHere(in Input, st Status) string {
	if n := TrustedNetwork(in.Settings.TrustedNetworks, in.RHost); n != "" {
		return n + " (settings)"
	}
	if n := st.Requirement.TrustedNetwork; n != "" {
		return n + " (" + strings.Replace(st.Requirement.By, "policy:", "policy ", 1) + ")"
	}
	return ""
}
