#!/bin/sh
# build-pkg.sh DARWIN_BIN_DIR VERSION OUT_DIR: builds jcmfa-VERSION.pkg.
#
# Runs on a Mac only: it needs Apple's pkgbuild and productbuild. A .pkg is a
# xar archive holding a Bom and a cpio payload; no tool that writes those is
# packaged for Debian (no xar, no bomutils) or offered by the Go module proxy
# or npm, so the Linux build stops at the binaries (make macos). Sign with
# Developer ID and notarize before shipping (docs/macos.md).
#
# Inputs, from `make macos` (which can run on Linux and be copied over):
#   DARWIN_BIN_DIR/jcmfa-agent     universal agent
#   DARWIN_BIN_DIR/jcmfa.bundle    universal plugin bundle
set -eu
BIN=${1:?usage: build-pkg.sh DARWIN_BIN_DIR VERSION OUT_DIR}
VERSION=${2:?version}
OUT=${3:?out dir}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$(uname -s)" != Darwin ] || ! command -v pkgbuild >/dev/null 2>&1; then
	echo "build-pkg.sh: needs macOS with pkgbuild (Xcode command line tools)." >&2
	echo "On Linux, 'make macos' builds $BIN; copy it and packaging/macos to a Mac and run this there." >&2
	exit 1
fi

work=$(mktemp -d /tmp/jcmfa-pkg.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
scripts=$work/scripts
mkdir -p "$root/usr/local/sbin" "$root/usr/local/share/jcmfa" "$root/Library/LaunchDaemons" \
	"$root/Library/Security/SecurityAgentPlugins" "$scripts" "$OUT"

cp "$BIN/jcmfa-agent" "$root/usr/local/sbin/jcmfa-agent"
cp -R "$BIN/jcmfa.bundle" "$root/Library/Security/SecurityAgentPlugins/"
cp "$HERE/com.jcmfa.agent.plist" "$root/Library/LaunchDaemons/"
cp "$HERE/authdb.sh" "$HERE/uninstall.sh" "$root/usr/local/share/jcmfa/"
cp "$HERE/scripts/preinstall" "$HERE/scripts/postinstall" "$scripts/"
# preinstall runs before the payload lands: it gets its own copy.
cp "$HERE/authdb.sh" "$scripts/"
chmod 755 "$root/usr/local/sbin/jcmfa-agent" "$root/usr/local/share/jcmfa/"*.sh "$scripts/"*

if [ -n "${JCMFA_CODESIGN_ID:-}" ]; then
	codesign --force --options runtime --timestamp --sign "$JCMFA_CODESIGN_ID" "$root/usr/local/sbin/jcmfa-agent"
	codesign --force --timestamp --sign "$JCMFA_CODESIGN_ID" "$root/Library/Security/SecurityAgentPlugins/jcmfa.bundle"
fi

pkgbuild --root "$root" --scripts "$scripts" --identifier com.jcmfa.pkg --version "$VERSION" \
	--install-location / --ownership recommended "$work/jcmfa-component.pkg"
if [ -n "${JCMFA_INSTALLER_SIGN_ID:-}" ]; then
	productbuild --package "$work/jcmfa-component.pkg" --sign "$JCMFA_INSTALLER_SIGN_ID" "$OUT/jcmfa-$VERSION.pkg"
else
	productbuild --package "$work/jcmfa-component.pkg" "$OUT/jcmfa-$VERSION.pkg"
fi
echo "built $OUT/jcmfa-$VERSION.pkg"
