package store

import "os"

// On Windows the state directory's ACL (SYSTEM and Administrators only) is
// set by the installer and by paths.EnsureStateDir; POSIX modes mean nothing.
func checkDir(dir string) error { return os.MkdirAll(dir, 0o700) }

func checkFile(string) error { return nil }
