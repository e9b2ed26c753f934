#!/bin/sh
# changelog.sh VERSION MAINTAINER: the Debian changelog the .deb carries.
# The project's history is its git log; the package records which commit it
# was built from, dated from SOURCE_DATE_EPOCH so rebuilds are identical.
set -eu
version=$1 maintainer=$2
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
date=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-0}")
cat <<EOT
jcmfa ($version) unstable; urgency=medium

  * Built from jcmfa commit $commit; see the project's git log for changes.

 -- $maintainer  $date
EOT
