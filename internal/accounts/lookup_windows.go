package accounts

import (
	"errors"
	"strings"

	"golang.org/x/sys/windows"
)

// Lookup implements Directory: LSA's LookupAccountName gives the SID, and
// the SID's own name (LookupAccountSid) is the canonical one, in the form
// the credential provider sends (credprovider/helpers.cpp, LoginName):
// lower case, a local account bare, a domain account as domain\user. So
// "ALICE", ".\alice", "HOST\Alice" and, where LSA resolves it, a UPN all
// reach one record. x/sys/windows is called directly rather than through
// os/user, whose Lookup also asks NetUserGetInfo for a home directory and
// fails where that is not to be had (and under wine).
func (System) Lookup(name string) (Account, bool, error) {
	sid, _, use, err := windows.LookupSID("", name)
	if errors.Is(err, windows.ERROR_NONE_MAPPED) {
		return Account{}, false, nil // "No mapping between account names and security IDs was done"
	}
	if err != nil {
		return Account{}, false, err
	}
	if use != windows.SidTypeUser {
		return Account{}, false, nil // a group, an alias, a computer: not a login
	}
	bare, dom, _, err := sid.LookupAccount("")
	if err != nil {
		return Account{}, false, err
	}
	return Account{Name: localOrDomain(dom + `\` + bare), ID: sid.String()}, true, nil
}

// localOrDomain drops the domain of an account of this computer.
func localOrDomain(full string) string {
	dom, bare, ok := strings.Cut(full, `\`)
	if !ok {
		return strings.ToLower(full)
	}
	if dom == "." || dom == "" {
		return strings.ToLower(bare)
	}
	if host, err := windows.ComputerName(); err == nil && strings.EqualFold(host, dom) {
		return strings.ToLower(bare)
	}
	return strings.ToLower(full)
}

// Fold is how a name LSA cannot resolve is kept: account names are
// case-insensitive on Windows, and ".\name" is a local account.
func Fold(name string) string {
	return localOrDomain(name)
}
