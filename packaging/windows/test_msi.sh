#!/bin/sh
# Checks a built MSI without Windows: Authenticode signatures (osslsigncode),
# the installer tables (msiinfo), then an install and uninstall with wine's
# msiexec in the throwaway prefix. Called by `make test-msi`.
#
#   test_msi.sh MSI BINDIR CERT
set -u

MSI=$1 BIN=$2 CERT=$3
WINE=${WINE:-/usr/lib/wine/wine64}
: "${WINEPREFIX:?set WINEPREFIX to the throwaway prefix (make test-msi does)}"
export WINEDEBUG=${WINEDEBUG:--all}
pass=0 fail=0
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok   $d"; pass=$((pass + 1)); else echo "FAIL $d"; fail=$((fail + 1)); fi
}
has() { msiinfo export "$MSI" "$1" | grep -a -q -F -- "$2"; }

for f in "$BIN/jcmfa-agent.exe" "$BIN/jcmfa_credprov.dll" "$MSI"; do
	check "signature verifies: $f" osslsigncode verify -CAfile "$CERT" -in "$f"
done

check "File: jcmfa-agent.exe" has File jcmfa-agent.exe
check "File: jcmfa_credprov.dll" has File jcmfa_credprov.dll
check "Directory: Program Files (64-bit)\\jcmfa" has Directory ProgramFiles64Folder
check "ServiceInstall: jcmfa-agent, auto start (2), LocalSystem, run" \
	sh -c "msiinfo export '$MSI' ServiceInstall | grep -a 'jcmfa-agent' | grep -a -q '	2	1			LocalSystem		run	'"
check "ServiceControl: start on install, stop both, remove on uninstall" \
	sh -c "msiinfo export '$MSI' ServiceControl | grep -a -q 'jcmfa-agent	[0-9]*'"
check "InstallExecuteSequence: InstallServices, StartServices, StopServices, DeleteServices" \
	sh -c "t=\$(msiinfo export '$MSI' InstallExecuteSequence); for a in InstallServices StartServices StopServices DeleteServices; do echo \"\$t\" | grep -q \$a || exit 1; done"
for k in 'Classes\CLSID\{6408080a-0f71-4bb3-a8b2-2b84cb503b9b}\InprocServer32' \
	'Classes\CLSID\{c23403af-35e6-4158-b448-0d57e115c6ba}\InprocServer32' \
	'Credential Providers\{6408080a-0f71-4bb3-a8b2-2b84cb503b9b}' \
	'Credential Provider Filters\{c23403af-35e6-4158-b448-0d57e115c6ba}'; do
	check "Registry: HKLM ...\\$k" has Registry "$k"
done
check "Registry: InprocServer32 points at the installed DLL ([#CredProvDll])" has Registry '[#CredProvDll]'
check "Registry: ThreadingModel Apartment" has Registry 'ThreadingModel	Apartment'
# The Event Log source, as eventlog.InstallAsEventCreate writes it (the
# MSI never runs `jcmfa-agent service install`).
EL='SYSTEM\CurrentControlSet\Services\EventLog\Application\jcmfa-agent\'
check "Registry: Event Log source jcmfa-agent, CustomSource 1" has Registry "$EL	CustomSource	#1	Agent"
check "Registry: ... EventMessageFile REG_EXPAND_SZ (#%) %SystemRoot%\System32\EventCreate.exe" \
	has Registry "$EL	EventMessageFile	#%%SystemRoot%\System32\EventCreate.exe	Agent"
check "Registry: ... TypesSupported 7 (error, warning, information)" has Registry "$EL	TypesSupported	#7	Agent"

# wine's msiexec: report what it does, honestly, without failing the run on
# a wine limitation; the table checks above are the gate.
PF="$WINEPREFIX/drive_c/Program Files/jcmfa"
CP='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\Credential Providers\{6408080a-0f71-4bb3-a8b2-2b84cb503b9b}'
echo "== wine msiexec /i $MSI /qn"
timeout 300 "$WINE" msiexec /i "$(readlink -f "$MSI")" /qn /l*v 'C:\jcmfa-msi-install.log'
echo "   msiexec /i exit status: $?"
[ -f "$PF/jcmfa-agent.exe" ] && echo "   installed: $PF/jcmfa-agent.exe" || echo "   NOT installed: $PF/jcmfa-agent.exe"
[ -f "$PF/jcmfa_credprov.dll" ] && echo "   installed: $PF/jcmfa_credprov.dll" || echo "   NOT installed: $PF/jcmfa_credprov.dll"
"$WINE" reg query "$CP" /reg:64 >/dev/null 2>&1 && echo "   registered: credential provider key" || echo "   NOT registered: credential provider key"
"$WINE" reg query 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\jcmfa-agent' /reg:64 >/dev/null 2>&1 &&
	echo "   registered: Event Log source jcmfa-agent" || echo "   NOT registered: Event Log source jcmfa-agent"
echo "   service (wine sc query jcmfa-agent):"
"$WINE" sc query jcmfa-agent 2>&1 | sed 's/^/     /' | tr -d '\r' | head -8
echo "== wine msiexec /x"
timeout 300 "$WINE" msiexec /x "$(readlink -f "$MSI")" /qn /l*v 'C:\jcmfa-msi-uninstall.log'
echo "   msiexec /x exit status: $?"
[ -e "$PF/jcmfa-agent.exe" ] && echo "   NOT removed: $PF/jcmfa-agent.exe" || echo "   removed: $PF/jcmfa-agent.exe"
"$WINE" reg query "$CP" /reg:64 >/dev/null 2>&1 && echo "   NOT removed: credential provider key" || echo "   removed: credential provider key"
"$WINE" sc query jcmfa-agent >/dev/null 2>&1 && echo "   NOT removed: service" || echo "   removed: service"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
