#!/bin/sh
# Runs the credential provider DLL against a real jcmfa-agent.exe, both under
# wine: the agent listens on a named pipe in the throwaway prefix, this script
# sets up users with the agent's own admin commands, and cp_harness.exe drives
# the DLL as LogonUI would. Called by `make test-wine` (mk/windows.mk), which
# builds everything and prepares $WINEPREFIX first.
#
# The agent runs as installed: --socket auto, a fresh random pipe name
# published in HKLM\SOFTWARE\jcmfa\Agent. Before it starts, impostors
# (cp_harness.exe impostor, answering "VERDICT allow" to anyone) hold the old
# fixed name and a stale published name; the logins must still get the real
# daemon's decisions, and no impostor may ever hear a word from the DLL.
# Then the agent is killed (its published name goes stale) and the DLL must
# treat "no pipe" as absent and "someone else's pipe" as a refusal, and a
# fixed --socket held by an impostor must make the agent say why and retry.
#
#   run_wine.sh BINDIR     (BINDIR holds jcmfa-agent.exe, jcmfa_credprov.dll, cp_harness.exe)
set -eu

BIN=$(cd "$1" && pwd)
: "${WINEPREFIX:?set WINEPREFIX to the throwaway prefix (make test-wine does)}"
WINE=${WINE:-/usr/lib/wine/wine64}
export WINEDEBUG=${WINEDEBUG:--all}
LEGACY='\\.\pipe\jcmfa-agent'
STALE='\\.\pipe\jcmfa-agent-00000000000000000000000000057a1e'
AGENT_KEY='HKLM\SOFTWARE\jcmfa\Agent'
STATE='C:\jcmfa-test\state'
T="$WINEPREFIX/drive_c/jcmfa-test" # C:\jcmfa-test seen from here
failures=0
PIDS=""

agent() { "$WINE" "$BIN/jcmfa-agent.exe" "$@"; }
note() { printf '== %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...: one ok/FAIL line, like the harness
	d=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok   $d"; else echo "FAIL $d"; failures=$((failures + 1)); fi
}
reg_has() { "$WINE" reg query "$1" /reg:64 >/dev/null 2>&1; }
published() { # the PipeName the agent published, or nothing
	"$WINE" reg query "$AGENT_KEY" /v PipeName /reg:64 2>/dev/null | tr -d '\r' | grep -a -o '\\\\\.\\pipe\\[^ ]*' | head -n1
}
impostor() { # impostor PIPE NAME: a squatter on PIPE, logging to $T/NAME.log
	rm -f "$T/$2.log"
	"$WINE" "$BIN/cp_harness.exe" impostor "$1" "C:\\jcmfa-test\\$2.log" >/dev/null 2>&1 &
	IMP_PID=$!
	PIDS="$PIDS $IMP_PID"
	i=0
	until grep -a -q listening "$T/$2.log" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 30 ]; then echo "FAIL impostor on $1 did not start"; failures=$((failures + 1)); return; fi
		sleep 1
	done
}
wait_for() { # wait_for SECONDS COMMAND...: poll until it succeeds
	n=$1; shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt "$n" ] && return 1
		sleep 1
	done
}
start_agent() { # start_agent LOG [ARGS...]
	log=$1; shift
	"$WINE" "$BIN/jcmfa-agent.exe" run --state-dir "$STATE" "$@" >"$log" 2>&1 &
	AGENT_PID=$!
	PIDS="$PIDS $AGENT_PID"
}
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done' EXIT INT TERM

rm -rf "$T"; mkdir -p "$T"
"$WINE" reg delete 'HKLM\SOFTWARE\jcmfa' /f /reg:64 >/dev/null 2>&1 || true

note "impostors first: on the old fixed name $LEGACY and on a stale published name"
impostor "$LEGACY" legacy
LEGACY_PID=$IMP_PID
impostor "$STALE" stale
STALE_PID=$IMP_PID
"$WINE" reg add "$AGENT_KEY" /v PipeName /t REG_SZ /d "$STALE" /f /reg:64 >/dev/null 2>&1

note "agent: $BIN/jcmfa-agent.exe run (default --socket auto: a fresh random pipe name)"
start_agent "$WINEPREFIX/agent.log"
i=0
until agent settings >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 60 ] || ! kill -0 $AGENT_PID 2>/dev/null; then
		echo "FAIL the agent did not start under wine; its log:"; cat "$WINEPREFIX/agent.log"; exit 1
	fi
	sleep 1
done
PUB=$(published)
printf '   published: %s\n' "$PUB"
check "the agent published a fresh random name, neither the squatted nor the stale one" \
	sh -c "echo '$PUB' | grep -a -q -E 'jcmfa-agent-[0-9a-f]{32}\$' && [ '$PUB' != '$STALE' ]"

note "setup through the agent's admin commands"
agent org totp enable >/dev/null
agent device mfa enable >/dev/null
secret() { # enroll USER and print the base32 secret from its otpauth URI
	agent user require "$1" >/dev/null || echo "user require $1 failed" >&2
	agent user enroll "$1" | grep -a -o 'secret=[A-Z2-7]*' | head -n1 | cut -d= -f2
}
ALICE=$(secret alice); CAROL=$(secret carol); DAVE=$(secret dave); BREAK=$(secret breakglass); ERIN=$(secret erin)
FRANK=$(secret frank); GINA=$(secret gina); HANK=$(secret hank)
for s in "$ALICE" "$CAROL" "$DAVE" "$BREAK" "$ERIN" "$FRANK" "$GINA" "$HANK"; do
	[ -n "$s" ] || { echo "FAIL enrollment printed no secret"; exit 1; }
done

