// Package pamtest drives the real pam_jcmfa.so through the real libpam
// (pam_start_confdir with a private config dir: the system's PAM stacks are
// never read or changed) against a real jcmfa daemon in a temporary state
// directory. Logins through a real sshd are in ../sshdtest; the latency
// comparison with other modules is a benchmark, in ../benchtest
// (`make bench`).
//
// TestMain builds both from this checkout: the module with
// `make -C cmd/pam_jcmfa OUT=<tmp>` and the daemon with
// `go build ./cmd/agent`. Needs a C compiler, make and the libpam headers
// (Debian: libpam0g-dev); without them the tests skip, or fail when $CI is set.
//
// The tests are Linux-only and need cgo (libpam); on other systems this
// package is empty.
package pamtest
