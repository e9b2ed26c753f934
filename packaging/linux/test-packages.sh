#!/bin/bash
# test-packages.sh: the Linux packages, end to end, on this machine (root,
# Debian, no systemd needed). Builds the .deb twice (VERSION and a bumped
# version), installs the first, logs in through the CLI and through a real
# sshd using the installed module and the system's own sshd and PAM files,
# upgrades, checks the store survived and logs in again with the same
# secret, removes (the PAM line and drop-in must go, sshd -t must pass),
# purges; lintian on the .deb, rpm -qpl on the .rpm.
#
# Everything it changes is put back on exit, failure included: the files it
# may touch in /etc/ssh and /etc/pam.d, the package, the test user, the
# daemon and sshd it starts. It refuses to start where jcmfa is already
# installed or configured, rather than guess what to restore.
#
# Usage: packaging/linux/test-packages.sh   (or: make test-packages)
# Needs: dpkg, lintian, rpm, oathtool, openssh-server, openssh-client;
# systemd-analyze is used when present. The transcript goes to stdout and
# to dist/test-packages.log.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
LOG=$ROOT/dist/test-packages.log
USER_NAME=jcmfapkg
SOCK=/run/jcmfa/agent.sock

die() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: it installs the package and edits /etc/pam.d and /etc/ssh (and puts them back)"
missing=
for c in dpkg dpkg-deb lintian rpm oathtool /usr/sbin/sshd ssh ssh-keygen setsid useradd make go; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -z "$missing" ] || die "missing:$missing (Debian: apt-get install lintian rpm oathtool openssh-server openssh-client)"
[ -f /usr/share/selinux/devel/Makefile ] || die "missing: /usr/share/selinux/devel/Makefile, for the rpm's SELinux module (Debian: apt-get install selinux-policy-dev)"
if dpkg-query -W -f '${Status}' jcmfa 2>/dev/null | grep -q installed; then
	die "jcmfa is installed on this machine already; this test installs and purges it, so remove it first"
fi
grep -qs pam_jcmfa /etc/pam.d/sshd && die "/etc/pam.d/sshd already uses pam_jcmfa; this test would not know what to put back"
[ -e /etc/ssh/sshd_config.d/50-jcmfa.conf ] && die "/etc/ssh/sshd_config.d/50-jcmfa.conf exists already"
[ -S $SOCK ] && die "a daemon already listens on $SOCK"
getent passwd $USER_NAME >/dev/null && die "user $USER_NAME exists already"

mkdir -p "$ROOT/dist"
exec > >(tee "$LOG") 2>&1

TMP=$(mktemp -d /tmp/jcmfa-pkgtest.XXXXXX)
BACKUP=$TMP/etc
mkdir -p "$BACKUP"
cp -a /etc/ssh "$BACKUP/ssh"
cp -a /etc/pam.d "$BACKUP/pam.d"
DAEMON_PID= SSHD_PID= USER_ADDED=
# The daemon makes /run/jcmfa (systemd would, and remove it). /run/sshd,
# sshd's privilege separation directory, stays: other sshds may use it.
NEW_RUN_DIRS=
[ -e /run/jcmfa ] || NEW_RUN_DIRS=/run/jcmfa

