#!/bin/bash
# test-systemd.sh: the .deb on a booted Debian, with systemd as PID 1, as an
# admin meets it. For each release in RELEASES (bookworm, trixie) a Debian
# root made by mmdebstrap is booted with systemd-nspawn; commands run inside
# with nsenter, and a real OpenSSH client logs in through a pty (expect) to
# the container's own sshd on its own port (the container shares the host's
# network). In each booted system:
#
#   1. the previous release (0.1.0: a root daemon making its own socket) is
#      installed and set up the README's way; a login with password + code;
#   2. upgrade to this build: the daemon now runs as _jcmfa with no
#      capabilities, systemd holds the socket, the store, key and
#      enrollments are the same; modes and owners; systemd-analyze security
#      before and after (after must be <= 2.0);
#   3. reboot: the socket and the daemon are up before ssh;
#   4. right code, wrong code (found by journalctl VERDICT=deny), replayed
#      code, lockout, unlock;
#   5. SIGKILL: systemd restarts the daemon; a login started during the
#      restart waits in the socket's queue and is allowed once the fence
#      (docs/policy.md, D13) lets a code through;
#   6. a hung daemon (SIGSTOP) is killed and restarted by the watchdog;
#      systemctl stop with a dialogue open returns within seconds;
#   7. upgrade to a newer build keeps the store, key and enrollments;
#   8. purge removes them, and ssh logs in with the password alone.
#
# Usage: packaging/linux/test-systemd.sh   (or: make test-systemd), as root.
# Needs: mmdebstrap, systemd-container, expect, oathtool, openssh-client,
# and Debian's mirrors (the roots are cached in $CACHE between runs).
# Transcript: dist/test-systemd.log.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT_DIR=$PWD
LOG=$ROOT_DIR/dist/test-systemd.log
RELEASES=${RELEASES:-bookworm trixie}
CACHE=${JCMFA_ROOT_CACHE:-/var/cache/jcmfa-systemd}
# The code that shipped as 0.1.0: the daemon ran as root and made its own
# socket. The upgrade from it is what admins will do first.
OLD_REF=${OLD_REF:-491e59f3673a195cc78fcd2bcd2c06a134b57c63}
OLD_VERSION=0.1.0
# What each booted root has besides minbase: systemd and sshd to test, and
# what the checks use inside (ps, ss). The cache file is named by this list.
INCLUDE=systemd,systemd-sysv,dbus,openssh-server,openssh-client,expect,oathtool,libpam-runtime,iproute2,procps
# systemd-analyze security's exposure for the unit must be at most this.
MAX_EXPOSURE=2.0

die() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: it boots containers with systemd-nspawn"
missing=
for c in mmdebstrap systemd-nspawn nsenter expect oathtool ssh dpkg git make go; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -z "$missing" ] || die "missing:$missing (Debian: apt-get install mmdebstrap systemd-container expect oathtool openssh-client)"

mkdir -p "$ROOT_DIR/dist" "$CACHE"
exec > >(tee "$LOG") 2>&1

TMP=$(mktemp -d /var/tmp/jcmfa-systemd.XXXXXX)
NSPAWN_PID= PID1= ROOT= OLDTREE=
cleanup() {
	local rc=$?
	set +e
	declare -F stop_container >/dev/null && stop_container
	[ -n "$OLDTREE" ] && git worktree remove --force "$OLDTREE" >/dev/null 2>&1
	rm -rf "$TMP"
	if [ $rc = 0 ]; then echo "PASS (transcript: $LOG)"; else echo "FAIL (exit $rc; transcript: $LOG)"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }
check() { if eval "$1"; then echo "ok: $2"; else die "$2 ($1)"; fi; }
# ct runs a command inside the booted container, as root.
ct() { nsenter -t "$PID1" -a "$@"; }
run() { echo "# $*"; ct "$@"; }
mode() { ct stat -c '%a %U:%G' "$1"; }

VERSION=$(cat VERSION)
BUMP=$(echo "$VERSION" | awk -F. -v OFS=. '{ $NF = $NF + 1; print }')
ARCH=$(dpkg --print-architecture)

# ---- packages: 0.1.0, this build, and a newer build of it

