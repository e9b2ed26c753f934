#!/bin/sh
# authdb.sh: adds jcmfa's login-window mechanism to the system.login.console
# authorization right, or takes it out again. Installed as
# /usr/local/share/jcmfa/authdb.sh; run as root. It is the one piece of code
# that writes the authorization database: the pkg scripts, uninstall.sh, an
# admin over SSH and the daemon's drift watch all run it.
#
#   authdb.sh backup     save the current rule (unless it already has jcmfa in it)
#   authdb.sh install [--allow-other-plugins]
#                        insert jcmfa:verify right after builtin:authenticate,privileged
#                        (or move it back there), and remember that it belongs there
#   authdb.sh repair     what install does, but only if install ran before and
#                        remove has not run since (the daemon's drift watch)
#   authdb.sh remove     take jcmfa out: restore the saved rule if nothing else
#                        changed it since, else delete only our entry
#   authdb.sh status     print the mechanisms of system.login.console
#   authdb.sh check      the rule's state, for the daemon and doctor (read only;
#                        one "key value" a line, the format internal/authdb parses)
#
# Other plugins: a third-party mechanism in system.login.console (anything
# but Apple's own, listed in apple_mech below, and ours) is a second product
# in the login path, and the seeds warn against running two. install
# refuses then, naming them, unless the admin says yes with
# --allow-other-plugins, JCMFA_ALLOW_OTHER_PLUGINS=1, or the file
# "$STATE/allow-other-plugins" (for the pkg: installer(8) may not pass the
# environment on to postinstall). The ones accepted are written to
# "$STATE/system.login.console.allowed"; repair accepts those, and refuses a
# new one as install would.
#
# Only system.login.console is ever read or written. The rule is edited in
# place (one array entry added or removed with PlistBuddy), never replaced
# by a copy of ours, and system.login.screensaver, the Platform SSO rights
# and every other right are left alone: other products' plugins have locked
# people out by rewriting those. Recovery when login is broken: docs/macos.md.
set -eu

RIGHT=system.login.console
MECH="jcmfa:verify"
ANCHOR="builtin:authenticate,privileged"
STATE="${JCMFA_BACKUP_DIR:-/Library/Application Support/jcmfa}"
BACKUP="$STATE/system.login.console.backup.plist"
# Written by install, deleted by remove: the mechanism belongs in the rule.
# Without it repair does nothing, so a postinstall that held back (the
# daemon refused SecurityAgent) or an admin's remove over SSH is never
# undone by the daemon.
INSTALLED="$STATE/system.login.console.installed"
ALLOWED="$STATE/system.login.console.allowed"
ALLOW_FILE="$STATE/allow-other-plugins"
LOCK="$STATE/authdb.lock"
# The tests on Linux point these at stand-ins (internal/authdb/authdbtest).
PB="${JCMFA_PLISTBUDDY:-/usr/libexec/PlistBuddy}"

die() { echo "authdb.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo)"
[ -x "$PB" ] || die "$PB not found: this script is for macOS"

tmp=$(mktemp -d /tmp/jcmfa-authdb.XXXXXX)
locked=
trap 'rm -rf "$tmp"; [ -z "$locked" ] || rm -rf "$LOCK"' EXIT

# lock serialises the commands that write (the daemon's repair against an
# uninstall's remove, say). mkdir is atomic; flock(1) is not on macOS.
lock() {
	mkdir -p "$STATE"
	chmod 700 "$STATE"
	n=0
	until mkdir "$LOCK" 2>/dev/null; do
		pid=$(cat "$LOCK/pid" 2>/dev/null || true)
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			rm -rf "$LOCK" # its holder is gone
			continue
		fi
		n=$((n + 1))
		[ $n -lt 150 ] || die "$LOCK is held (pid ${pid:-unknown}); if no authdb.sh is running, remove that directory"
		sleep 0.2
	done
	locked=1
	echo $$ >"$LOCK/pid"
}

read_rule() { # file
	security authorizationdb read "$RIGHT" >"$1" 2>/dev/null || die "cannot read $RIGHT"
	"$PB" -c "Print :mechanisms" "$1" >/dev/null 2>&1 || die "$RIGHT has no mechanisms array; not touching it"
}

# Prints the mechanisms of a rule file, one per line.
mechanisms() {
	i=0
	while m=$("$PB" -c "Print :mechanisms:$i" "$1" 2>/dev/null); do
		echo "$m"
		i=$((i + 1))
	done
}

version() { "$PB" -c "Print :version" "$1" 2>/dev/null || echo 0; }

# without_jcmfa RULE LIST: deletes every jcmfa entry of RULE, whose
# mechanisms are LIST (from mechanisms), from the last one up so the
# indexes still hold; LIST becomes the new list.
without_jcmfa() {
	for i in $(grep -n '^jcmfa:' "$2" | cut -d: -f1 | sort -rn); do
		"$PB" -c "Delete :mechanisms:$((i - 1))" "$1"
	done
	grep -v '^jcmfa:' "$2" >"$2.new" || true
	mv "$2.new" "$2"
}

# Apple's own mechanisms: every plugin named in the mechanisms of
# /System/Library/Security/authorization.plist on macOS 12 to 26
# (apple-oss-distributions/Security, OSX/authd/authorization.plist at tags
# Security-60157.40.30.0.1, 60158.140.3, 60420.40.34.0.1, 61040.1.3,
# 61439.1.1 and 61901.0.87.0.1). PSSOAuthPlugin (Platform SSO) is in
# system.login.console of macOS 13.0 only.
apple_mech() {
	case "$1" in
	builtin:* | loginwindow:* | HomeDirMechanism:* | MCXMechanism:* | PKINITMechanism:* | \
		CryptoTokenKit:* | KerberosAgent:* | DiskUnlock:* | LocalAuthentication:* | \
		RestartAuthorization:* | loginKC:* | PSSOAuthPlugin:*) return 0 ;;
	esac
	return 1
}

