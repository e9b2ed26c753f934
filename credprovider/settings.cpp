#include "settings.h"
#include "helpers.h"

#include <new>
#include <string.h>
#include <wchar.h>

void Settings::Load()
{
	failSafe = false;
	relayUnlock = true;
	pipeTimeoutMs = 10000;
	pipe[0] = L'\0';
	excluded[0] = excluded[1] = L'\0';
	nkeep = keepIgnored = 0;

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
	LoadKeep(k);
	RegCloseKey(k);
}

/*
 * The well-known names. Class IDs from Microsoft's credentialprovider.h
 * (Windows 10 SDK, the CredentialProviders library: CLSID_Password-
 * CredentialProvider, CLSID_SmartcardCredentialProvider, CLSID_Smartcard-
 * PinProvider, CLSID_SmartcardReaderSelectionProvider, CLSID_Smartcard-
 * WinRTProvider, CLSID_WinBioCredentialProvider), except two that the SDK
 * does not declare and Windows registers under its "Credential Providers"
 * key: the NGC provider (Windows Hello PIN; {D6886603-...}, the key
 * ngccredprov reads its per-user state under) and the FIDO provider
 * (security keys; {F8A1793B-...}, the one privacyIDEA's filter keeps in
 * CredUI: privacyidea/privacyidea-credential-provider,
 * CredentialProviderFilter/CCredentialProviderFilter.cpp).
 * internal/credprovs/credprovs.go holds the same rows (its test compares).
 */
const KnownProvider kKnownProviders[] = {
	{L"PasswordProvider", L"{60b78e88-ead8-445c-9cfd-0b87f74ea6cd}"},
	{L"SmartCardProvider", L"{8fd7e19c-3bf7-489b-a72c-846ab3678c96}"},
	{L"SmartCardProvider", L"{94596c7e-3744-41ce-893e-bbf09122f76a}"},
	{L"SmartCardProvider", L"{1b283861-754f-4022-ad47-a5eaaa618894}"},
	{L"SmartCardProvider", L"{1ee7337f-85ac-45e2-a23c-37c753209769}"},
	{L"NGC", L"{d6886603-9d2f-4eb2-b667-1971041fa96b}"},
	{L"PINProvider", L"{d6886603-9d2f-4eb2-b667-1971041fa96b}"},
	{L"WindowsHello", L"{d6886603-9d2f-4eb2-b667-1971041fa96b}"},
	{L"WinBio", L"{bec09223-b018-416d-a0ac-523971b639f5}"},
	{L"FIDO", L"{f8a1793b-7873-4046-b2a7-1f318747f427}"},
};
const int kKnownProvidersCount = (int)(sizeof kKnownProviders / sizeof kKnownProviders[0]);

static int Hex(wchar_t c)
{
	if (c >= L'0' && c <= L'9')
		return c - L'0';
	if (c >= L'a' && c <= L'f')
		return c - L'a' + 10;
	if (c >= L'A' && c <= L'F')
		return c - L'A' + 10;
	return -1;
}

/* Exactly 8-4-4-4-12 hex digits, in braces or without; nothing around. */
static bool ParseClsid(const wchar_t *s, GUID *g)
{
	size_t n = wcslen(s);
	if (n == 38 && s[0] == L'{' && s[37] == L'}') {
		s++;
		n = 36;
	} else if (n != 36) {
		return false;
	}
	BYTE b[16];
	int nb = 0;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != L'-')
				return false;
			i++;
			continue;
		}
		int hi = Hex(s[i]), lo = Hex(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		b[nb++] = (BYTE)(hi << 4 | lo);
		i += 2;
	}
	g->Data1 = (DWORD)b[0] << 24 | (DWORD)b[1] << 16 | (DWORD)b[2] << 8 | b[3];
	g->Data2 = (WORD)(b[4] << 8 | b[5]);
	g->Data3 = (WORD)(b[6] << 8 | b[7]);
	memcpy(g->Data4, b + 8, 8);
	return true;
}