step "build $OLD_VERSION ($OLD_REF), $VERSION and $BUMP"
OLD_DEB=$CACHE/jcmfa_${OLD_VERSION}_${ARCH}-${OLD_REF:0:12}.deb
if [ ! -s "$OLD_DEB" ]; then
	git cat-file -e "$OLD_REF^{commit}" 2>/dev/null ||
		die "commit $OLD_REF ($OLD_VERSION) is not in this clone; fetch the full history (git fetch --unshallow)"
	OLDTREE=$TMP/old
	git worktree add --detach "$OLDTREE" "$OLD_REF" >/dev/null
	make -s -C "$OLDTREE" packages PKG_ARCHES="$ARCH" VERSION=$OLD_VERSION >"$TMP/build-old.log" 2>&1 ||
		{ cat "$TMP/build-old.log"; die "make packages at $OLD_REF"; }
	cp "$OLDTREE/dist/jcmfa_${OLD_VERSION}_${ARCH}.deb" "$OLD_DEB"
	git worktree remove --force "$OLDTREE" && OLDTREE=
fi
make -s packages PKG_ARCHES="$ARCH" >"$TMP/build1.log" 2>&1 || { cat "$TMP/build1.log"; die "make packages"; }
make -s packages PKG_ARCHES="$ARCH" VERSION="$BUMP" >"$TMP/build2.log" 2>&1 || { cat "$TMP/build2.log"; die "make packages VERSION=$BUMP"; }
DEB=dist/jcmfa_${VERSION}_${ARCH}.deb
DEB2=dist/jcmfa_${BUMP}_${ARCH}.deb
ls -l "$OLD_DEB" "$DEB" "$DEB2"

# ---- the container

# root_tar makes (once) and names the cached root of a release.
root_tar() {
	local rel=$1 tar
	tar=$CACHE/$rel-$(echo "$INCLUDE" | sha256sum | cut -c1-12).tar
	if [ ! -s "$tar" ]; then
		echo "# mmdebstrap --variant=minbase --include=$INCLUDE $rel $tar" >&2
		# mmdebstrap picks the output's format by its extension.
		mmdebstrap --quiet --variant=minbase --include="$INCLUDE" "$rel" "${tar%.tar}.part.tar" >"$TMP/mmdebstrap.log" 2>&1 ||
			{ cat "$TMP/mmdebstrap.log"; die "mmdebstrap $rel"; }
		mv "${tar%.tar}.part.tar" "$tar"
	fi
	echo "$tar"
}

boot() {
	: >"$TMP/console-$REL.log"
	systemd-nspawn --quiet --register=no --keep-unit --console=read-only -D "$ROOT" \
		--machine="jcmfa-$REL" --boot >>"$TMP/console-$REL.log" 2>&1 &
	NSPAWN_PID=$!
	PID1=
	for _ in $(seq 300); do
		PID1=$(pgrep -P "$NSPAWN_PID" -x systemd || true)
		[ -n "$PID1" ] && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$TMP/console-$REL.log"; die "systemd-nspawn exited"; }
		sleep 0.1
	done
	[ -n "$PID1" ] || die "no systemd inside the container"
	# Until systemd's private socket is up, systemctl cannot ask it.
	local state=
	for _ in $(seq 600); do
		state=$(ct systemctl is-system-running 2>/dev/null || true)
		case $state in running | degraded | maintenance | stopping) break ;; esac
		sleep 0.2
	done
	echo "booted $REL (PID 1 is host pid $PID1): $state"
	if [ "$state" != running ]; then
		ct systemctl --failed --no-pager || true
		die "the system did not reach 'running' ($state)"
	fi
}

stop_container() {
	[ -n "$NSPAWN_PID" ] || return 0
	if kill -0 "$NSPAWN_PID" 2>/dev/null; then
		ct systemctl poweroff >/dev/null 2>&1 || kill "$NSPAWN_PID"
		for _ in $(seq 300); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$NSPAWN_PID" 2>/dev/null || true
	fi
	wait "$NSPAWN_PID" 2>/dev/null || true
	NSPAWN_PID= PID1=
}

# ---- logins

declare -A SECRET
PASSWORD=