# Prints the third-party mechanisms of a list (from mechanisms), one a line.
others() {
	while IFS= read -r m; do
		case "$m" in jcmfa:*) continue ;; esac
		apple_mech "$m" || printf '%s\n' "$m"
	done <"$1"
}

# state LIST (from mechanisms): ok (jcmfa:verify once, right after the
# anchor), missing (no jcmfa entry), misplaced (anywhere else, or twice).
state() {
	n=$(grep -c '^jcmfa:' "$1" || true)
	[ "$n" -gt 0 ] || { echo missing; return; }
	a=$(grep -n -x -F "$ANCHOR" "$1" | head -1 | cut -d: -f1)
	if [ "$n" = 1 ] && [ -n "$a" ] && [ "$(sed -n "$((a + 1))p" "$1")" = "$MECH" ]; then
		echo ok
	else
		echo misplaced
	fi
}

write_rule() { # file list: the rule, and its mechanisms
	security authorizationdb write "$RIGHT" <"$1" >/dev/null 2>&1 || die "security authorizationdb write $RIGHT failed"
	# Read it back: a write the daemon silently ignored must not pass.
	read_rule "$tmp/check.plist"
	[ "$(cat "$2")" = "$(mechanisms "$tmp/check.plist")" ] || die "$RIGHT did not take the new mechanisms"
}

save_backup() { # file: a rule with no jcmfa entry
	mkdir -p "$STATE"
	chmod 700 "$STATE"
	cp "$1" "$BACKUP"
	chmod 600 "$BACKUP"
	echo "saved $RIGHT to $BACKUP"
}

backup() {
	read_rule "$tmp/rule.plist"
	if mechanisms "$tmp/rule.plist" | grep -q '^jcmfa:'; then
		# An upgrade: the rule already holds our mechanism, and the
		# backup taken at first install is the one to keep.
		[ -f "$BACKUP" ] || echo "authdb.sh: warning: $RIGHT already has jcmfa in it and no backup exists" >&2
		return 0
	fi
	save_backup "$tmp/rule.plist"
}

mark_installed() {
	printf 'jcmfa:verify belongs in %s (authdb.sh install); authdb.sh remove deletes this file\n' "$RIGHT" >"$INSTALLED"
	chmod 600 "$INSTALLED"
}

