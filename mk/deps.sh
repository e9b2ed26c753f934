#!/bin/sh
# The Debian packages each part of the build and the test suite needs, in
# one list, and what to do about the missing ones.
#
#   mk/deps.sh GROUP...          as root: install the missing packages of those groups
#                                otherwise: name them and the apt-get command, exit 0
#   mk/deps.sh --check GROUP...  only name the missing ones; exit 1 if any
#
# Groups: test (make test), fuzz, windows, macos, packages, selinux (make
# test-selinux), systemd (make test-systemd), fresh (make test-fresh), bench,
# and ci (all of them: what .ci/run installs).
#
# When everything is installed this costs one dpkg-query and nothing else
# (no apt-get update), so `make test` stays fast on a machine set up once.
# Without root nothing is installed: the tests that need a missing package
# skip and say which (testenv.Need), or fail when CI is set.
set -eu

# group[,group...]     package                      who needs it
PACKAGES=$(cat <<'EOF'
test,bench              build-essential              cc and make: the PAM module, pam_drive, the C client tests, the plugin harness
test,bench              libpam0g-dev                 security/pam_appl.h: the module, pam_drive, and cgo in the agent (test-login, msteinert/pam)
test                    libpam-modules               pam_debug.so in the pamtest and dirtest stacks (Priority: required, listed to be complete)
test                    passwd                       useradd/userdel: sshdtest and test-packages add their own accounts (Priority: required)
test                    util-linux                   unshare and nsenter: dirtest runs nslcd in a private mount namespace (Essential)
test                    ca-certificates              Go fetches the modules from proxy.golang.org over HTTPS
test,bench,packages     openssh-server               a real sshd: sshdtest, the sshsetup tests (sshd -t/-T), test-packages, bench
test,packages,systemd   openssh-client               ssh-keygen for the test host keys; ssh for test-packages and test-systemd
test                    sudo                         sudotest: the real sudo binary asks for the code after setup sudo (its own pam_service per test user)
test                    valgrind                     pamtest TestModuleUnderValgrind: leaks, errors and fds of whole logins
test                    slapd                        dirtest: its own slapd serving a case-insensitive directory
test                    nslcd                        dirtest: nslcd in a private mount namespace, pointed at that slapd
test                    libnss-ldapd                 dirtest: libnss_ldap.so.2, NSS through nslcd
test,fuzz,macos         clang                        libFuzzer (cshim, pam_jcmfa fault injection); the macOS plugin cross-build; ap_uiharness (gcc refuses ui_macos.c's objc_msgSend casts)
test,fuzz               libclang-rt-14-dev           clang sanitizer and libFuzzer runtimes (only recommended by clang): ap_uiharness runs under ASan/UBSan
macos                   lld                          ld64.lld: linking the macOS plugin bundle
macos                   llvm                         llvm-lipo, llvm-objdump: universal binaries and the Mach-O checks
windows                 g++-mingw-w64-x86-64         the credential provider DLL and the wine test shims
windows                 wine64                       the Windows Go tests and the DLL harness under wine
windows                 msitools                     msiinfo: checking the MSI tables
windows                 wixl                         building the MSI
windows                 osslsigncode                 signing the DLL, agent and MSI with a test certificate
windows                 openssl                      that test certificate
packages,systemd        git                          SOURCE_DATE_EPOCH from the last commit (reproducible packages)
packages                lintian                      checking the .deb
packages                rpm                          checking the .rpm (rpm -qpl, scripts)
packages                systemd                      systemd-analyze verify of the unit
packages,systemd,bench  oathtool                     codes for the scripted logins (test-packages, test-systemd, the pam_oath peer)
packages,selinux        selinux-policy-dev           make selinux (part of make packages): the reference policy's module Makefile
packages,selinux        semodule-utils               semodule_package, which that Makefile packs the module with
selinux                 selinux-policy-default       make test-selinux: Debian's full policy, the module linked into a copy of it
selinux                 policycoreutils              semodule -p and /usr/libexec/selinux/hll/pp (SELinux stays off)
selinux                 setools                      sesearch, seinfo and python3-setools: the rule checks
selinux                 selinux-utils                selabel_lookup: the file label checks
bench                   libpam-google-authenticator  a peer benchmarked against
bench                   libpam-oath                  a peer benchmarked against
systemd,fresh           mmdebstrap                   make test-systemd and test-fresh: Debian roots
systemd,fresh           systemd-container            systemd-nspawn, which runs them
systemd                 expect                       make test-systemd: the real ssh client driven through a pty
EOF
)

check=
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
[ $# -gt 0 ] || { echo "usage: mk/deps.sh [--check] GROUP... (test fuzz windows macos packages selinux systemd fresh bench ci)" >&2; exit 2; }

# wanted prints "package<TAB>reason" for every package of the groups asked.
wanted() {
	printf '%s\n' "$PACKAGES" | awk -v want=" $* " '
		NF >= 3 {
			n = split($1, g, ",")
			for (i = 1; i <= n; i++) if (index(want, " " g[i] " ") || index(want, " ci ")) {
				if (!seen[$2]++) { r = $0; sub(/^[^ ]+ +[^ ]+ +/, "", r); print $2 "\t" r }
				break
			}
		}'
}
list=$(wanted "$@")
[ -n "$list" ] || { echo "mk/deps.sh: no such group: $*" >&2; exit 2; }
pkgs=$(printf '%s\n' "$list" | cut -f1)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "mk/deps.sh: not a Debian-family system (no dpkg-query); the tests for $* use (Debian names):"
	printf '%s\n' "$list" | sed 's/\t/: /; s/^/  /'
	exit 0
fi

# One dpkg-query for all; a package dpkg has never heard of prints nothing.
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $pkgs 2>/dev/null | awk '$1 ~ /^.i/ { print $2 }') || true
missing=$(printf '%s\n' "$pkgs" | grep -vxF -e "$installed" -e '' | tr '\n' ' ' | sed 's/ $//') || true
[ -n "$missing" ] || exit 0

if [ -n "$check" ] || [ "$(id -u)" != 0 ]; then
	echo "mk/deps.sh: missing Debian packages for $*:"
	for p in $missing; do printf '%s\n' "$list" | awk -F'\t' -v p="$p" '$1 == p { print "  " p ": " $2 }'; done
	echo "Install them with:"
	echo "  sudo apt-get install --no-install-recommends $missing"
	case " $missing " in *" slapd "* | *" nslcd "* | *" libnss-ldapd "*)
		echo "  (or run this as root, e.g. sudo make test: it installs them without setting up slapd"
		echo "  and nslcd as services or adding ldap to /etc/nsswitch.conf; the directory test runs its own)" ;;
	esac
	if [ -n "$check" ]; then exit 1; fi
	echo "Until then the tests that need them skip and say so (under CI they fail)."
	exit 0
fi

echo "mk/deps.sh: installing $missing"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# slapd, nslcd and libnss-ldapd are for dirtest, which runs its own slapd and
# its own nslcd in a private mount namespace. Preseeded so the install adds
# nothing to /etc/nsswitch.conf and creates no default slapd database, and
# (unless the machine has a policy-rc.d of its own) with invoke-rc.d told not
# to start either daemon: policy-rc.d exit 101 means "action forbidden"
# (/usr/share/doc/init-system-helpers/README.policy-rc.d.gz).
debconf-set-selections <<'EOF'
libnss-ldapd libnss-ldapd/nsswitch multiselect
slapd slapd/no_configuration boolean true
EOF
norc=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	norc=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' >"$norc" && chmod 755 "$norc"
fi
log=$(mktemp)
trap 'rm -f "$log" $norc' EXIT
# shellcheck disable=SC2086
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "mk/deps.sh: apt-get failed (above); install by hand: apt-get install --no-install-recommends $missing" >&2
	exit 1
fi
echo "mk/deps.sh: installed $(echo $missing | wc -w) packages in $(( $(date +%s) - start ))s"