note "cp_harness mfa-on"
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" mfa-on "$ALICE" "$CAROL" "$DAVE" "$FRANK" "$GINA" || failures=$((failures + 1))

note "cp_harness recovery (a recovery code in the code field, twice)"
ROSA=$(secret rosa)
RCODE=$(agent user recovery-codes rosa --count 2 | grep -a -o -E '^  [2-9a-z]{4}-[2-9a-z]{4}' | head -n1 | tr -d ' ' | tr a-z A-Z)
if [ -z "$ROSA" ] || [ -z "$RCODE" ]; then
	echo "FAIL user recovery-codes printed no code"; failures=$((failures + 1))
else
	"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" recovery rosa "$RCODE" || failures=$((failures + 1))
	check "audit has rosa's allow recovery-code" sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" audit -n 200 2>/dev/null | grep -a rosa | grep -a -q recovery-code"
fi

note "cp_harness uac off (an elevation prompt, CredUI as SYSTEM; the daemon's uac setting is off by default)"
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" uac off "$ERIN" || failures=$((failures + 1))
note "cp_harness uac on (after: jcmfa-agent settings --uac-code=true)"
agent settings --uac-code=true >/dev/null
check "settings shows the code at elevation enabled" sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" settings 2>/dev/null | grep -a 'code at elevation' | grep -a -q enabled"
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" uac on "$ERIN" || failures=$((failures + 1))
agent settings --uac-code=false >/dev/null
check "audit has erin on surface uac" sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" audit -n 200 2>/dev/null | grep -a erin | grep -a -q uac"

note "cp_harness rdp-only (after: jcmfa-agent user require hank --surfaces rdp)"
agent user require hank --surfaces rdp >/dev/null
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" rdp-only "$HANK" || failures=$((failures + 1))
check "audit has hank skipped at the console logon (gui, not-required) and allowed over rdp" \
	sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" audit -n 200 2>/dev/null | grep -a hank | grep -a gui | grep -a -q not-required && \"$WINE\" \"$BIN/jcmfa-agent.exe\" audit -n 200 2>/dev/null | grep -a hank | grep -a rdp | grep -a -q allow"

note "cp_harness mfa-off (after: jcmfa-agent device mfa disable)"
agent device mfa disable >/dev/null
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" mfa-off || failures=$((failures + 1))

note "the agent's audit log saw the DLL's logins"
check "audit has a credprovider allow on surface rdp for carol" sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" audit -n 200 2>/dev/null | grep -a carol | grep -a -q rdp"
check "audit has frank (long protected password over RDP) allowed on surface rdp" sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" audit -n 200 2>/dev/null | grep -a frank | grep -a allow | grep -a -q rdp"
check "audit has gina (smart card refused, then typed) allowed on surface rdp" sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" audit -n 200 2>/dev/null | grep -a gina | grep -a allow | grep -a -q rdp"
check "the DLL never sent a byte to the impostor on $LEGACY" sh -c "! grep -a -q spoke '$T/legacy.log'"
check "the DLL never sent a byte to the impostor on the stale name" sh -c "! grep -a -q spoke '$T/stale.log'"
kill $STALE_PID 2>/dev/null || true

note "the agent dies (killed: its published name stays, stale)"
kill $AGENT_PID 2>/dev/null || true
wait $AGENT_PID 2>/dev/null || true
check "the dead agent's name is still published" sh -c "[ \"\$(\"$WINE\" reg query '$AGENT_KEY' /v PipeName /reg:64 2>/dev/null | grep -a -c jcmfa-agent-)\" = 1 ]"
note "cp_harness down absent (stale name, no pipe behind it)"
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" down absent || failures=$((failures + 1))
note "cp_harness down impostor (an impostor took the stale name $PUB)"
impostor "$PUB" taken
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" down impostor || failures=$((failures + 1))
# The impostor writes its line once ReadFile sees the DLL hang up, which can
# be after cp_harness has already returned: wait for it rather than race.
check "the DLL reached the impostor on the stale name and hung up" wait_for 10 grep -a -q silent "$T/taken.log"
check "... without sending it a byte" sh -c "! grep -a -q spoke '$T/taken.log'"
check "the CLI refuses it too (not the process that published the name)" \
	sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" settings 2>&1 | grep -a -q 'not the jcmfa service'"
kill $IMP_PID 2>/dev/null || true
note "cp_harness down absent (no name published at all: the service never ran)"
"$WINE" reg delete "$AGENT_KEY" /f /reg:64 >/dev/null 2>&1
"$WINE" "$BIN/cp_harness.exe" "$BIN/jcmfa_credprov.dll" down absent || failures=$((failures + 1))

note "a fixed --socket $LEGACY that an impostor holds: the agent says why and retries"
start_agent "$WINEPREFIX/agent-fixed.log" --socket "$LEGACY"
check "the agent's log names the taken pipe, its holder and the fix" \
	wait_for 30 sh -c "grep -a 'already exists' '$WINEPREFIX/agent-fixed.log' | grep -a -q 'without --socket'"
check "jcmfa-agent doctor reports it" \
	sh -c "\"$WINE\" \"$BIN/jcmfa-agent.exe\" --socket '$LEGACY' doctor 2>&1 | grep -a 'pipe: the service cannot listen' | grep -a -q 'already exists'"
kill $LEGACY_PID 2>/dev/null || true
check "once the impostor is gone the agent listens on $LEGACY" wait_for 30 agent --socket "$LEGACY" settings
check "... and doctor no longer reports the pipe taken" \
	sh -c "! \"$WINE\" \"$BIN/jcmfa-agent.exe\" --socket '$LEGACY' doctor 2>&1 | grep -a -q 'cannot listen'"
kill $AGENT_PID 2>/dev/null || true

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
