#!/bin/sh
# authdb.sh: adds jcmfa's login-window mechanism to the system.login.console
# authorization right, or takes it out again. Installed as
# /usr/local/share/jcmfa/authdb.sh; run as root.
#
#   authdb.sh backup     save the current rule (unless it already has jcmfa in it)
#   authdb.sh install    insert jcmfa:verify right after builtin:authenticate,privileged
#   authdb.sh remove     take jcmfa out: restore the saved rule if nothing else
#                        changed it since, else delete only our entry
#   authdb.sh status     print the mechanisms of system.login.console
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
PB=/usr/libexec/PlistBuddy

die() { echo "authdb.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo)"
[ -x "$PB" ] || die "$PB not found: this script is for macOS"

tmp=$(mktemp -d /tmp/jcmfa-authdb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

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

has_jcmfa() { mechanisms "$1" | grep -q '^jcmfa:'; }

write_rule() { # file
	security authorizationdb write "$RIGHT" <"$1" >/dev/null 2>&1 || die "security authorizationdb write $RIGHT failed"
	# Read it back: a write the daemon silently ignored must not pass.
	read_rule "$tmp/check.plist"
	[ "$(mechanisms "$1")" = "$(mechanisms "$tmp/check.plist")" ] || die "$RIGHT did not take the new mechanisms"
}

backup() {
	read_rule "$tmp/rule.plist"
	if has_jcmfa "$tmp/rule.plist"; then
		# An upgrade: the rule already holds our mechanism, and the
		# backup taken at first install is the one to keep.
		[ -f "$BACKUP" ] || echo "authdb.sh: warning: $RIGHT already has jcmfa in it and no backup exists" >&2
		return 0
	fi
	mkdir -p "$STATE"
	chmod 700 "$STATE"
	cp "$tmp/rule.plist" "$BACKUP"
	chmod 600 "$BACKUP"
	echo "saved $RIGHT to $BACKUP"
}

install() {
	read_rule "$tmp/rule.plist"
	if has_jcmfa "$tmp/rule.plist"; then
		echo "$RIGHT already has $MECH"
		return 0
	fi
	[ -f "$BACKUP" ] || backup
	idx=$(mechanisms "$tmp/rule.plist" | grep -n -x -F "$ANCHOR" | head -1 | cut -d: -f1)
	# No anchor means a rule shaped in a way we do not know (replaced by
	# another product?): refuse rather than guess where a factor belongs.
	[ -n "$idx" ] || die "$ANCHOR not found in $RIGHT; not adding $MECH (see docs/macos.md)"
	# grep -n counts from 1, so idx is the array index right after the anchor.
	"$PB" -c "Add :mechanisms:$idx string $MECH" "$tmp/rule.plist"
	write_rule "$tmp/rule.plist"
	echo "added $MECH after $ANCHOR in $RIGHT"
}

remove() {
	read_rule "$tmp/rule.plist"
	if ! has_jcmfa "$tmp/rule.plist"; then
		echo "$RIGHT has no jcmfa mechanism"
		return 0
	fi
	# Our entries out of the current rule, whatever else changed in it.
	while i=$(mechanisms "$tmp/rule.plist" | grep -n '^jcmfa:' | head -1 | cut -d: -f1) && [ -n "$i" ]; do
		"$PB" -c "Delete :mechanisms:$((i - 1))" "$tmp/rule.plist"
	done
	if [ -f "$BACKUP" ] && [ "$(mechanisms "$BACKUP")" = "$(mechanisms "$tmp/rule.plist")" ]; then
		write_rule "$BACKUP"
		echo "restored $RIGHT from $BACKUP"
	else
		# Someone else changed the rule since we saved it: putting the
		# old copy back would undo their change. Keep theirs, minus ours.
		write_rule "$tmp/rule.plist"
		echo "removed jcmfa from $RIGHT (kept later changes; the first-install copy stays in $BACKUP)"
	fi
}

status() {
	read_rule "$tmp/rule.plist"
	mechanisms "$tmp/rule.plist"
}

case "${1:-}" in
backup) backup ;;
install) install ;;
remove) remove ;;
status) status ;;
*) echo "usage: authdb.sh backup|install|remove|status" >&2; exit 2 ;;
esac
