// Package dirtest runs jcmfa against a real, case-insensitive directory:
// an OpenLDAP slapd of the test's own (ldapi socket in a temporary
// directory, an mdb database loaded with the users alice and bob and the
// group mfa-staff), read through real NSS by Debian's libnss-ldapd and an
// nslcd configured with `ignorecase yes`.
//
// The machine's NSS is never changed. nslcd and the daemon under test run in
// a private mount namespace (unshare --mount --propagation private) in which
// a test nsswitch.conf ("passwd: files ldap") and nslcd.conf are bind-mounted
// over /etc and a tmpfs hides /run (so nslcd's socket, and any nscd, are the
// namespace's own). The test process stays outside: it talks to the daemon
// over its Unix socket and runs the real PAM module through real libpam
// (pam_drive) and getent inside the namespace with nsenter.
//
// Needs root and the Debian packages slapd, nslcd and
// libnss-ldapd (installed without starting their daemons or touching
// nsswitch.conf: see .ci/run), plus what the PAM module needs (a C compiler,
// libpam0g-dev). Without them the tests skip, or fail when $CI is set.
// Linux only; on other systems this package is empty.
package dirtest
