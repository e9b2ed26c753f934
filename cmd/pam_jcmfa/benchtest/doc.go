// Package benchtest measures jcmfa side by side with the PAM modules people
// would pick instead (pam_google_authenticator, pam_oath) and with the floor
// any PAM module can reach (pam_permit), in one `go test -bench` run with the
// same user set, secrets and clock (`make bench`, docs/benchmarks.md):
//
//	BenchmarkPAM     pam_start → pam_authenticate(right code) → pam_end
//	                 through the real libpam, per module; jcmfa's wrong code too
//	BenchmarkSSH     keyboard-interactive logins to one private sshd whose
//	                 PAM stack is switched between the same modules
//	BenchmarkDaemon  verifications/s over the socket, 100,000 enrolled users,
//	                 closed loop at 1/16/256/1024 clients and open loop at a
//	                 fixed offered rate; a wrong-code run that checks every
//	                 failure was counted
//	BenchmarkScale   store size, open time, `users` listing time and daemon
//	                 memory at 1k, 10k and 100k users
//
// Why benchmarks in a test package rather than a program: `go test -bench`
// gives the -bench filter, -count and benchstat-comparable lines for free,
// and the cgo libpam binding and the daemon/store packages are used exactly
// as the other harnesses (pamtest, sshdtest) use them. Nothing here runs
// without -bench: `go test ./...` only compiles it.
//
// Each benchmark is one measurement of a fixed sample (run with
// -benchtime 1x; a larger N repeats the sample): ns/op is the whole
// measurement, the figures are the custom metrics (p50-ms, p99-ms,
// verifications/s, ...). TestMain prints them as one table at the end and,
// with JCMFA_BENCH_DOC=path, writes that table into docs/benchmarks.md.
//
// Needs root (sshd, a PAM file in /etc/pam.d, temporary OS accounts),
// openssh-server, libpam-google-authenticator, libpam-oath, a C compiler and
// libpam0g-dev. Everything it adds (accounts jcmfab*, /etc/pam.d/jcmfa-bench-*,
// daemons, sshd) is removed when it ends, on SIGINT/SIGTERM too.
package benchtest
