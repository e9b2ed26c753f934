// Package accounts answers questions about OS accounts: does a login name
// exist, and which groups is it in. Group policies follow the OS because the
// answer is read at decision time, never copied into the store.
package accounts

import (
	"errors"
	"os/user"
)

// Directory is the OS account database as the engine sees it.
type Directory interface {
	// Exists reports whether name is a known account right now.
	Exists(name string) bool
	// Groups lists the names of the account's groups (primary included).
	Groups(name string) ([]string, error)
}

// System reads the platform's account database through os/user: NSS on
// Linux (so directory accounts resolve when built with cgo), the Open
// Directory-backed files on macOS, the local security database on Windows.
type System struct{}

// Exists implements Directory.
func (System) Exists(name string) bool {
	_, err := user.Lookup(name)
	return err == nil
}

// Groups implements Directory. An unknown account has no groups.
func (System) Groups(name string) ([]string, error) {
	u, err := user.Lookup(name)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		return nil, nil
	}
	if err != nil {
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

// NameOfUID resolves a numeric uid (as a string) to a login name.
func NameOfUID(uid string) (string, error) {
	u, err := user.LookupId(uid)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}
