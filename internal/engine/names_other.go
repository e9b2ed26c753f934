//go:build !windows

package engine

// canonical keeps the name: Unix login names are case-sensitive.
func canonical(name string) string { return name }
