# The README's two commands on a fresh machine (issue 14, item 6).
# Included by the root Makefile.
#
#   make test-fresh   (root) in a fresh Debian 12 root with only Go,
#                     build-essential, ca-certificates and git: `make trial`
#                     as an unprivileged user with Go alone, then `make test`
#                     as root with CI=true, installing what it lacks.
#                     mk/fresh.sh says how, and prints the timings.
#
# FRESH_SUITE (bookworm), FRESH_TAR (the cached root), FRESH_KEEP=1: see mk/fresh.sh.

.PHONY: test-fresh

test-fresh:
	GO=$(GO) mk/fresh.sh
