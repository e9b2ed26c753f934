package store

import "golang.org/x/sys/unix"

// releaseMapped drops size bytes of bbolt's read-only shared mapping at
// addr from this process's resident set. The pages stay in the kernel's
// page cache (the file is unchanged: the mapping is never written), so a
// later read takes a minor fault, not a disk read. Callers hold a read
// transaction, which keeps bbolt from remapping meanwhile.
func releaseMapped(addr uintptr, size int64) error {
	if size <= 0 {
		return nil
	}
	_, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, uintptr(size), unix.MADV_DONTNEED)
	if errno != 0 {
		return errno
	}
	return nil
}
