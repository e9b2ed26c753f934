# Benchmarks side by side with the peers (docs/benchmarks.md, issue 6).
# Included by the root Makefile.
#
#   make bench        (root) PAM transaction and SSH login latency against
#                     pam_permit, google-authenticator and pam_oath; daemon
#                     throughput with 100,000 users; store and daemon scale.
#                     One `go test -bench` process; prints one table and
#                     writes it into docs/benchmarks.md (above the other
#                     sections, which it leaves alone).
#   make bench-micro  the hot path's Go micro-benchmarks (benchstat input)
#
# BENCH=regexp picks benchmarks (default: all), BENCH_COUNT=N repeats them.
# The run adds OS accounts jcmfab*, /etc/pam.d/jcmfa-bench-sshd-*, a
# private sshd and daemons, all removed when it ends; the trap below also
# catches what an interrupted run left.

BENCH ?= .
BENCH_COUNT ?= 1
BENCH_CMD = go test -run '^$$' -bench '$(BENCH)' -benchtime 1x -count $(BENCH_COUNT) -timeout 60m ./cmd/pam_jcmfa/benchtest

.PHONY: bench bench-deps bench-micro

bench-deps:
	@[ "$$(id -u)" = 0 ] || { echo "make bench needs root (sshd, /etc/pam.d, temporary accounts): sudo make bench"; exit 1; }
	@sh mk/deps.sh bench

bench: bench-deps
	@mkdir -p bin; \
	trap 'for u in $$(cut -d: -f1 /etc/passwd | grep "^jcmfab[0-9]*$$"); do userdel $$u; done; \
		rm -f /etc/pam.d/jcmfa-bench-sshd-*' EXIT; \
	{ CI=1 JCMFA_BENCH_DOC=$(CURDIR)/docs/benchmarks.md JCMFA_BENCH_CMD="sudo make bench   # runs: $(BENCH_CMD)" \
		$(BENCH_CMD); echo $$? > bin/bench.rc; } | tee bin/bench.txt; \
	exit $$(cat bin/bench.rc)

bench-micro:
	$(GO) test -run '^$$' -bench . -count $(BENCH_COUNT) ./internal/store ./internal/totp ./internal/engine ./internal/recovery
