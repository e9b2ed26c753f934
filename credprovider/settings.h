/*
 * The DLL's settings, from HKLM\SOFTWARE\jcmfa (docs/windows.md lists each).
 * They say only how the DLL reaches the daemon and what it does when it
 * cannot: who needs a code is the daemon's decision, never the registry's.
 */
#ifndef JCMFA_SETTINGS_H
#define JCMFA_SETTINGS_H

#include <windows.h>

#define JCMFA_REG_KEY L"SOFTWARE\\jcmfa"
#define JCMFA_DEFAULT_PIPE L"\\\\.\\pipe\\jcmfa-agent"

struct Settings {
	bool failSafe;          /* FailMode "safe": daemon unreachable -> password only */
	bool relayUnlock;       /* Unlock 1: ask the daemon at unlock (it decides) */
	DWORD pipeTimeoutMs;    /* PipeTimeoutMs: per line read and write */
	wchar_t pipe[256];      /* Pipe: the daemon's named pipe */
	wchar_t excluded[2048]; /* ExcludedAccounts: REG_MULTI_SZ, as the admin wrote them */

	/* Reads the registry; anything absent or malformed keeps its default. */
	void Load();
	/* True if login (an Account's login name) is a break-glass account. */
	bool IsExcluded(const wchar_t *login) const;
};

#endif /* JCMFA_SETTINGS_H */