# place FILE (install and repair): the third-party check, then jcmfa:verify
# right after the anchor, our other entries out, written and read back.
# $1 is install or repair: which third-party mechanisms count as accepted.
place() {
	read_rule "$tmp/rule.plist"
	mechanisms "$tmp/rule.plist" >"$tmp/list"
	if [ "$(state "$tmp/list")" = ok ]; then
		mark_installed
		echo "$RIGHT already has $MECH after $ANCHOR"
		return 0
	fi
	others "$tmp/list" >"$tmp/others"
	if [ -s "$tmp/others" ]; then
		if [ "${JCMFA_ALLOW_OTHER_PLUGINS:-}" = 1 ] || [ -e "$ALLOW_FILE" ] || [ "$1:$ALLOW_FLAG" = install:1 ]; then
			cat "$tmp/others" "$ALLOWED" 2>/dev/null | sort -u >"$tmp/allowed"
			cp "$tmp/allowed" "$ALLOWED"
			chmod 600 "$ALLOWED"
			echo "authdb.sh: warning: keeping the mechanisms of another product in $RIGHT, as asked:" >&2
			sed 's/^/  /' "$tmp/others" >&2
		elif [ ! -f "$ALLOWED" ] || grep -v -x -F -f "$ALLOWED" "$tmp/others" >/dev/null; then
			# Not all of them were accepted before (repair, a re-install).
			echo "authdb.sh: $RIGHT has mechanisms of another product:" >&2
			sed 's/^/  /' "$tmp/others" >&2
			echo "authdb.sh: not adding $MECH: two products in the login window's path can lock people out or" >&2
			echo "  skip each other's factor (docs/macos.md, \"Other plugins\"). If you run both on purpose:" >&2
			echo "  authdb.sh install --allow-other-plugins (or JCMFA_ALLOW_OTHER_PLUGINS=1," >&2
			echo "  or create \"$ALLOW_FILE\" before installing the package)" >&2
			exit 3
		fi
	fi
	# No anchor means a rule shaped in a way we do not know (replaced by
	# another product?): refuse rather than guess where a factor belongs.
	grep -q -x -F "$ANCHOR" "$tmp/list" || die "$ANCHOR not found in $RIGHT; not adding $MECH (see docs/macos.md)"
	# A rule with no jcmfa entry is the rule as it is without us (after an
	# OS update, the new version's): that is the copy remove restores.
	grep -q '^jcmfa:' "$tmp/list" || save_backup "$tmp/rule.plist" >/dev/null
	# Our entries out, wherever they are, then one back in its place.
	without_jcmfa "$tmp/rule.plist" "$tmp/list"
	idx=$(grep -n -x -F "$ANCHOR" "$tmp/list" | head -1 | cut -d: -f1)
	# grep -n counts from 1, so idx is the array index right after the anchor.
	"$PB" -c "Add :mechanisms:$idx string $MECH" "$tmp/rule.plist"
	{ head -n "$idx" "$tmp/list"; echo "$MECH"; tail -n "+$((idx + 1))" "$tmp/list"; } >"$tmp/list.new"
	write_rule "$tmp/rule.plist" "$tmp/list.new"
	mark_installed
	echo "added $MECH after $ANCHOR in $RIGHT"
}

install() { place install; }

repair() {
	if [ ! -f "$INSTALLED" ]; then
		echo "$MECH is not installed (no $INSTALLED): nothing to repair"
		return 0
	fi
	place repair
}

remove() {
	# First: from here on the daemon's repair leaves the rule alone. The
	# admin's yes to other plugins was for that install; it goes too.
	rm -f "$INSTALLED" "$ALLOWED"
	read_rule "$tmp/rule.plist"
	mechanisms "$tmp/rule.plist" >"$tmp/list"
	if ! grep -q '^jcmfa:' "$tmp/list"; then
		echo "$RIGHT has no jcmfa mechanism"
		return 0
	fi
	# Our entries out of the current rule, whatever else changed in it.
	without_jcmfa "$tmp/rule.plist" "$tmp/list"
	if [ -f "$BACKUP" ] && [ "$(mechanisms "$BACKUP")" = "$(cat "$tmp/list")" ] &&
		[ "$(version "$BACKUP")" = "$(version "$tmp/rule.plist")" ]; then
		write_rule "$BACKUP" "$tmp/list"
		echo "restored $RIGHT from $BACKUP"
	else
		# Someone else changed the rule since we saved it (another
		# product, or an OS update that shipped a new version): putting
		# the old copy back would undo that. Keep theirs, minus ours.
		write_rule "$tmp/rule.plist" "$tmp/list"
		echo "removed jcmfa from $RIGHT (kept later changes; the first-install copy stays in $BACKUP)"
	fi
}

status() {
	read_rule "$tmp/rule.plist"
	mechanisms "$tmp/rule.plist"
}

# check: read only, no lock. Keys: right, version, installed (yes/no),
# anchor (yes/no), state (ok/missing/misplaced), then one "mechanism" line
# per entry in order and one "other" line per third-party mechanism, and
# "allowed" for each one accepted at install.
check() {
	read_rule "$tmp/rule.plist"
	mechanisms "$tmp/rule.plist" >"$tmp/list"
	echo "right $RIGHT"
	echo "version $(version "$tmp/rule.plist")"
	if [ -f "$INSTALLED" ]; then echo "installed yes"; else echo "installed no"; fi
	if grep -q -x -F "$ANCHOR" "$tmp/list"; then echo "anchor yes"; else echo "anchor no"; fi
	echo "state $(state "$tmp/list")"
	sed 's/^/mechanism /' "$tmp/list"
	others "$tmp/list" | sed 's/^/other /'
	[ ! -f "$ALLOWED" ] || sed 's/^/allowed /' "$ALLOWED"
}

ALLOW_FLAG=
cmd=${1:-}
[ $# -eq 0 ] || shift
for a in "$@"; do
	case "$cmd $a" in
	"install --allow-other-plugins") ALLOW_FLAG=1 ;;
	*) echo "authdb.sh: unknown argument $a" >&2; exit 2 ;;
	esac
done
case "$cmd" in
backup) lock; backup ;;
install) lock; install ;;
repair) lock; repair ;;
remove) lock; remove ;;
status) status ;;
check) check ;;
*) echo "usage: authdb.sh backup|install [--allow-other-plugins]|repair|remove|status|check" >&2; exit 2 ;;
esac
