#!/usr/bin/env bash
# make test-selinux: what can be proven about the jcmfa SELinux module on a
# machine where SELinux cannot be enforcing (docs/packaging.md, "SELinux").
#
#   1. jcmfa.pp (built by make selinux with Debian's refpolicy headers)
#      links into a copy of a full policy (Debian's selinux-policy-default)
#      with semodule -p, at priority 200 as the rpm loads it;
#   2. the resulting kernel policy allows what a login needs (sesearch):
#      each login domain connects to jcmfa_t and writes the socket file,
#      systemd starts jcmfa_t and makes its socket, jcmfa_t keeps its
#      store, key and socket; and refuses what it must not (no
#      capabilities, no key for sshd, no socket for other daemons);
#   3. the policy's file contexts label the installed paths (selabel_lookup);
#   4. every requirement outside an optional block is in
#      portable-requires.txt (names Fedora's policy has too);
#   5. the rpm's %post/%postun SELinux lines load and remove the module in
#      a private mount namespace over a copy of the store, and do nothing
#      where SELinux is absent.
# The host's /etc/selinux and /var/lib/selinux are checked unchanged at the
# end. Under CI ($CI set) a missing tool fails the test; elsewhere it is
# skipped with a note.
set -euo pipefail

PP=${1:?usage: test-selinux.sh dist/build/selinux/jcmfa.pp.bz2}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
STORE=/var/lib/selinux/default
HOSTPOL=/etc/selinux/default/policy/policy.33

fail() { echo "FAIL: $*" >&2; exit 1; }
missing=
for c in semodule sesearch seinfo selabel_lookup bzip2 unshare sha256sum; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -x /usr/libexec/selinux/hll/pp ] || missing="$missing /usr/libexec/selinux/hll/pp"
/usr/bin/python3 -c "import setools" 2>/dev/null || missing="$missing python3-setools"
[ -d $STORE/active ] || missing="$missing $STORE (selinux-policy-default)"
[ "$(id -u)" = 0 ] || missing="$missing root"
if [ -n "$missing" ]; then
	msg="missing:$missing (apt-get install selinux-policy-dev selinux-policy-default setools semodule-utils policycoreutils selinux-utils; run as root)"
	[ -n "${CI:-}" ] && fail "$msg"
	echo "test-selinux: SKIPPED, $msg"
	exit 0
fi

