//go:build !windows

package winsetup

// Apply is Windows-only.
func Apply(Options) ([]Change, error) { return nil, ErrWindowsOnly }

// Undo is Windows-only.
func Undo(Options) ([]Change, error) { return nil, ErrWindowsOnly }
