package accounts

import (
	"os/user"
	"strings"

	"golang.org/x/sys/windows"
)

// Lookup implements Directory: LSA's LookupAccountName gives the SID, and
// the SID's own name is the canonical one, in the form the credential
// provider sends (credprovider/helpers.cpp, LoginName): lower case, a
// local account bare, a domain account as domain\user. So "ALICE",
// ".\alice", "HOST\Alice" and, where LSA resolves it, a UPN all reach one
// record.
func (System) Lookup(name string) (Account, bool, error) {
	u, found, err := lookupUser(name)
	if !found || err != nil {
		return Account{}, found, err
	}
	full := u.Username // DOMAIN\name
	if byID, err := user.LookupId(u.Uid); err == nil {
		full = byID.Username
	}
	return Account{Name: localOrDomain(full), ID: u.Uid}, true, nil
}

// localOrDomain drops the domain of an account of this computer.
func localOrDomain(full string) string {
	dom, bare, ok := strings.Cut(full, `\`)
	if !ok {
		return strings.ToLower(full)
	}
	if host, err := windows.ComputerName(); err == nil && strings.EqualFold(host, dom) || dom == "." {
		return strings.ToLower(bare)
	}
	return strings.ToLower(full)
}

// Fold is how a name LSA cannot resolve is kept: account names are
// case-insensitive on Windows, and ".\name" is a local account.
func Fold(name string) string {
	return localOrDomain(name)
}
