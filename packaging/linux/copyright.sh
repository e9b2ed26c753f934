#!/bin/sh
# copyright.sh BINARY: /usr/share/doc/jcmfa/copyright. The Go modules linked
# into the agent are read from the binary itself, so the list cannot go
# stale when go.mod changes.
set -eu
first=$(git log --reverse --format=%ad --date=format:%Y 2>/dev/null | head -1)
last=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y)
years=${first:-$last}; [ "$years" = "$last" ] || years="$years-$last"
cat <<EOT
jcmfa: TOTP second factor for operating system logins
Upstream: https://github.com/jcmfa/jcmfa

Copyright $years the jcmfa authors.
License: not chosen yet; see the project repository.

/usr/sbin/jcmfa-agent is a Go program and includes these Go modules, each
under its own licence (see the module's LICENSE file at the version shown):

EOT
go version -m "$1" | awk '$1 == "dep" { printf "  %s %s\n", $2, $3 }'
