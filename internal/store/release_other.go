//go:build !linux

package store

// releaseMapped is a no-op where MADV_DONTNEED does not reliably drop
// file-backed pages from the resident set.
func releaseMapped(uintptr, int64) error { return nil }
