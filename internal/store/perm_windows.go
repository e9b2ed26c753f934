package store

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// stateDirSDDL admits SYSTEM (the service) and Administrators, inherited by
// the store and key files, and nobody else: POSIX modes mean nothing here.
const stateDirSDDL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

// checkDir creates the state directory and (re)applies its protected ACL,
// so a directory made earlier with inherited, wider rights is closed too.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString(stateDirSDDL)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("restrict %s to SYSTEM and Administrators: %w", dir, err)
	}
	return nil
}

func checkFile(string) error { return nil }
