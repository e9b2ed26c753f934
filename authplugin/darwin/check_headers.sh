#!/bin/sh
# check_headers.sh: the hand-written macOS headers against Apple's values.
#
#   1. every #define NAME VALUE in darwin/include and darwin/macos_api.h
#      has a row in darwin/apple_values.txt (a new constant needs its
#      source written down);
#   2. each row's value is what the header gives, as clang evaluates it for
#      arm64 and x86_64 macOS (_Static_assert in a generated file);
#   3. darwin/layout_check.c: struct passwd, sockaddr_un, pollfd, timespec.
# Run by make check-macos.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
table=apple_values.txt
fail() { echo "FAIL: $*" >&2; exit 1; }

defined=$(grep -rhE '^#define [A-Za-z_][A-Za-z_0-9]* ' include macos_api.h |
	awk '$2 !~ /^JCMFA_/ && $2 != "errno" { print $2 }' | sort -u)
listed=$(awk '!/^#/ && NF >= 3 { print $1 }' "$table" | sort -u)
missing=$(printf '%s\n' "$defined" | grep -vxF -e "$listed" -e '' || true)
[ -z "$missing" ] || fail "darwin headers define constants with no Apple value in $table: $missing"
stale=$(printf '%s\n' "$listed" | grep -vxF -e "$defined" -e '' || true)
[ -z "$stale" ] || fail "$table lists constants no header defines: $stale"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	echo '#include <errno.h>'
	echo '#include <fcntl.h>'
	echo '#include <poll.h>'
	echo '#include <sys/socket.h>'
	echo '#include <syslog.h>'
	echo '#include <time.h>'
	echo '#include "../macos_api.h"'
	awk '!/^#/ && NF >= 3 { printf "_Static_assert((long long)(%s) == (long long)(%s), \"%s is not %s (%s)\");\n", $1, $2, $1, $2, substr($0, index($0, $3)) }' "$table"
} >"$tmp/values.c"
for arch in arm64 x86_64; do
	for f in "$tmp/values.c" layout_check.c; do
		$CLANG -target $arch-apple-macos12 -std=c11 -fsyntax-only -Wall -Werror \
			-nostdlibinc -isystem include -I include "$f" ||
			fail "$f ($arch): a hand-written macOS header differs from Apple's (above)"
	done
done
echo "ok: darwin headers: $(printf '%s\n' "$listed" | wc -l) constants and the struct layouts match Apple's ($table)"
