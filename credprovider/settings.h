/*
 * The DLL's settings, from HKLM\SOFTWARE\jcmfa (docs/windows.md lists each).
 * They say only how the DLL reaches the daemon and what it does when it
 * cannot: who needs a code is the daemon's decision, never the registry's.
 */
#ifndef JCMFA_SETTINGS_H
#define JCMFA_SETTINGS_H

#include <windows.h>

#define JCMFA_REG_KEY L"SOFTWARE\\jcmfa"

struct Settings {
	bool failSafe;          /* FailMode "safe": daemon absent -> password only (jcmfa_fail_open) */
	bool relayUnlock;       /* Unlock 1: ask the daemon at unlock (it decides) */
	DWORD pipeTimeoutMs;    /* PipeTimeoutMs: per line read and write */
	/* Pipe: a fixed pipe name an admin configured, "" (the default) for
	 * the name the service publishes at each start (jcmfa_pipe_open). */
	wchar_t pipe[256];
	wchar_t excluded[2048]; /* ExcludedAccounts: REG_MULTI_SZ, as the admin wrote them */

	/* Reads the registry; anything absent or malformed keeps its default. */
	void Load();
	/* True if login (an Account's login name) is a break-glass account. */
	bool IsExcluded(const wchar_t *login) const;
};

#endif /* JCMFA_SETTINGS_H */
