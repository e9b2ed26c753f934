#!/bin/sh
# check_macho.sh bundle DIR | exe FILE
#
# Checks a cross-built macOS binary with the LLVM tools, since no Mac is at
# hand to load it: both architectures present, the right Mach-O file type,
# macOS 12 as the minimum, and for the plugin bundle: exactly one exported
# symbol (_AuthorizationPluginCreate, what SecurityAgent looks up), every
# imported symbol bound to a named system library (no flat-namespace
# lookups), syslog imported as the SDK binds it (_syslog$DARWIN_EXTSN), plus
# an Info.plist naming the executable.
set -eu

tool() {
	for t in "$1" "$1-14" "$1-15" "$1-16" "$1-13"; do
		if command -v "$t" >/dev/null 2>&1; then echo "$t"; return; fi
	done
	echo "check_macho.sh: $1 not found (Debian: apt-get install llvm)" >&2
	exit 1
}
LIPO=$(tool llvm-lipo)
NM=$(tool llvm-nm)
OBJDUMP=$(tool llvm-objdump)

fail() { echo "FAIL: $*" >&2; exit 1; }

mode=$1
case $mode in
bundle) dir=$2; bin=$dir/Contents/MacOS/jcmfa; want_type=BUNDLE ;;
exe) bin=$2; want_type=EXECUTE ;;
*) echo "usage: check_macho.sh bundle DIR | exe FILE" >&2; exit 2 ;;
esac
[ -f "$bin" ] || fail "$bin does not exist"

archs=$($LIPO -archs "$bin" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
[ "$archs" = "arm64 x86_64 " ] || fail "$bin: architectures are '$archs', want arm64 and x86_64"

for arch in arm64 x86_64; do
	hdr=$($OBJDUMP --macho --arch=$arch --private-headers "$bin")
	echo "$hdr" | awk '/filetype/ { getline; print }' | grep -qw "$want_type" ||
		fail "$bin ($arch): Mach-O file type is not $want_type"
	echo "$hdr" | grep -Eq '^ +minos 12\.0$' || fail "$bin ($arch): minimum macOS is not 12.0"
	if [ "$mode" = bundle ]; then
		exported=$($NM --arch=$arch -g --defined-only "$bin" | awk 'NF == 3 { print $3 }' | tr '\n' ' ')
		[ "$exported" = "_AuthorizationPluginCreate " ] ||
			fail "$bin ($arch): exports '$exported', want only _AuthorizationPluginCreate"
		# The SDK binds syslog() to _syslog$DARWIN_EXTSN since macOS 10.13
		# (xnu bsd/sys/syslog.h, __DARWIN_EXTSN(syslog)); _syslog is the
		# legacy entry point, which darwin/include/syslog.h used to bind.
		undef=$($NM --arch=$arch -u "$bin" | awk '{ print $NF }')
		echo "$undef" | grep -qxF '_syslog$DARWIN_EXTSN' ||
			fail "$bin ($arch): does not import _syslog\$DARWIN_EXTSN (the SDK's syslog)"
		if echo "$undef" | grep -qxF '_syslog'; then
			fail "$bin ($arch): imports the legacy _syslog, not _syslog\$DARWIN_EXTSN"
		fi
		binds=$($OBJDUMP --macho --arch=$arch --bind --lazy-bind --weak-bind "$bin")
		if echo "$binds" | grep -qi 'flat-namespace'; then
			fail "$bin ($arch): has flat-namespace (dynamic_lookup) imports"
		fi
		if [ "$arch" = arm64 ]; then
			# Apple silicon refuses to run unsigned code; ld64.lld signs ad hoc.
			echo "$hdr" | grep -q 'LC_CODE_SIGNATURE' || fail "$bin (arm64): no code signature"
		fi
	fi
	echo "ok: $bin ($arch): $want_type, macOS 12.0"
done

if [ "$mode" = bundle ]; then
	plist=$dir/Contents/Info.plist
	[ -f "$plist" ] || fail "$plist missing"
	grep -A1 '<key>CFBundleExecutable</key>' "$plist" | grep -q '<string>jcmfa</string>' ||
		fail "$plist: CFBundleExecutable is not jcmfa"
	grep -A1 '<key>CFBundlePackageType</key>' "$plist" | grep -q '<string>BNDL</string>' ||
		fail "$plist: CFBundlePackageType is not BNDL"
	echo "ok: $bin exports only _AuthorizationPluginCreate; imports bound to:"
	$OBJDUMP --macho --arch=arm64 --dylibs-used "$bin" | sed -n '2,$p'
fi
