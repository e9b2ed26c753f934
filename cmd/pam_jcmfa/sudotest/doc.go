// Package sudotest runs the real sudo binary (Debian's package) as a test
// account, answering its PAM conversation on stdin (sudo -S reads every
// echo-off prompt there, the code's too), before and after
// `jcmfa-agent setup sudo` and after `--undo`, against a real daemon.
//
// The machine's /etc/pam.d/sudo is never touched: the test account's
// sudoers entry names its own PAM service (sudoers(5): pam_service, "the
// PAM service name to use; default sudo"), a copy of Debian's sudo stack
// under /etc/pam.d/sudo-jcmfa-test-PID, and setup sudo edits that copy.
// Needs root and the sudo package; skips without them, fails under CI.
package sudotest
