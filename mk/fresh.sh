#!/usr/bin/env bash
# make test-fresh: the README's two commands, tried as a newcomer would, in a
# fresh Debian root that has only what a new Go machine has: Go in
# /usr/local/go (copied from this machine's GOROOT), build-essential and
# ca-certificates, and a clone of this checkout's HEAD.
#
#  (a) as an unprivileged user: `make trial` builds with Go alone (no
#      libpam0g-dev), the daemon answers `users` and a few admin commands,
#      `make trial-stop` stops it; `make test-deps` names what is missing
#      and the apt-get command. Cold: its own module downloads and builds.
#  (b) as root with CI=true: `make test` installs the Debian packages it
#      lacks (mk/deps.sh) and the whole suite passes, the tests that need
#      root, other uids and mount namespaces included.
#
# Needs root, mmdebstrap and systemd-nspawn (sh mk/deps.sh fresh). The root
# is built once with
#     mmdebstrap --variant=minbase --include=build-essential,ca-certificates
# and cached as $FRESH_TAR (this script's own file: the booted roots of make
# test-systemd beside it are not touched). Besides build-essential:
#   ca-certificates  Go fetches modules from proxy.golang.org over HTTPS and
#                    trusts the roots in /etc/ssl/certs: without them `make
#                    trial` fails with "x509: certificate signed by unknown
#                    authority".
#   not git          the clones are made from outside. `go build` stamps the
#                    commit only when git is there (-buildvcs=auto, `go help
#                    build`): without git it builds, unstamped; tried.
# The container is not booted (its PID 1 is the command) and shares the
# host's network, so the Go proxy and the Debian mirror are reachable; the
# tests pick free ports themselves (127.0.0.1:0), never fixed ones.
#
# (b) uses this machine's Go build cache (bound in, read-write as Go's cache
# allows): cold, compiling the race-instrumented standard library and every
# package for three vets and the tests took 14 minutes here (2 shared cores), warm
# under 2. The cache holds only compiler output keyed by source, flags and
# compiler: what the suite needs from the system (headers, libraries to link,
# sshd, slapd, valgrind) is still found, or not, in the fresh root.
# FRESH_COLD=1 gives (b) an empty cache of its own.
#
#   FRESH_SUITE=bookworm  the Debian release
#   FRESH_TAR=...         the cached root (delete it to build a new one)
#   FRESH_COLD=1          (b) with an empty Go build cache
#   FRESH_KEEP=1          keep the unpacked root afterwards (its path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."

suite=${FRESH_SUITE:-bookworm}
include=build-essential,ca-certificates
tarball=${FRESH_TAR:-/var/cache/jcmfa-systemd/fresh-$suite.tar}
go=${GO:-go}
goroot=$($go env GOROOT)
gocache=$($go env GOCACHE)
user=newcomer
home=/home/$user

