#!/bin/sh
# Runs the credential provider DLL against a real jcmfa-agent.exe, both under
# wine: the agent listens on a named pipe in the throwaway prefix, this script
# sets up users with the agent's own admin commands, and cp_harness.exe drives
# the DLL as LogonUI would. Called by `make test-wine` (mk/windows.mk), which
# builds everything and prepares $WINEPREFIX first.
#
#   run_wine.sh BINDIR     (BINDIR holds jcmfa-agent.exe, jcmfa_credprov.dll, cp_harness.exe)
set -eu

BIN=$(cd "$1" && pwd)
: "${WINEPREFIX:?set WINEPREFIX to the throwaway prefix (make test-wine does)}"
WINE=${WINE:-/usr/lib/wine/wine64}
export WINEDEBUG=${WINEDEBUG:--all}
PIPE='\\.\pipe\jcmfa-test'
STATE='C:\jcmfa-test\state'
failures=0

agent() { "$WINE" "$BIN/jcmfa-agent.exe" --socket "$PIPE" "$@"; }
note() { printf '== %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...: one ok/FAIL line, like the harness
	d=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok   $d"; else echo "FAIL $d"; failures=$((failures + 1)); fi
}
reg_has() { "$WINE" reg query "$1" /reg:64 >/dev/null 2>&1; }

rm -rf "$WINEPREFIX/drive_c/jcmfa-test"
note "agent: $BIN/jcmfa-agent.exe run (named pipe $PIPE)"
"$WINE" "$BIN/jcmfa-agent.exe" run --state-dir "$STATE" --socket "$PIPE" >"$WINEPREFIX/agent.log" 2>&1 &
AGENT_PID=$!
trap 'kill $AGENT_PID 2>/dev/null || true' EXIT INT TERM
i=0
until agent settings >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 60 ] || ! kill -0 $AGENT_PID 2>/dev/null; then
		echo "FAIL the agent did not start under wine; its log:"; cat "$WINEPREFIX/agent.log"; exit 1
	fi
	sleep 1
done

note "setup through the agent's admin commands"
agent org totp enable >/dev/null
agent device mfa enable >/dev/null
secret() { # enroll USER and print the base32 secret from its otpauth URI
	agent user require "$1" >/dev/null || echo "user require $1 failed" >&2
	agent user enroll "$1" | grep -a -o 'secret=[A-Z2-7]*' | head -n1 | cut -d= -f2
}
ALICE=$(secret alice); CAROL=$(secret carol); DAVE=$(secret dave); BREAK=$(secret breakglass)
for s in "$ALICE" "$CAROL" "$DAVE" "$BREAK"; do
	[ -n "$s" ] || { echo "FAIL enrollment printed no secret"; exit 1; }
done
"$WINE" reg add 'HKLM\SOFTWARE\jcmfa' /v Pipe /t REG_SZ /d "$PIPE" /f /reg:64 >/dev/null 2>&1

note "cp_harness mfa-on"
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" mfa-on "$ALICE" "$CAROL" "$DAVE" || failures=$((failures + 1))

note "cp_harness mfa-off (after: jcmfa-agent device mfa disable)"
agent device mfa disable >/dev/null
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" mfa-off || failures=$((failures + 1))

note "the agent's audit log saw the DLL's logins"
check "audit has a credprovider allow on surface rdp for carol" sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" --socket '$PIPE' audit -n 200 2>/dev/null | grep -a carol | grep -a -q rdp"

note "DllRegisterServer / DllUnregisterServer in wine's registry"
CLS='HKLM\SOFTWARE\Classes\CLSID\{6408080a-0f71-4bb3-a8b2-2b84cb503b9b}'
FCLS='HKLM\SOFTWARE\Classes\CLSID\{c23403af-35e6-4158-b448-0d57e115c6ba}'
CP='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\Credential Providers\{6408080a-0f71-4bb3-a8b2-2b84cb503b9b}'
CPF='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\Credential Provider Filters\{c23403af-35e6-4158-b448-0d57e115c6ba}'
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" register || failures=$((failures + 1))
for k in "$CLS\\InprocServer32" "$FCLS\\InprocServer32" "$CP" "$CPF"; do
	check "registered: $k" reg_has "$k"
done
check "InprocServer32 names the DLL" sh -c "\"$WINE\" reg query '$CLS\\InprocServer32' /reg:64 | grep -a -q jcmfa_credprov.dll"
check "ThreadingModel is Apartment" sh -c "\"$WINE\" reg query '$FCLS\\InprocServer32' /v ThreadingModel /reg:64 | grep -a -q Apartment"
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" unregister || failures=$((failures + 1))
for k in "$CLS" "$FCLS" "$CP" "$CPF"; do
	check "removed: $k" sh -c "! \"$WINE\" reg query '$k' /reg:64"
done
"$WINE" reg delete 'HKLM\SOFTWARE\jcmfa' /f /reg:64 >/dev/null 2>&1 || true

if [ $failures -ne 0 ]; then
	echo "credential provider under wine: $failures failing step(s)"
	exit 1
fi
echo "credential provider under wine: all steps passed"
