#!/bin/sh
# Runs one Windows Go test binary under wine and judges its -test.v output.
#
#   gotest_wine.sh PKGDIR TEST_EXE LOG
#
# One wine 8.0 gap is told apart from real failures: Go (1.25+) deletes files
# with FileDispositionInformationEx + POSIX semantics, which wine answers with
# STATUS_NOT_IMPLEMENTED, so t.TempDir()'s cleanup fails with "Invalid
# function" after the test itself passed. A test whose only error lines are
# that cleanup is reported as WINE-CLEANUP and not counted as failed; any
# other error line, a crash, or a non-zero exit without a FAIL line fails.
set -u
PKGDIR=$1 EXE=$2 LOG=$3
WINE=${WINE:-/usr/lib/wine/wine64}

(cd "$PKGDIR" && timeout 600 "$WINE" "$EXE" -test.v -test.count=1) >"$LOG" 2>&1
rc=$?
awk -v rc="$rc" '
	/^=== (RUN|CONT)/ { cur = $3; next }
	/^ *--- (PASS|SKIP|FAIL): / {
		n = $3
		top = (n !~ /\//)
		if ($2 == "PASS:" && top) pass++
		if ($2 == "SKIP:" && top) { print "SKIP " n; skip++ }
		if ($2 == "FAIL:") failed[n] = 1
		next
	}
	/^    / && cur != "" {
		if ($0 ~ /TempDir RemoveAll cleanup: .*Invalid function/) cleanup[cur] = 1
		else other[cur] = 1
		next
	}
	END {
		# A failure is real if it, or any subtest under it, logged anything
		# but the wine cleanup error.
		for (n in failed) if (other[n]) { p = n; real_[p] = 1; while (sub(/\/[^\/]*$/, "", p)) real_[p] = 1 }
		for (n in failed) {
			if (n ~ /\//) continue
			if (real_[n]) { print "FAIL " n; real++ }
			else { print "WINE-CLEANUP " n " (assertions passed; wine cannot delete the temp dir)"; wine++ }
		}
		printf "%d passed, %d failed, %d skipped, %d wine-cleanup\n", pass, real, skip, wine
		if (real > 0) exit 1
		if (rc != 0 && wine == 0) { print "test binary exited " rc " without a FAIL line (crash?)"; exit 1 }
	}' "$LOG"
