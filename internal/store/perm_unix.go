//go:build !windows

package store

import (
	"fmt"
	"os"
)

// checkDir creates the state directory 0700 or refuses one that others can
// reach: the store's secrets are sealed, but its key usually sits beside it.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("state directory %s is reachable by other users (mode %04o); run: chmod 700 %s", dir, fi.Mode().Perm(), dir)
	}
	return nil
}

func checkFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("store %s is readable by other users (mode %04o); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}
