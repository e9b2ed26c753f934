#include "settings.h"
#include "helpers.h"

#include <wchar.h>

void Settings::Load()
{
	failSafe = false;
	relayUnlock = true;
	pipeTimeoutMs = 10000;
	pipe[0] = L'\0';
	excluded[0] = excluded[1] = L'\0';

	HKEY k;
	if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, JCMFA_REG_KEY, 0, KEY_READ | KEY_WOW64_64KEY, &k) != ERROR_SUCCESS)
		return;
	wchar_t buf[64];
	DWORD type, size = sizeof buf - sizeof(wchar_t);
	if (RegQueryValueExW(k, L"FailMode", NULL, &type, (BYTE *)buf, &size) == ERROR_SUCCESS && type == REG_SZ) {
		buf[size / sizeof(wchar_t)] = L'\0';
		/* Anything but an exact "safe" stays secure: a typo must not open logins. */
		failSafe = _wcsicmp(buf, L"safe") == 0;
	}
	DWORD d;
	size = sizeof d;
	if (RegQueryValueExW(k, L"Unlock", NULL, &type, (BYTE *)&d, &size) == ERROR_SUCCESS && type == REG_DWORD)
		relayUnlock = d != 0;
	size = sizeof d;
	if (RegQueryValueExW(k, L"PipeTimeoutMs", NULL, &type, (BYTE *)&d, &size) == ERROR_SUCCESS && type == REG_DWORD &&
	    d >= 100 && d <= 600000)
		pipeTimeoutMs = d;
	wchar_t p[256];
	size = sizeof p - sizeof(wchar_t);
	if (RegQueryValueExW(k, L"Pipe", NULL, &type, (BYTE *)p, &size) == ERROR_SUCCESS && type == REG_SZ) {
		p[size / sizeof(wchar_t)] = L'\0';
		if (wcsncmp(p, L"\\\\.\\pipe\\", 9) == 0 && wcslen(p) > 9)
			wcscpy(pipe, p);
	}
	/* Two terminators of room so a value written without its final pair of
	 * NULs still reads as a well-formed list. */
	size = sizeof excluded - 2 * sizeof(wchar_t);
	if (RegQueryValueExW(k, L"ExcludedAccounts", NULL, &type, (BYTE *)excluded, &size) == ERROR_SUCCESS &&
	    type == REG_MULTI_SZ) {
		size_t n = size / sizeof(wchar_t);
		excluded[n] = excluded[n + 1] = L'\0';
	} else {
		excluded[0] = excluded[1] = L'\0';
	}
	RegCloseKey(k);
}

bool Settings::IsExcluded(const wchar_t *login) const
{
	for (const wchar_t *e = excluded; *e; e += wcslen(e) + 1) {
		/* Entries are normalised as typed names are, so ".\admin",
		 * "HOST\Admin" and "admin" all name the same local account. */
		Account a;
		if (ParseAccount(e, &a) && wcscmp(a.login, login) == 0)
			return true;
	}
	return false;
}