die() { echo "test-fresh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, systemd-nspawn): sudo make test-fresh"
for t in mmdebstrap systemd-nspawn git; do
	command -v $t >/dev/null || die "$t not found: sh mk/deps.sh fresh installs what this needs"
done
[ -x "$goroot/bin/go" ] || die "no Go toolchain at $goroot"

timings=()
t0=$SECONDS
lap() { timings+=("$(printf '%-44s %4ss' "$1" $((SECONDS - t0)))"); t0=$SECONDS; }
step() { printf '\n== test-fresh: %s\n' "$*"; }

step "the fresh root: $tarball"
# The package list is kept beside the tarball: a root made with another
# list is made again.
if [ -s "$tarball" ] && [ "$(cat "$tarball.include" 2>/dev/null)" = "$include" ]; then
	echo "reusing $tarball (minbase + $include; delete it for a new one)"
	lap "mmdebstrap (cached)"
else
	mkdir -p "$(dirname "$tarball")"
	part=${tarball%.tar}.part.tar # mmdebstrap picks the format by the name's end
	mmdebstrap --quiet --variant=minbase --include="$include" "$suite" "$part"
	mv "$part" "$tarball"
	echo "$include" >"$tarball.include"
	lap "mmdebstrap $suite"
fi

root=$(mktemp -d /var/tmp/jcmfa-fresh.XXXXXX)
cleanup() {
	if [ -n "${FRESH_KEEP:-}" ]; then
		echo "test-fresh: root kept at $root"
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
tar -C "$root" -xf "$tarball"
lap "unpack"

path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin
# ctr [nspawn options] -- CMD...: one not-booted container run; when CMD
# ends, everything it started (a trial daemon, a test's sshd) ends with it.
ctr() {
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	systemd-nspawn --quiet --register=no --keep-unit --console=pipe -D "$root" \
		--setenv=PATH="$path" --setenv=LANG=C.UTF-8 "${opts[@]}" "$@"
}

# What a new Go machine has: the toolchain in /usr/local/go, /usr/local/go/bin
# on PATH (https://go.dev/doc/install), nothing in the environment.
cp -a "$goroot" "$root/usr/local/go"
rev=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	echo "note: testing the last commit $rev; uncommitted changes are not in it"
fi
# The root trusts what this machine trusts for its own network: a site's
# local CAs (/usr/local/share/ca-certificates, e.g. a TLS-inspecting proxy)
# are added the way update-ca-certificates(8) expects them.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
	ctr -- update-ca-certificates >"$root/tmp/update-ca.log" 2>&1 || { cat "$root/tmp/update-ca.log"; die "update-ca-certificates failed"; }
fi
ctr -- useradd --create-home --shell /bin/bash "$user"
# Two clones, each owned by who uses it, as on two machines (git refuses a
# work tree owned by another user: safe.directory in git-config(1)).
for dst in "$home/jcmfa" /root/jcmfa; do
	git clone --quiet --no-local . "$root$dst"
	git -C "$root$dst" -c advice.detachedHead=false checkout --quiet --detach "$rev"
done
lap "Go toolchain and git clones"

ctr -- chown -R "$user:$user" "$home/jcmfa"

step "(a) as $user: make trial with Go alone"
ctr --user="$user" --chdir="$home/jcmfa" -- bash -euo pipefail -c '
	if dpkg-query -W -f="\${db:Status-Abbrev}" libpam0g-dev 2>/dev/null | grep -q "^.i"; then
		echo "libpam0g-dev is installed: this is not the machine the README promises" >&2; exit 1
	fi
	make trial 2>&1 | tee /tmp/trial.out
	grep -q "building jcmfa-agent without test-login" /tmp/trial.out
	export JCMFA_SOCKET=$PWD/trial/agent.sock
	bin/jcmfa-agent users
	bin/jcmfa-agent org totp enable
	bin/jcmfa-agent device mfa enable
	bin/jcmfa-agent user require alice
	bin/jcmfa-agent users | tee /tmp/users.out
	grep -q alice /tmp/users.out
	if bin/jcmfa-agent test-login alice >/tmp/tl.out 2>&1; then
		echo "test-login ran in an agent built without libpam" >&2; exit 1
	fi
	cat /tmp/tl.out; grep -q libpam0g-dev /tmp/tl.out
	make trial-stop
	for i in $(seq 50); do bin/jcmfa-agent users >/dev/null 2>&1 || break; sleep 0.1; done
	if bin/jcmfa-agent users >/dev/null 2>&1; then echo "the trial daemon still answers after make trial-stop" >&2; exit 1; fi
	echo "ok: make trial built and ran with Go alone, make trial-stop stopped it"
	make test-deps | tee /tmp/deps.out
	grep -q "sudo apt-get install --no-install-recommends .*libpam0g-dev" /tmp/deps.out
	echo "ok: make test-deps without root named the missing packages and the apt-get command"
'
lap "(a) make trial as $user"

step "(b) as root with CI=true: make test"
out=$root/tmp/make-test.out # goes with the root
cache=()
if [ -z "${FRESH_COLD:-}" ]; then
	mkdir -p "$gocache"
	cache=(--bind="$gocache:/root/.cache/go-build")
fi
ctr --chdir=/root/jcmfa --setenv=CI=true "${cache[@]}" -- bash -euo pipefail -c '
	start=$SECONDS
	make test
	echo "make test took $((SECONDS - start))s"
	sh mk/deps.sh --check test
	if grep -q ldap /etc/nsswitch.conf; then echo "the install changed /etc/nsswitch.conf" >&2; exit 1; fi
	if [ -e /usr/sbin/policy-rc.d ]; then echo "mk/deps.sh left /usr/sbin/policy-rc.d behind" >&2; exit 1; fi
	echo "ok: make test installed what it lacked and passed"
' 2>&1 | tee "$out"
apt_s=$(sed -n 's/^mk\/deps.sh: installed .* in \([0-9]*\)s$/\1/p' "$out")
lap "(b) make test as root, CI=true${FRESH_COLD:+, cold cache}"
timings+=("$(printf '%-44s %4ss' "   of which apt-get update+install" "${apt_s:-?}")")

printf '\n== test-fresh timings (%s, %s cores)\n' "$suite" "$(nproc)"
printf '%s\n' "${timings[@]}"