# Put back every file in /etc/ssh and /etc/pam.d that differs from the copy
# taken at the start, and delete the files jcmfa may have added. Files that
# appeared for other reasons (other tests' PAM services) are left alone.
restore() {
	local rc=$?
	set +e
	echo
	echo "== cleanup"
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null
	if dpkg-query -W -f '${Status}' jcmfa 2>/dev/null | grep -qv not-installed; then
		JCMFA_FORCE_REMOVE=1 dpkg --purge jcmfa >/dev/null 2>&1 || echo "could not purge jcmfa: run dpkg --purge jcmfa"
	fi
	[ -n "$USER_ADDED" ] && userdel -r $USER_NAME 2>/dev/null
	for d in $NEW_RUN_DIRS; do rm -rf "$d"; done
	local d f
	for d in ssh pam.d; do
		while IFS= read -r -d '' f; do
			if ! cmp -s "$BACKUP/$d/$f" "/etc/$d/$f"; then
				cp -a "$BACKUP/$d/$f" "/etc/$d/$f" && echo "restored /etc/$d/${f#./}"
			fi
		done < <(cd "$BACKUP/$d" && find . -type f -print0)
	done
	for f in /etc/ssh/sshd_config.d/50-jcmfa.conf /etc/pam.d/jcmfa-pkgtest /etc/pam.d/*.jcmfa-tmp /etc/ssh/sshd_config.d/*.jcmfa-tmp; do
		[ -e "$f" ] && [ ! -e "$BACKUP/${f#/etc/}" ] && rm -f "$f" && echo "removed $f"
	done
	rm -rf "$TMP"
	[ -n "${BUMP:-}" ] && rm -f "$ROOT"/dist/jcmfa_"$BUMP"_*.deb "$ROOT"/dist/jcmfa-"$BUMP"-1.*.rpm
	if [ $rc = 0 ]; then echo "PASS (transcript: $LOG)"; else echo "FAIL (exit $rc; transcript: $LOG)"; fi
	exit $rc
}
trap restore EXIT
trap 'exit 130' INT TERM

step() { echo; echo "== $*"; }
# run shows a command and its output, as in a terminal.
run() { echo "# $*"; "$@"; }
expect_fail() { echo "# $*"; if "$@"; then die "expected '$*' to fail"; fi; }
check() { if eval "$1"; then echo "ok: $2"; else die "$2 ($1)"; fi; }
mode() { stat -c '%a %U:%G' "$1"; }

VERSION=$(cat VERSION)
BUMP=$(echo "$VERSION" | awk -F. -v OFS=. '{ $NF = $NF + 1; print }')
ARCH=$(dpkg --print-architecture)
case $ARCH in
amd64) MULTIARCH=x86_64-linux-gnu ;;
arm64) MULTIARCH=aarch64-linux-gnu ;;
*) die "no multiarch triplet known for $ARCH" ;;
esac
DEB=dist/jcmfa_${VERSION}_${ARCH}.deb
DEB2=dist/jcmfa_${BUMP}_${ARCH}.deb
RPM=$(ls dist/jcmfa-"$VERSION"-1.*.rpm 2>/dev/null | head -1 || true)

step "build $VERSION and $BUMP"
ARCHES=$ARCH
# arm64 is built and linted too where its cross toolchain is installed.
if [ "$ARCH" = amd64 ] && command -v aarch64-linux-gnu-gcc >/dev/null && [ -e /usr/lib/aarch64-linux-gnu/libpam.so ]; then
	ARCHES="amd64 arm64"
fi
make -s packages PKG_ARCHES="$ARCHES" >"$TMP/build1.log" 2>&1 || { cat "$TMP/build1.log"; die "make packages"; }
make -s packages PKG_ARCHES="$ARCH" VERSION="$BUMP" >"$TMP/build2.log" 2>&1 || { cat "$TMP/build2.log"; die "make packages VERSION=$BUMP"; }
RPM=$(ls dist/jcmfa-"$VERSION"-1.*.rpm | grep -v aarch64 | head -1)
ls -l dist/jcmfa_"$VERSION"_*.deb dist/jcmfa-"$VERSION"-1.*.rpm "$DEB2"

step "lintian"
for d in dist/jcmfa_"${VERSION}"_*.deb; do
	echo "# lintian --pedantic --show-overrides $d"
	lintian --pedantic --show-overrides "$d" 2>&1 | grep -v 'running with root privileges' | tee "$TMP/lintian" || true
	grep -q '^E:' "$TMP/lintian" && die "lintian reports errors for $d"
	[ -s "$TMP/lintian" ] || echo "(no tags)"
done

step "rpm -qpl $RPM"
rpm -qpl "$RPM" | grep -v '^/usr/share/man/' | tee "$TMP/rpm-files"
echo "(and $(rpm -qpl "$RPM" | grep -c '^/usr/share/man/man8/') man pages in /usr/share/man/man8)"
for f in /usr/sbin/jcmfa-agent /usr/lib64/security/pam_jcmfa.so /usr/lib/systemd/system/jcmfa-agent.service \
	/etc/default/jcmfa-agent /usr/share/doc/jcmfa/README.md; do
	grep -qx "$f" "$TMP/rpm-files" || die "$RPM lacks $f"
done
rpm -qp --configfiles "$RPM" | grep -qx /etc/default/jcmfa-agent || die "/etc/default/jcmfa-agent is not a config file in $RPM"
echo "ok: rpm has the agent, /usr/lib64/security/pam_jcmfa.so, the unit, the config file (%config) and docs"
# The SELinux module (make test-selinux links and checks the same file, and
# runs the scriptlets' SELinux lines against a copy of a policy store).
PP=/usr/share/selinux/packages/targeted/jcmfa.pp.bz2
grep -qx $PP "$TMP/rpm-files" || die "$RPM lacks $PP"
[ "$(rpm -qp --dump "$RPM" | awk -v f=$PP '$1 == f { print $4 }')" = "$(sha256sum dist/build/selinux/jcmfa.pp.bz2 | cut -d' ' -f1)" ] ||
	die "$PP in $RPM is not dist/build/selinux/jcmfa.pp.bz2"
rpm -qp --scripts "$RPM" >"$TMP/rpm-scripts"
for l in "semodule -n -s targeted -X 200 -i $PP" "restorecon -R /usr/sbin/jcmfa-agent /var/lib/jcmfa /run/jcmfa" \
	"semodule -n -X 200 -s targeted -r jcmfa"; do
	grep -qF "$l" "$TMP/rpm-scripts" || die "the rpm scriptlets lack: $l (rpm -qp --scripts $RPM)"
done
if dpkg-deb -c "$DEB" | grep selinux; then die "$DEB carries SELinux files: the module is for the rpm only"; fi
echo "ok: rpm has $PP (the one make selinux built) and loads it in %post (semodule -X 200), removes it in %postun"

step "install $DEB"
run dpkg -i "$DEB"
check '[ "$(mode /usr/sbin/jcmfa-agent)" = "755 root:root" ]' "/usr/sbin/jcmfa-agent 0755 root"
MODULE=/usr/lib/$MULTIARCH/security/pam_jcmfa.so
check '[ "$(mode $MODULE)" = "644 root:root" ]' "$MODULE 0644 root"
check '[ "$(mode /var/lib/jcmfa)" = "700 root:root" ]' "/var/lib/jcmfa 0700 root (postinst)"
check 'dpkg-query -W -f "\${Conffiles}" jcmfa | grep -q /etc/default/jcmfa-agent' "/etc/default/jcmfa-agent is a conffile"
check 'grep -q "^Default: no" /usr/share/pam-configs/jcmfa' "pam-auth-update profile is Default: no"
check '! grep -rqs pam_jcmfa /etc/pam.d/' "installing switched nothing on in /etc/pam.d"
check '[ ! -e /etc/ssh/sshd_config.d/50-jcmfa.conf ]' "installing wrote no sshd drop-in"
# Minimal images exclude /usr/share/man from dpkg: ask the package, not the disk.
check 'dpkg -L jcmfa | grep -q /usr/share/man/man8/jcmfa-agent.8.gz' "the package has the man pages"
if command -v systemd-analyze >/dev/null; then
	# Without man pages on disk (dpkg path-exclude) verify cannot resolve
	# Documentation=man:...; everything else it still checks.
	man=
	[ -e /usr/share/man/man8/jcmfa-agent.8.gz ] || man=--man=no
	run systemd-analyze verify $man /usr/lib/systemd/system/jcmfa-agent.service
	echo "ok: systemd-analyze verify"
fi

start_daemon() {
	if [ -d /run/systemd/system ]; then
		run systemctl restart jcmfa-agent
	else
		echo "# /usr/sbin/jcmfa-agent run &    (systemd is not PID 1)"
		/usr/sbin/jcmfa-agent run >>"$TMP/daemon.log" 2>&1 &
		DAEMON_PID=$!
	fi
	for _ in $(seq 100); do
		[ -S $SOCK ] && jcmfa-agent users >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$TMP/daemon.log" 2>/dev/null
	die "the daemon did not answer on $SOCK"
}
stop_daemon() {
	if [ -d /run/systemd/system ]; then
		systemctl stop jcmfa-agent
	elif [ -n "$DAEMON_PID" ]; then
		kill "$DAEMON_PID"
		wait "$DAEMON_PID" 2>/dev/null || true
		DAEMON_PID=
	fi
}

step "start the installed daemon"
start_daemon
check '[ "$(mode /var/lib/jcmfa/store.key)" = "600 root:root" ]' "store.key 0600 root"
check '[ "$(mode /var/lib/jcmfa/jcmfa.db)" = "600 root:root" ]' "jcmfa.db 0600 root"
check '[ "$(mode /run/jcmfa)" = "755 root:root" ]' "/run/jcmfa 0755 root"
KEYSUM=$(sha256sum /var/lib/jcmfa/store.key | cut -d' ' -f1)

step "doctor before setup ssh: must report problems"
expect_fail jcmfa-agent doctor

step "setup ssh"
run jcmfa-agent setup ssh
run grep -n -B1 pam_jcmfa /etc/pam.d/sshd

step "the policy, a user, an enrollment"
useradd -m -s /bin/sh $USER_NAME && USER_ADDED=1
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
echo "$USER_NAME:$PASSWORD" | chpasswd
run jcmfa-agent org totp enable
run jcmfa-agent device mfa enable
run jcmfa-agent user require $USER_NAME
jcmfa-agent user enroll $USER_NAME >"$TMP/enroll"
SECRET=$(grep -o 'secret=[A-Z2-7]*' "$TMP/enroll" | head -1 | cut -d= -f2)
[ -n "$SECRET" ] || { cat "$TMP/enroll"; die "no secret in the enrollment output"; }
echo "# jcmfa-agent user enroll $USER_NAME    (QR code and otpauth:// URI; secret ${SECRET:0:4}...)"

step "doctor after setup ssh: sshd and pam must pass"
echo "# jcmfa-agent doctor"
jcmfa-agent doctor | tee "$TMP/doctor" || true
check '! grep -E "^FAIL +(sshd|pam):" "$TMP/doctor"' "doctor: no sshd or pam failure"
check 'grep -qE "^ok +pam:" "$TMP/doctor"' "doctor: pam_jcmfa is in the sshd stack"

# Each time step is accepted once per user. The daemon allows one step of
# clock skew, so the step after the last one used is valid as soon as the
# clock reaches the last one: wait only when that is not yet the case.
# Sets CODE (not printed: a subshell would lose LAST_STEP).
LAST_STEP=0 CODE=
fresh_code() {
	local now=$(( $(date +%s) / 30 )) step
	step=$(( LAST_STEP + 1 > now ? LAST_STEP + 1 : now ))
	while [ $(( $(date +%s) / 30 + 1 )) -lt "$step" ]; do sleep 1; done
	LAST_STEP=$step
	CODE=$(oathtool --totp -b "$SECRET" -N "@$(( step * 30 ))")
}

# A real sshd with the system's sshd_config (with the drop-in) and the
# system's PAM service "sshd": the installed module and stack, on a free
# port on 127.0.0.1. ssh answers keyboard-interactive through SSH_ASKPASS
# when it has no terminal: the password for pam_unix, the code for pam_jcmfa.
PORT=$(( 20000 + RANDOM % 20000 ))
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id"
HOME_DIR=$(getent passwd $USER_NAME | cut -d: -f6)
install -d -m 0700 -o $USER_NAME -g $USER_NAME "$HOME_DIR/.ssh"
install -m 0600 -o $USER_NAME -g $USER_NAME "$TMP/id.pub" "$HOME_DIR/.ssh/authorized_keys"
printf '%s\n' "$PASSWORD" >"$TMP/password"
cat >"$TMP/askpass" <<EOF
#!/bin/sh
case "\$1" in
*assword*) cat $TMP/password ;;
*) cat $TMP/code ;;
esac
EOF
chmod 0700 "$TMP/askpass"

start_sshd() {
	mkdir -p /run/sshd
	/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config -o Port=$PORT -o ListenAddress=127.0.0.1 \
		-o PidFile="$TMP/sshd.pid" >>"$TMP/sshd.log" 2>&1 &
	SSHD_PID=$!
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$TMP/sshd.log"
	die "sshd did not listen on $PORT"
}
stop_sshd() { kill "$SSHD_PID"; wait "$SSHD_PID" 2>/dev/null || true; SSHD_PID=; }

ssh_login() {
	echo "$1" >"$TMP/code"
	echo "# ssh -p $PORT $USER_NAME@127.0.0.1 echo LOGGED-IN    (public key, then password and code: $1)"
	SSH_ASKPASS="$TMP/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 timeout 60 setsid -w \
		ssh -p $PORT -i "$TMP/id" -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o PreferredAuthentications=publickey,keyboard-interactive \
		-o NumberOfPasswordPrompts=1 \
		$USER_NAME@127.0.0.1 echo LOGGED-IN </dev/null 2>&1 | tee "$TMP/ssh.out" || true
	grep -q LOGGED-IN "$TMP/ssh.out"
}

logins() {
	local code
	fresh_code
	code=$CODE
	echo "# jcmfa-agent login $USER_NAME --code $code"
	jcmfa-agent login $USER_NAME --code "$code" | tee "$TMP/login" || true
	check 'tail -1 "$TMP/login" | grep -q "^allow"' "the right code is allowed"
	echo "# jcmfa-agent login $USER_NAME --code $code    (the same code again)"
	jcmfa-agent login $USER_NAME --code "$code" | tee "$TMP/login" || true
	check 'tail -1 "$TMP/login" | grep -q "^deny"' "a replayed code is denied"
	start_sshd
	fresh_code
	ssh_login "$CODE" || { cat "$TMP/sshd.log"; die "ssh login with the right code failed"; }
	echo "ok: ssh login through the installed module and the system's sshd PAM stack"
	if ssh_login 000000; then die "ssh login with a wrong code succeeded"; fi
	echo "ok: ssh login with a wrong code is refused"
	stop_sshd
}

step "log in ($VERSION)"
logins
run jcmfa-agent user status $USER_NAME

step "upgrade to $BUMP"
echo "# local edit to the config file, which the upgrade must keep"
echo '# local edit by test-packages.sh' >>/etc/default/jcmfa-agent
run dpkg -i "$DEB2"
check '[ "$(dpkg-query -W -f "\${Version}" jcmfa)" = "$BUMP" ]' "jcmfa $BUMP is installed"
check 'grep -q "local edit by test-packages.sh" /etc/default/jcmfa-agent' "the edited /etc/default/jcmfa-agent was kept"
check 'grep -q pam_jcmfa /etc/pam.d/sshd && [ -e /etc/ssh/sshd_config.d/50-jcmfa.conf ]' "the upgrade kept the sshd setup"
# The same prerm is the rpm's %preun, which rpm runs with 1 for the old
# package of an upgrade, after the new one's %post: it must do nothing.
/var/lib/dpkg/info/jcmfa.prerm 1
check 'grep -q pam_jcmfa /etc/pam.d/sshd && [ -e /etc/ssh/sshd_config.d/50-jcmfa.conf ]' "prerm 1 (rpm upgrade) kept the sshd setup"
stop_daemon
start_daemon
run jcmfa-agent --version
check '[ "$(sha256sum /var/lib/jcmfa/store.key | cut -d" " -f1)" = "$KEYSUM" ]' "store.key is the same key"
echo "# jcmfa-agent user status $USER_NAME"
jcmfa-agent user status $USER_NAME | tee "$TMP/status"
check 'grep -qi "enrolled" "$TMP/status" && ! grep -qi "not enrolled" "$TMP/status"' "$USER_NAME is still enrolled"

step "log in ($BUMP, same secret)"
logins

step "remove: refused while a hand-written pam_jcmfa line is left"
echo 'auth required pam_jcmfa.so' >/etc/pam.d/jcmfa-pkgtest
expect_fail dpkg -r jcmfa
check 'grep -q pam_jcmfa /etc/pam.d/sshd && [ -e /etc/ssh/sshd_config.d/50-jcmfa.conf ] && [ -e /usr/sbin/jcmfa-agent ]' "the refusal changed nothing"
rm /etc/pam.d/jcmfa-pkgtest

step "remove (with the pam-auth-update profile selected as well)"
# No login runs while both are on: sshd would then ask for two codes.
run pam-auth-update --package --enable jcmfa
check 'grep -q pam_jcmfa /etc/pam.d/common-auth' "the profile put pam_jcmfa into common-auth"
run dpkg -r jcmfa
stop_daemon
check '! grep -rqs pam_jcmfa /etc/pam.d/' "no pam_jcmfa line is left in /etc/pam.d"
check '[ ! -e /etc/ssh/sshd_config.d/50-jcmfa.conf ]' "the sshd drop-in is gone"
check 'cmp -s /etc/pam.d/sshd "$BACKUP/pam.d/sshd"' "/etc/pam.d/sshd is as it was before setup ssh"
run /usr/sbin/sshd -t -f /etc/ssh/sshd_config
echo "ok: sshd -t accepts the configuration"
check '[ ! -e /usr/sbin/jcmfa-agent ] && ! ls /usr/lib/*/security/pam_jcmfa.so 2>/dev/null' "binary and module are gone"
check '[ -e /var/lib/jcmfa/store.key ] && [ -e /etc/default/jcmfa-agent ]' "remove kept the store, key and config file"

step "purge"
run dpkg --purge jcmfa
check '[ ! -e /var/lib/jcmfa ]' "/var/lib/jcmfa is gone"
check '[ ! -e /etc/default/jcmfa-agent ]' "/etc/default/jcmfa-agent is gone"
check '[ ! -e /etc/systemd/system/multi-user.target.wants/jcmfa-agent.service ]' "the service's enablement is gone"
check '! dpkg-query -W jcmfa >/dev/null 2>&1 || dpkg-query -W -f "\${Status}" jcmfa | grep -q not-installed' "jcmfa is not installed"

step "package sizes"
ls -l dist/jcmfa_"$VERSION"_*.deb dist/jcmfa-"$VERSION"-1.*.rpm
