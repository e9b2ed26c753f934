// Package accounts answers questions about OS accounts: which account a
// login name is, and which groups it is in. One account has many
// spellings (a uid alias, another case on a case-insensitive directory,
// user@domain, DOMAIN\user); Lookup turns each into the one Account the
// daemon keys records by. Group policies follow the OS because groups are
// read at decision time, never copied into the store.
package accounts

import (
	"errors"
	"os/user"
	"strings"
)

// Account is one OS account as the daemon keys it.
type Account struct {
	// Name is the account's canonical name, the key of its records: on
	// Linux and macOS the name the OS gives for its uid (getpwuid), on
	// Windows its LSA name, lower case, bare for a local account and
	// domain\user for a domain one (what the credential provider sends).
	Name string
	// ID is the uid (Linux, macOS) or the SID (Windows).
	ID string
}

// Directory is the OS account database as the engine sees it.
type Directory interface {
	// Lookup resolves any spelling of a login name to its account.
	// found is false (with a nil error) when the OS knows no such
	// account; an error means the database could not be asked.
	Lookup(name string) (a Account, found bool, err error)
	// Groups lists the names of the account's groups (primary included).
	Groups(name string) ([]string, error)
}

// System reads the platform's account database through os/user: NSS on
// Linux (so directory accounts resolve when built with cgo), the Open
// Directory-backed files on macOS, LSA on Windows.
type System struct{}

// Groups implements Directory. An unknown account has no groups.
func (System) Groups(name string) ([]string, error) {
	u, found, err := lookupUser(name)
	if !found || err != nil {
		return nil, err
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		g, err := user.LookupGroupId(id)
		if err != nil {
			continue // a gid without a name cannot match a policy by name
		}
		names = append(names, g.Name)
	}
	return names, nil
}

// lookupUser is os/user's Lookup with "no such account" told apart from
// "could not ask".
func lookupUser(name string) (*user.User, bool, error) {
	u, err := user.Lookup(name)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) || noSuchAccount(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return u, true, nil
}

// NameOfUID resolves a numeric uid (as a string) to a login name.
func NameOfUID(uid string) (string, error) {
	u, err := user.LookupId(uid)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// Loose is the part of a name every spelling of one account shares on
// some directory: lower case, without an @domain suffix or a DOMAIN\
// prefix. Two names with the same Loose form might be one account; the
// engine uses it only to refuse a name the OS cannot resolve when it
// might be an account with a record.
func Loose(name string) string {
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}
