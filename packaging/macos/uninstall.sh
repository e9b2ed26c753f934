#!/bin/sh
# uninstall.sh [--purge]: removes jcmfa from this Mac. Installed as
# /usr/local/share/jcmfa/uninstall.sh; run as root.
#
# The mechanism comes out of system.login.console first (saved rule restored,
# authdb.sh remove), so that no login ever meets a rule that names a bundle
# which is gone. --purge also deletes the store and its key: the TOTP
# enrollments on this Mac are then lost.
set -eu
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root (sudo)" >&2; exit 1; }
SHARE=/usr/local/share/jcmfa

sh "$SHARE/authdb.sh" remove

if launchctl print system/com.jcmfa.agent >/dev/null 2>&1; then
	launchctl bootout system/com.jcmfa.agent || true
fi
rm -f /Library/LaunchDaemons/com.jcmfa.agent.plist
rm -rf /Library/Security/SecurityAgentPlugins/jcmfa.bundle
rm -f /usr/local/sbin/jcmfa-agent
rm -rf /var/run/jcmfa
pkgutil --forget com.jcmfa.pkg >/dev/null 2>&1 || true

if [ "${1:-}" = "--purge" ]; then
	rm -rf "/Library/Application Support/jcmfa" /Library/Logs/jcmfa
	echo "removed jcmfa and its store"
else
	echo "removed jcmfa; the store and the saved rule stay in /Library/Application Support/jcmfa (--purge removes them)"
fi
rm -rf "$SHARE"
