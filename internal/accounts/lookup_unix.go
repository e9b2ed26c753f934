//go:build !windows

package accounts

import "os/user"

// Lookup implements Directory: name → uid (getpwnam) → the uid's own name
// (getpwuid). A uid alias (useradd -o), another case on a directory that
// ignores case (sssd case_sensitive = false, nslcd ignorecase), or a
// qualified name the directory accepts (alice@corp.example) all come back
// as the one name the OS gives the uid.
func (System) Lookup(name string) (Account, bool, error) {
	u, found, err := lookupUser(name)
	if !found || err != nil {
		return Account{}, found, err
	}
	canonical := u.Username
	if byID, err := user.LookupId(u.Uid); err == nil {
		canonical = byID.Username
	}
	return Account{Name: canonical, ID: u.Uid}, true, nil
}

// Fold is how a name the OS cannot resolve is kept: as it is, since Unix
// login names are case-sensitive.
func Fold(name string) string { return name }