int ParseKeepEntry(const wchar_t *entry, GUID *out, int cap)
{
	if (cap < 1)
		return 0;
	if (ParseClsid(entry, out))
		return 1;
	int n = 0;
	for (int i = 0; i < kKnownProvidersCount; i++)
		if (_wcsicmp(entry, kKnownProviders[i].name) == 0 && n < cap && ParseClsid(kKnownProviders[i].clsid, &out[n]))
			n++;
	return n;
}

static void LogIgnored(const wchar_t *entry, const wchar_t *why)
{
	wchar_t m[160];
	_snwprintf(m, sizeof m / sizeof(wchar_t), L"jcmfa: KeepProviders: ignored \"%.64ls\": %ls\n", entry, why);
	m[sizeof m / sizeof(wchar_t) - 1] = L'\0';
	OutputDebugStringW(m);
}

void Settings::AddKeep(const wchar_t *entry)
{
	GUID g[8];
	int n = ParseKeepEntry(entry, g, 8);
	if (n == 0) {
		keepIgnored++;
		LogIgnored(entry, L"neither a class ID ({8-4-4-4-12}) nor a known name");
		return;
	}
	if (nkeep + n > JCMFA_KEEP_MAX) {
		keepIgnored++;
		LogIgnored(entry, L"too many entries");
		return;
	}
	for (int i = 0; i < n; i++)
		keep[nkeep++] = g[i];
}

/*
 * KeepProviders: REG_MULTI_SZ, one entry a string; or REG_SZ with entries
 * separated by ";" or ",". Spaces around an entry are dropped, empty
 * entries skipped. A value of any other type, or too long to read whole,
 * keeps nothing: a setting that cannot be read exactly never widens what
 * the filter shows.
 */
void Settings::LoadKeep(HKEY k)
{
	static const DWORD cap = 2048;
	wchar_t *buf = new (std::nothrow) wchar_t[cap + 2];
	if (buf == NULL)
		return;
	DWORD type, size = cap * sizeof(wchar_t);
	LONG rc = RegQueryValueExW(k, L"KeepProviders", NULL, &type, (BYTE *)buf, &size);
	if (rc == ERROR_FILE_NOT_FOUND) {
		delete[] buf;
		return;
	}
	if (rc != ERROR_SUCCESS || (type != REG_MULTI_SZ && type != REG_SZ) || size % sizeof(wchar_t)) {
		keepIgnored++;
		LogIgnored(L"KeepProviders", rc == ERROR_MORE_DATA ? L"the value is too long" : L"not REG_MULTI_SZ or REG_SZ");
		delete[] buf;
		return;
	}
	size_t n = size / sizeof(wchar_t);
	buf[n] = buf[n + 1] = L'\0';
	if (type == REG_SZ)
		for (size_t i = 0; i < n; i++)
			if (buf[i] == L';' || buf[i] == L',')
				buf[i] = L'\0';
	/* Walk every NUL-separated piece up to the end of the data (a REG_SZ
	 * list now has NULs where its separators were). */
	for (size_t i = 0; i < n;) {
		wchar_t *e = buf + i;
		size_t len = wcslen(e);
		i += len + 1;
		while (*e == L' ' || *e == L'\t')
			e++, len--;
		while (len > 0 && (e[len - 1] == L' ' || e[len - 1] == L'\t'))
			e[--len] = L'\0';
		if (len > 0)
			AddKeep(e);
	}
	delete[] buf;
}

bool Settings::Keeps(const GUID &clsid) const
{
	for (int i = 0; i < nkeep; i++)
		if (IsEqualGUID(keep[i], clsid))
			return true;
	return false;
}

bool Settings::KeepsSmartCard() const
{
	GUID g[8];
	int n = ParseKeepEntry(L"SmartCardProvider", g, 8);
	for (int i = 0; i < n; i++)
		if (Keeps(g[i]))
			return true;
	return false;
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
