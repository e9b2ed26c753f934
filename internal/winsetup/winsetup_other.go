//go:build !windows

package winsetup

// Apply is Windows-only.
func Apply(Options) ([]Change, error) { return nil, ErrWindowsOnly }

// Undo is Windows-only.
func Undo(Options) ([]Change, error) { return nil, ErrWindowsOnly }

// KeepProviders is Windows-only.
func KeepProviders([]string, bool) ([]string, error) { return nil, ErrWindowsOnly }

// ReadKeepProviders is Windows-only.
func ReadKeepProviders() ([]string, bool, error) { return nil, false, ErrWindowsOnly }