# login USER CODE [NOT_BEFORE_FILE]: one ssh login; its transcript in
# $TMP/ssh.out; the exit status of ssh-login.exp.
login() {
	echo "# ssh -p $PORT $1@127.0.0.1    (password, then code ${2%%:*}${3:+, answered once $3 allows})"
	local rc=0
	expect -f packaging/linux/ssh-login.exp "$PORT" "$1" "$PASSWORD" "$2" "${3:-}" >"$TMP/ssh.out" 2>&1 || rc=$?
	sed 's/^/  /' "$TMP/ssh.out"
	return $rc
}
login_ok() { login "$@" || die "$1 could not log in with the right code"; echo "ok: $1 logged in with password and code"; }
login_refused() { if login "$@"; then die "$1 logged in with ${2}"; fi; echo "ok: $1 refused"; }
wrong_code() { local c; c=$(oathtool --totp -b "${SECRET[$1]}"); printf '%06d' $(((10#$c + 500000) % 1000000)); }
exposure() { ct systemd-analyze security jcmfa-agent.service 2>/dev/null | awk '/Overall exposure level/ { print $(NF-2) }'; }
key_sum() { ct sha256sum /var/lib/jcmfa/store.key | cut -d' ' -f1; }
main_user() { ct ps -o user= -p "$(ct systemctl show -p MainPID --value jcmfa-agent.service)" | tr -d ' '; }

# after_fence writes to $TMP/nb when the newest fence the daemon logged lets
# codes through again: after an unclean stop (kill, watchdog) it refuses
# codes up to the step of its start plus the skew (1) as possibly used.
after_fence() {
	local f
	f=$(ct journalctl -q -u jcmfa-agent.service -o json | grep -o '"FENCE":"[^"]*"' | tail -1 | cut -d'"' -f4 || true)
	if [ -n "$f" ]; then echo $((($(date -d "$f" +%s) / 30 + 2) * 30)); else echo 0; fi >"$TMP/nb"
}

enrolled_users() { ct jcmfa-agent users --json | grep -o '"user":"u[0-9]","status":"enrolled"' | grep -o 'u[0-9]' | sort | tr '\n' ' '; }

for REL in $RELEASES; do
	step "$REL: boot a fresh root"
	TAR=$(root_tar "$REL")
	ROOT=$TMP/root-$REL
	mkdir -p "$ROOT"
	tar -C "$ROOT" -xf "$TAR"
	# The container shares the host's network: its sshd gets a free port.
	while :; do
		PORT=$((20000 + RANDOM % 20000))
		(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null || break
	done
	printf 'Port %s\nListenAddress 127.0.0.1\n' "$PORT" >"$ROOT/etc/ssh/sshd_config.d/10-test.conf"
	install -d "$ROOT/root/debs"
	cp "$OLD_DEB" "$ROOT/root/debs/jcmfa_${OLD_VERSION}_$ARCH.deb"
	cp "$DEB" "$DEB2" "$ROOT/root/debs/"
	boot
	run dpkg-query -W systemd openssh-server
	check 'ct systemctl is-active --quiet ssh.service' "sshd runs on port $PORT"
	# OpenSSH 9.8 and later (trixie) refuse connections for a while from an
	# address with repeated failed logins (PerSourcePenalties, sshd_config(5)),
	# and wrong codes are failed logins: this test makes several on purpose
	# from 127.0.0.1, so it is exempted. Older sshd does not know the option.
	if ct /usr/sbin/sshd -t -o PerSourcePenaltyExemptList=127.0.0.1 2>/dev/null; then
		echo "PerSourcePenaltyExemptList 127.0.0.1" >>"$ROOT/etc/ssh/sshd_config.d/10-test.conf"
		ct systemctl reload ssh
		echo "sshd has PerSourcePenalties: 127.0.0.1 exempted for this test"
	fi

	step "$REL: install $OLD_VERSION and set it up as the README says"
	run dpkg -i "/root/debs/jcmfa_${OLD_VERSION}_$ARCH.deb" >/dev/null
	check '[ "$(main_user)" = root ]' "$OLD_VERSION's daemon runs as root"
	BEFORE=$(exposure)
	echo "systemd-analyze security jcmfa-agent.service ($OLD_VERSION): $BEFORE"
	PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
	for u in u1 u2 u3 u4 u5; do
		ct useradd -m -s /bin/sh "$u"
		echo "$u:$PASSWORD" | ct chpasswd
	done
	run jcmfa-agent org totp enable >/dev/null
	run jcmfa-agent device mfa enable >/dev/null
	run jcmfa-agent settings --attempts 3 --skew 1 >/dev/null
	for u in u1 u2 u3 u4 u5; do
		ct jcmfa-agent user require "$u" >/dev/null
		SECRET[$u]=$(ct jcmfa-agent user enroll "$u" | grep -o 'secret=[A-Z2-7]*' | head -1 | cut -d= -f2)
		[ -n "${SECRET[$u]}" ] || die "no secret in the enrollment of $u"
	done
	echo "# jcmfa-agent user require/enroll u1..u5"
	run jcmfa-agent setup ssh
	run systemctl reload ssh
	login_ok u1 "totp:${SECRET[u1]}"
	KEYSUM=$(key_sum)

	step "$REL: upgrade to $VERSION: the daemon without root, the socket held by systemd"
	run dpkg -i "/root/debs/$(basename "$DEB")" >/dev/null
	check 'ct systemctl is-active --quiet jcmfa-agent.socket jcmfa-agent.service' "socket and service are active"
	check '[ "$(main_user)" = _jcmfa ]' "the daemon runs as _jcmfa"
	pid=$(ct systemctl show -p MainPID --value jcmfa-agent.service)
	check '[ "$(ct grep ^CapEff: /proc/$pid/status | cut -f2)" = 0000000000000000 ]' "the daemon has no effective capabilities"
	check '[ "$(ct grep ^CapBnd: /proc/$pid/status | cut -f2)" = 0000000000000000 ]' "and an empty bounding set"
	# Local grace windows (sudo in the same login session) read a root
	# process's session id and the boot id; in the daemon's own mount
	# namespace (its /proc) and as _jcmfa, both must be readable.
	check 'ct nsenter -t "$pid" -m setpriv --reuid=_jcmfa --regid=_jcmfa --clear-groups cat /proc/1/sessionid /proc/sys/kernel/random/boot_id >/dev/null' "the daemon can read a root process's session id and the boot id"
	check '[ "$(mode /var/lib/jcmfa)" = "700 _jcmfa:_jcmfa" ]' "/var/lib/jcmfa 0700 _jcmfa"
	check '[ "$(mode /var/lib/jcmfa/store.key)" = "600 _jcmfa:_jcmfa" ]' "store.key 0600 _jcmfa"
	check '[ "$(mode /var/lib/jcmfa/jcmfa.db)" = "600 _jcmfa:_jcmfa" ]' "jcmfa.db 0600 _jcmfa"
	check '[ "$(mode /run/jcmfa)" = "755 root:root" ]' "/run/jcmfa 0755 root"
	check '[ "$(mode /run/jcmfa/agent.sock)" = "666 root:root" ]' "agent.sock 0666 root (made by systemd)"
	check '[ "$(key_sum)" = "$KEYSUM" ]' "store.key is the same key"
	check '[ "$(enrolled_users)" = "u1 u2 u3 u4 u5 " ]' "every enrollment survived"
	run jcmfa-agent doctor >"$TMP/doctor" 2>&1 || { cat "$TMP/doctor"; die "doctor found problems after the upgrade"; }
	echo "ok: doctor finds no problems"
	AFTER=$(exposure)
	echo "systemd-analyze security jcmfa-agent.service ($VERSION): $AFTER (was $BEFORE)"
	check 'awk -v a="$AFTER" -v m=$MAX_EXPOSURE "BEGIN { exit !(a <= m) }"' "exposure $AFTER <= $MAX_EXPOSURE"
	# The peer rules did not move with the daemon's uid: logins and admin
	# commands from root (above), nothing of the kind from a user.
	ct runuser -u u1 -- jcmfa-agent login u2 --code 000000 >"$TMP/peer" 2>&1 || true
	check 'grep -q "only root may ask the daemon to log someone in" "$TMP/peer"' "a user cannot ask for a LOGIN (forbidden)"
	if ct runuser -u u1 -- jcmfa-agent user unlock u2 >"$TMP/peer" 2>&1; then cat "$TMP/peer"; die "a user ran an admin command"; fi
	echo "ok: a user cannot run admin commands: $(head -1 "$TMP/peer")"
	ct runuser -u u1 -- jcmfa-agent status >"$TMP/peer" 2>&1 || { cat "$TMP/peer"; die "u1 could not see its own status"; }
	echo "ok: a user sees its own status"
	login_ok u2 "totp:${SECRET[u2]}"

	step "$REL: reboot: socket and daemon come up before ssh"
	stop_container
	boot
	ts() { ct systemctl show -p "$2" --value "$1"; }
	sock_up=$(ts jcmfa-agent.socket ActiveEnterTimestampMonotonic)
	agent_up=$(ts jcmfa-agent.service ActiveEnterTimestampMonotonic)
	ssh_start=$(ts ssh.service InactiveExitTimestampMonotonic)
	echo "monotonic µs: socket listening $sock_up, daemon ready $agent_up, sshd starting $ssh_start"
	check '[ "$sock_up" -gt 0 ] && [ "$sock_up" -le "$ssh_start" ]' "the socket listens before sshd starts"
	check '[ "$agent_up" -gt 0 ] && [ "$agent_up" -le "$ssh_start" ]' "the daemon is ready (READY=1) before sshd starts"

	step "$REL: right, wrong, replayed codes; lockout and unlock"
	login_ok u3 "totp:${SECRET[u3]}"
	used=$(oathtool --totp -b "${SECRET[u3]}")
	login_refused u3 "$used"
	ct journalctl -u jcmfa-agent.service -o cat --output-fields=MESSAGE,USER,VERDICT,REASON USER=u3 | tail -3
	ct journalctl -q -u jcmfa-agent.service USER=u3 REASON=replayed-code -o cat | grep . >/dev/null || die "the replay is not in the journal as REASON=replayed-code"
	echo "ok: the replayed code is refused (journal: USER=u3 REASON=replayed-code)"
	login_refused u4 "$(wrong_code u4)"
	echo "# journalctl -u jcmfa-agent VERDICT=deny USER=u4"
	ct journalctl -q -u jcmfa-agent.service VERDICT=deny USER=u4 -o json >"$TMP/deny.json"
	check 'grep -q "\"PRIORITY\"" "$TMP/deny.json" && grep -q "\"SURFACE\"" "$TMP/deny.json"' "journalctl VERDICT=deny USER=u4 finds the wrong code, with PRIORITY and SURFACE"
	login_refused u4 "$(wrong_code u4)"
	login_refused u4 "$(wrong_code u4)"
	check 'ct jcmfa-agent user status u4 | grep -i locked >/dev/null' "three wrong codes lock u4"
	login_refused u4 "totp:${SECRET[u4]}"
	run jcmfa-agent user unlock u4
	login_ok u4 "totp:${SECRET[u4]}"

	step "$REL: SIGKILL: systemd restarts the daemon; a login during the restart waits"
	t0=$(date +%s.%N)
	run systemctl kill -s KILL jcmfa-agent.service
	rm -f "$TMP/notbefore"
	login u5 "totp:${SECRET[u5]}" "$TMP/notbefore" &
	LOGIN_PID=$!
	# The restarted daemon fences codes up to the step of its start plus
	# the skew (1): the first code it takes is two steps after the fence.
	fence=
	for _ in $(seq 200); do
		fence=$(ct journalctl -q -u jcmfa-agent.service -o json --since "@${t0%.*}" | grep -o '"FENCE":"[^"]*"' | tail -1 | cut -d'"' -f4 || true)
		[ -n "$fence" ] && break
		sleep 0.1
	done
	[ -n "$fence" ] || die "the restarted daemon logged no FENCE"
	notbefore=$(( ($(date -d "$fence" +%s) / 30 + 2) * 30 ))
	echo "$notbefore" >"$TMP/notbefore"
	echo "restarted; its fence is $fence, so codes are taken from $(date -u -d "@$notbefore" +%T)"
	wait "$LOGIN_PID" || die "the login made during the restart failed"
	prompt=$(grep -o 'PROMPT [0-9]*' "$TMP/ssh.out" | cut -d' ' -f2)
	RESTART_WAIT=$(awk -v p="$prompt" -v t="$t0" 'BEGIN { printf "%.0f", p - t }')
	echo "ok: the login started during the restart was asked for its code ${RESTART_WAIT} s after the kill (it waited in the socket's queue) and was allowed at $(date -u +%T)"

	step "$REL: a hung daemon is restarted by the watchdog"
	# 30 s in the unit; 3 s in a drop-in here so the test waits less.
	install -d "$ROOT/etc/systemd/system/jcmfa-agent.service.d"
	printf '[Service]\nWatchdogSec=3s\n' >"$ROOT/etc/systemd/system/jcmfa-agent.service.d/watchdog-test.conf"
	ct systemctl daemon-reload
	run systemctl restart jcmfa-agent.service
	hung=$(ct systemctl show -p MainPID --value jcmfa-agent.service)
	echo "# kill -STOP $hung    (the daemon stops answering and pinging)"
	ct kill -STOP "$hung"
	for _ in $(seq 150); do
		now=$(ct systemctl show -p MainPID --value jcmfa-agent.service)
		[ "$now" != "$hung" ] && [ "$now" != 0 ] && break
		sleep 0.1
	done
	check '[ "$now" != "$hung" ] && [ "$now" != 0 ]' "systemd replaced the hung daemon (pid $hung -> $now)"
	# systemd's own line about the unit; journald may file it a moment later.
	for _ in $(seq 50); do
		ct journalctl -q -u jcmfa-agent.service -o cat | grep "Watchdog timeout" >/dev/null && break
		sleep 0.1
	done
	ct journalctl -q -u jcmfa-agent.service -o cat | grep "Watchdog timeout" | tail -1
	check 'ct journalctl -q -u jcmfa-agent.service -o cat | grep "Watchdog timeout" >/dev/null' "the journal says it was the watchdog"
	rm -r "$ROOT/etc/systemd/system/jcmfa-agent.service.d"
	ct systemctl daemon-reload
	run systemctl restart jcmfa-agent.service

	step "$REL: systemctl stop returns within seconds with a dialogue open"
	login u1 "totp:${SECRET[u1]}" "$TMP/never" &
	LOGIN_PID=$!
	for _ in $(seq 100); do grep -q PROMPT "$TMP/ssh.out" 2>/dev/null && break; sleep 0.2; done
	grep -q PROMPT "$TMP/ssh.out" || die "no code prompt for the open dialogue"
	s0=$(date +%s%N)
	run systemctl stop jcmfa-agent.service
	stop_ms=$(( ($(date +%s%N) - s0) / 1000000 ))
	echo "systemctl stop took $stop_ms ms"
	check '[ $stop_ms -lt 5000 ]' "stop within 5 s with a dialogue open"
	echo 0 >"$TMP/never"
	wait "$LOGIN_PID" && die "the dialogue open at stop was allowed"
	echo "ok: the open dialogue was refused, not allowed"
	run systemctl start jcmfa-agent.service

	step "$REL: upgrade to $BUMP keeps the store, key and enrollments"
	run dpkg -i "/root/debs/$(basename "$DEB2")" >/dev/null
	check '[ "$(ct dpkg-query -W -f "\${Version}" jcmfa)" = "$BUMP" ]' "jcmfa $BUMP is installed"
	check '[ "$(key_sum)" = "$KEYSUM" ]' "store.key is the same key"
	check '[ "$(enrolled_users)" = "u1 u2 u3 u4 u5 " ]' "every enrollment survived"
	check '[ "$(main_user)" = _jcmfa ]' "the daemon runs as _jcmfa"
	after_fence # the watchdog's kill above fenced codes
	login_ok u2 "totp:${SECRET[u2]}" "$TMP/nb"

	step "$REL: purge"
	run dpkg --purge jcmfa >/dev/null
	check '[ ! -e "$ROOT/var/lib/jcmfa" ]' "/var/lib/jcmfa is gone"
	check '! ct systemctl is-active --quiet jcmfa-agent.socket && ! ct systemctl is-active --quiet jcmfa-agent.service' "socket and service are stopped"
	check '[ ! -e "$ROOT/usr/lib/systemd/system/jcmfa-agent.socket" ] && [ ! -e "$ROOT/etc/systemd/system/sockets.target.wants/jcmfa-agent.socket" ]' "the units and their enablement are gone"
	check '! grep -rqs pam_jcmfa "$ROOT/etc/pam.d/"' "no pam_jcmfa line is left"
	run systemctl reload ssh
	echo "# ssh -p $PORT u1@127.0.0.1    (password only)"
	expect -c "set timeout 30; log_user 0
		spawn ssh -p $PORT -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o PubkeyAuthentication=no u1@127.0.0.1 echo JCMFA-LOGGED-IN
		expect -re {assword: ?\$}; send -- {$PASSWORD}; send \"\r\"
		expect { JCMFA-LOGGED-IN { exit 0 } -re {code} { exit 1 } timeout { exit 2 } eof { exit 1 } }" ||
		die "after purge, u1 could not log in with the password alone"
	echo "ok: after purge, sshd asks for the password only"

	echo
	echo "$REL: exposure $BEFORE -> $AFTER; login during the restart after SIGKILL: asked after ${RESTART_WAIT} s, allowed; stop ${stop_ms} ms"
	stop_container
	rm -rf "$ROOT"
done
