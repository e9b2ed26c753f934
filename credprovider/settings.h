/*
 * The DLL's settings, from HKLM\SOFTWARE\jcmfa (docs/windows.md lists each).
 * They say only how the DLL reaches the daemon and what it does when it
 * cannot: who needs a code is the daemon's decision, never the registry's.
 */
#ifndef JCMFA_SETTINGS_H
#define JCMFA_SETTINGS_H

#include <windows.h>

#define JCMFA_REG_KEY L"SOFTWARE\\jcmfa"
#define JCMFA_KEEP_MAX 32

struct Settings {
	bool failSafe;          /* FailMode "safe": daemon absent -> password only (jcmfa_fail_open) */
	bool relayUnlock;       /* Unlock 1: ask the daemon at unlock (it decides) */
	DWORD pipeTimeoutMs;    /* PipeTimeoutMs: per line read and write */
	/* Pipe: a fixed pipe name an admin configured, "" (the default) for
	 * the name the service publishes at each start (jcmfa_pipe_open). */
	wchar_t pipe[256];
	wchar_t excluded[2048]; /* ExcludedAccounts: REG_MULTI_SZ, as the admin wrote them */
	/* KeepProviders: the other credential providers the filter leaves
	 * visible while MFA is on (each one a way around the code; doctor
	 * warns). Only entries ParseKeepEntry accepts; the rest are ignored. */
	GUID keep[JCMFA_KEEP_MAX];
	int nkeep;
	int keepIgnored;        /* entries ignored: malformed, unknown name, over JCMFA_KEEP_MAX */

	/* Reads the registry; anything absent or malformed keeps its default. */
	void Load();
	/* True if login (an Account's login name) is a break-glass account. */
	bool IsExcluded(const wchar_t *login) const;
	/* True if KeepProviders lists clsid. */
	bool Keeps(const GUID &clsid) const;
	/* True if KeepProviders lists any of Windows' smart card providers
	 * (the SmartCardProvider name): an RDP smart card logon is then left
	 * to them (JcmfaFilter::UpdateRemoteCredential). */
	bool KeepsSmartCard() const;

private:
	void LoadKeep(HKEY k);
	void AddKeep(const wchar_t *entry);
};

/*
 * One KeepProviders entry: a CLSID, "{8-4-4-4-12}" or the same without
 * braces, hex in either case; or a well-known name (settings.cpp,
 * kKnownProviders), case-insensitive, which may stand for several CLSIDs.
 * Returns how many CLSIDs it wrote to out (at most cap), 0 if the entry
 * is not exactly one of those forms. Nothing else is accepted: no ProgIDs,
 * no wildcards, no partial names.
 */
int ParseKeepEntry(const wchar_t *entry, GUID *out, int cap);

/* A well-known name for KeepProviders and one CLSID it stands for (a
 * name may have several rows). The table is in settings.cpp; the Go side
 * (internal/credprovs) holds the same rows and its test compares them. */
struct KnownProvider {
	const wchar_t *name;
	const wchar_t *clsid; /* "{8-4-4-4-12}" */
};
extern const KnownProvider kKnownProviders[];
extern const int kKnownProvidersCount;

#endif /* JCMFA_SETTINGS_H */