TMP=$(mktemp -d /tmp/jcmfa-selinux.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# Fingerprint of the host's policy, compared at the end.
host_sum() { find /etc/selinux /var/lib/selinux -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum; }
HOST_BEFORE=$(host_sum)

step() { echo; echo "== $*"; }
ok() { echo "ok: $*"; }

# A copy of the store and the policy directory in ROOT, for semodule -p.
ROOT=$TMP/root
mkdir -p $ROOT/var/lib/selinux $ROOT/etc/selinux
cp -a $STORE $ROOT/var/lib/selinux/
cp -a /etc/selinux/default /etc/selinux/config /etc/selinux/semanage.conf $ROOT/etc/selinux/
POL=$ROOT/etc/selinux/default/policy/policy.33
FC=$ROOT/etc/selinux/default/contexts/files/file_contexts

step "link $(basename "$PP") ($(stat -c %s "$PP") bytes) into a copy of $STORE"
start=$(date +%s%N)
semodule -p $ROOT -s default -n -X 200 -i "$PP" 2>&1 | grep -v 'not in password file' || true
ms=$((($(date +%s%N) - start) / 1000000))
semodule -p $ROOT -s default --list-modules=full | grep -E ' jcmfa ' | tee $TMP/list
grep -qE '^200 +jcmfa ' $TMP/list || fail "jcmfa is not in the store at priority 200"
[ "$(sha256sum <$POL)" != "$(sha256sum <$HOSTPOL)" ] || fail "the kernel policy did not change"
ok "linked and expanded into a new kernel policy in ${ms} ms"

step "figures (seinfo)"
for p in $HOSTPOL $POL; do
	echo "$p: $(seinfo $p | awk '/Types:|Allow:|Type_trans:/ { printf "%s %s  ", $1, $2 } /Allow:/ { exit }')"
done
seinfo $POL | grep -E '^ +(Types|Attributes|Allow|Type_trans):' | sed 's/^ */  /' | head -4
echo "  rules with jcmfa_t as source: $(sesearch -A -s jcmfa_t -ds $POL | wc -l) allow, $(sesearch -T -s jcmfa_t -ds $POL | wc -l) type_transition"
echo "  allow rules on jcmfa types: $(for t in jcmfa_t jcmfa_exec_t jcmfa_var_lib_t jcmfa_key_t jcmfa_var_run_t; do sesearch -A -t $t -dt $POL; done | sort -u | wc -l)"

step "rules (setools on the linked policy: rules.txt)"
# One process with setools, the library sesearch is built on: one sesearch
# per question reloads the 2 MB policy each time (70 of them: minutes).
/usr/bin/python3 "$HERE/checkrules.py" $POL "$HERE/rules.txt" || fail "rules (above)"
if seinfo -t sshd_session_t $POL | grep -q sshd_session_t; then
	sesearch -A -s sshd_session_t -t jcmfa_t -c unix_stream_socket -p connectto $POL | grep -q . || fail "sshd_session_t may not connect"
	ok "sshd_session_t connects"
else
	echo "note: this policy has no sshd_session_t (RHEL 10 and current Fedora do): its optional block was left out, as designed"
fi
if sesearch -A -s jcmfa_t -c capability $POL | grep -v '\]:' | grep .; then fail "jcmfa_t has capabilities"; fi
ok "jcmfa_t has no capability (only under booleans: $(sesearch -A -s jcmfa_t -c capability $POL | sed 's/.*\[ \(.*\) \].*/\1/' | tr '\n' ' '))"

step "file contexts (selabel_lookup on the linked policy's file_contexts)"
label() {
	got=$(selabel_lookup -b file -k "$1" -f $FC | sed 's/^Default context: //')
	[ "$got" = "system_u:object_r:$2:s0" ] || fail "$1 is labelled $got, want $2"
	printf 'ok: %-28s %s\n' "$1" "$got"
}
label /usr/sbin/jcmfa-agent jcmfa_exec_t
label /var/lib/jcmfa jcmfa_var_lib_t
label /var/lib/jcmfa/jcmfa.db jcmfa_var_lib_t
label /var/lib/jcmfa/store.key jcmfa_key_t
label /run/jcmfa jcmfa_var_run_t
label /run/jcmfa/agent.sock jcmfa_var_run_t
label /var/run/jcmfa/agent.sock jcmfa_var_run_t
echo "(without the module: /var/lib/jcmfa is $(selabel_lookup -b file -k /var/lib/jcmfa -f /etc/selinux/default/contexts/files/file_contexts | sed 's/.*object_r:\([^:]*\).*/\1/'), /run/jcmfa/agent.sock $(selabel_lookup -b file -k /run/jcmfa/agent.sock -f /etc/selinux/default/contexts/files/file_contexts 2>/dev/null | sed 's/.*object_r:\([^:]*\).*/\1/' | grep . || echo '<<none>>'))"

step "requirements outside optional blocks (portable-requires.txt)"
bzip2 -dc "$PP" >$TMP/jcmfa.pp
/usr/libexec/selinux/hll/pp $TMP/jcmfa.pp $TMP/jcmfa.cil
/usr/bin/python3 "$HERE/cilrequires.py" $TMP/jcmfa.cil >$TMP/requires
sort -u -o $TMP/requires $TMP/requires
grep -v '^#' "$HERE/portable-requires.txt" | sort -u >$TMP/portable
extra=$(comm -23 $TMP/requires $TMP/portable)
[ -z "$extra" ] || fail "jcmfa.pp requires, outside any optional block, names not known to be in Fedora's policy too: $(echo $extra) (see portable-requires.txt)"
ok "$(wc -l <$TMP/requires) unconditional requirements, all in portable-requires.txt; $(grep -c '(optional ' $TMP/jcmfa.cil) optional blocks"
if [ -n "${FEDORA_POLICY_SRC:-}" ]; then
	while read -r kind name; do
		grep -rqE "^\s*(type|attribute|role|attribute_role) +$name\b|\balias +\{?[^;]*\b$name\b" "$FEDORA_POLICY_SRC/policy" ||
			fail "$kind $name is not declared in $FEDORA_POLICY_SRC"
	done <$TMP/requires
	ok "each is declared in Fedora's selinux-policy at $FEDORA_POLICY_SRC"
fi

step "the rpm's %post and %postun SELinux lines, in a private mount namespace"
# Only the marked block of each script runs: the rest starts services.
# %postun from its erase-only guard on, so that the guard is tested too.
sed -n '/^# >>> jcmfa SELinux module/,/^# <<< jcmfa SELinux module/p' "$REPO/packaging/linux/scripts/rpm/post" >$TMP/post.sh
sed -n '/^\[ "\$1" -eq 0 \] || exit 0/,/^# <<< jcmfa SELinux module/p' "$REPO/packaging/linux/scripts/rpm/postun" >$TMP/postun.sh
grep -q semodule $TMP/postun.sh && grep -q '^\[ "\$1" -eq 0 \]' $TMP/postun.sh || fail "scripts/rpm/postun: no erase guard followed by the marked SELinux block"
grep -q semodule $TMP/post.sh || fail "scripts/rpm/post: no marked SELinux block"
# A "targeted" store made from Debian's, where the scripts expect it.
NS=$TMP/ns
mkdir -p $NS/etc $NS/varlib $NS/share/packages/targeted $NS/empty
cp -a /etc/selinux/. $NS/etc/
cp -a $NS/etc/default $NS/etc/targeted
cp -a $STORE/. $NS/varlib/targeted
sed -i 's/^SELINUXTYPE=.*/SELINUXTYPE=targeted/' $NS/etc/config
cp "$PP" $NS/share/packages/targeted/jcmfa.pp.bz2
cat >$TMP/ns.sh <<EOF
set -eu
mount --bind $NS/etc /etc/selinux
mkdir -p /var/lib/selinux && mount --bind $NS/varlib /var/lib/selinux
mount --bind $NS/share /usr/share/selinux
list() { semodule -s targeted --list-modules=full | grep -E ' jcmfa ' || true; }
echo "# post 1 (install)"; sh $TMP/post.sh 1 2>&1 | grep -v 'not in password file' || true
[ "\$(list)" ] || { echo "post did not load jcmfa"; exit 1; }; list
echo "# post 2 (upgrade)"; sh $TMP/post.sh 2 2>&1 | grep -v 'not in password file' || true
[ "\$(list)" ] || { echo "post 2 lost jcmfa"; exit 1; }
echo "# postun 1 (the old package after an upgrade): keeps it"
sh $TMP/postun.sh 1
[ "\$(list)" ] || { echo "postun 1 removed jcmfa"; exit 1; }
echo "# postun 0 (erase)"; sh $TMP/postun.sh 0
[ -z "\$(list)" ] || { echo "postun 0 left jcmfa"; exit 1; }
echo "# without /etc/selinux/config (SELinux absent)"
mount --bind $NS/empty /etc/selinux
sh $TMP/post.sh 1 && sh $TMP/postun.sh 0
echo "# without semodule on PATH"
env PATH=/nonexistent /bin/sh $TMP/post.sh 1
echo "scriptlets: ok"
EOF
unshare -m --propagation private sh $TMP/ns.sh | tee $TMP/ns.out
grep -q '^scriptlets: ok' $TMP/ns.out || fail "rpm scriptlet block"
ok "post loads the module (priority 200), upgrade keeps it, postun 0 removes it, postun 1 keeps it; no SELinux: exit 0"

step "the host's policy"
[ "$(host_sum)" = "$HOST_BEFORE" ] || fail "/etc/selinux or /var/lib/selinux changed on the host"
ok "/etc/selinux and /var/lib/selinux unchanged"
echo
echo "PASS"
