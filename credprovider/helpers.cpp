#include "helpers.h"

#include <ntsecapi.h>
#include <wincred.h>
#include <wchar.h>
#include <string.h>

void Wipe(void *p, size_t n)
{
	SecureZeroMemory(p, n);
}

HRESULT DupString(const wchar_t *s, wchar_t **out)
{
	size_t n = (wcslen(s) + 1) * sizeof(wchar_t);
	*out = (wchar_t *)CoTaskMemAlloc(n);
	if (*out == NULL)
		return E_OUTOFMEMORY;
	memcpy(*out, s, n);
	return S_OK;
}

bool ToUtf8(const wchar_t *w, char *out, size_t cap)
{
	int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, out, (int)cap, NULL, NULL);
	if (n <= 0) {
		if (cap)
			out[0] = '\0';
		return false;
	}
	return true;
}

bool FromUtf8(const char *s, wchar_t *out, size_t cap)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, (int)cap);
	if (n <= 0) {
		if (cap)
			out[0] = L'\0';
		return false;
	}
	return true;
}

static void Lower(wchar_t *s)
{
	/* Windows account names are case-insensitive; the daemon's records are
	 * not, so "ALICE" must not be a different (unrequired) user. */
	CharLowerW(s);
}

static bool IsThisComputer(const wchar_t *domain)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD n = MAX_COMPUTERNAME_LENGTH + 1;
	if (wcscmp(domain, L".") == 0)
		return true;
	return GetComputerNameW(host, &n) && _wcsicmp(host, domain) == 0;
}

/* The daemon keys users by one name per account: a local account by its bare
 * name (as on Linux), a domain account as "domain\user". LSA's own answer
 * is used where it has one, so "alice@corp.example" and "CORP\alice" are
 * the same user to the daemon. */
static void LoginName(Account *a, const wchar_t *typed)
{
	BYTE sid[SECURITY_MAX_SID_SIZE];
	DWORD sidLen = sizeof sid, domLen = JCMFA_NAME_MAX + 1;
	wchar_t dom[JCMFA_NAME_MAX + 1], name[JCMFA_NAME_MAX + 1];
	DWORD nameLen = JCMFA_NAME_MAX + 1;
	SID_NAME_USE use;

	if (LookupAccountNameW(NULL, typed, sid, &sidLen, dom, &domLen, &use) && use == SidTypeUser) {
		domLen = JCMFA_NAME_MAX + 1;
		if (LookupAccountSidW(NULL, sid, name, &nameLen, dom, &domLen, &use)) {
			if (IsThisComputer(dom))
				_snwprintf(a->login, sizeof a->login / sizeof(wchar_t), L"%ls", name);
			else
				_snwprintf(a->login, sizeof a->login / sizeof(wchar_t), L"%ls\\%ls", dom, name);
			a->login[sizeof a->login / sizeof(wchar_t) - 1] = L'\0';
			Lower(a->login);
			return;
		}
	}
	if (a->domain[0] == L'\0' || IsThisComputer(a->domain))
		_snwprintf(a->login, sizeof a->login / sizeof(wchar_t), L"%ls", a->user);
	else
		_snwprintf(a->login, sizeof a->login / sizeof(wchar_t), L"%ls\\%ls", a->domain, a->user);
	a->login[sizeof a->login / sizeof(wchar_t) - 1] = L'\0';
	Lower(a->login);
}

bool AccountFromParts(const wchar_t *domain, const wchar_t *user, Account *a)
{
	size_t ul = wcslen(user), dl = wcslen(domain);
	if (ul == 0 || ul > JCMFA_NAME_MAX || dl > JCMFA_NAME_MAX)
		return false;
	wcscpy(a->user, user);
	if (dl == 0 && wcschr(user, L'@') == NULL) {
		DWORD n = JCMFA_NAME_MAX + 1;
		if (!GetComputerNameW(a->domain, &n))
			return false;
	} else if (wcscmp(domain, L".") == 0) {
		DWORD n = JCMFA_NAME_MAX + 1;
		if (!GetComputerNameW(a->domain, &n))
			return false;
	} else {
		wcscpy(a->domain, domain);
	}
	wchar_t typed[2 * JCMFA_NAME_MAX + 2];
	if (a->domain[0])
		_snwprintf(typed, sizeof typed / sizeof(wchar_t), L"%ls\\%ls", a->domain, a->user);
	else
		_snwprintf(typed, sizeof typed / sizeof(wchar_t), L"%ls", a->user);
	typed[sizeof typed / sizeof(wchar_t) - 1] = L'\0';
	LoginName(a, typed);
	return true;
}

bool ParseAccount(const wchar_t *typed, Account *a)
{
	const wchar_t *bs = wcschr(typed, L'\\');
	if (bs == NULL)
		return AccountFromParts(L"", typed, a);
	size_t dl = (size_t)(bs - typed);
	if (dl == 0 || dl > JCMFA_NAME_MAX)
		return false;
	wchar_t domain[JCMFA_NAME_MAX + 1];
	wmemcpy(domain, typed, dl);
	domain[dl] = L'\0';
	return AccountFromParts(domain, bs + 1, a);
}

Caller EffectiveCaller()
{
	HANDLE tok = NULL;
	if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &tok) &&
	    !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
		return CALLER_USER; /* cannot tell: the least privilege */
	union {
		TOKEN_USER user;
		BYTE raw[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
	} buf;
	DWORD n = 0;
	bool system = GetTokenInformation(tok, TokenUser, &buf, sizeof buf, &n) &&
	              IsWellKnownSid(buf.user.User.Sid, WinLocalSystemSid);
	CloseHandle(tok);
	if (system)
		return CALLER_SYSTEM;
	/* CheckTokenMembership(NULL, ...) checks the effective token and
	 * counts only enabled groups, never deny-only ones (Microsoft's
	 * CheckTokenMembership documentation). */
	BYTE admins[SECURITY_MAX_SID_SIZE];
	DWORD an = sizeof admins;
	BOOL member = FALSE;
	if (CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins, &an) && CheckTokenMembership(NULL, admins, &member) &&
	    member)
		return CALLER_ADMIN;
	return CALLER_USER;
}

/*
 * As ProtectIfNecessaryAndCopyPassword in Microsoft's credential provider
 * sample (microsoft/Windows-classic-samples,
 * Samples/CredentialProvider/cpp/helpers.cpp):
 *  - an empty password is left as it is;
 *  - in CPUS_CREDUI the password is never protected: "we cannot know if our
 *    caller expects or can handle an encrypted password" (a caller that
 *    unpacks without CRED_PACK_PROTECTED_CREDENTIALS would get the blob as
 *    its password);
 *  - a password already protected (CredIsProtectedW says so; an RDP client
 *    may hand one over through SetSerialization) is passed on unchanged;
 *  - otherwise, for logon and unlock, it is protected with
 *    CredProtectW(FALSE, ...), the count including the terminating NUL as
 *    the sample notes, so it crosses to LSA encrypted.
 * *out is CoTaskMemAlloc'ed; the caller wipes and frees it.
 */
HRESULT ProtectIfNecessary(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, const wchar_t *pw, wchar_t **out)
{
	*out = NULL;
	if (pw[0] == L'\0' || cpus == CPUS_CREDUI)
		return DupString(pw, out);
	/* CredIsProtectedW and CredProtectW take non-const strings. */
	wchar_t copy[JCMFA_SECRET_MAX + 1];
	size_t len = wcslen(pw);
	if (len > JCMFA_SECRET_MAX)
		return E_INVALIDARG;
	wmemcpy(copy, pw, len + 1);
	HRESULT hr;
	CRED_PROTECTION_TYPE t;
	if (CredIsProtectedW(copy, &t) && t != CredUnprotected) {
		hr = DupString(copy, out);
		Wipe(copy, sizeof copy);
		return hr;
	}
	DWORD n = 0;
	if (CredProtectW(FALSE, copy, (DWORD)len + 1, NULL, &n, NULL)) {
		hr = E_UNEXPECTED;
	} else if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || n == 0) {
		hr = HRESULT_FROM_WIN32(GetLastError());
	} else if ((*out = (wchar_t *)CoTaskMemAlloc(n * sizeof(wchar_t))) == NULL) {
		hr = E_OUTOFMEMORY;
	} else if (!CredProtectW(FALSE, copy, (DWORD)len + 1, *out, &n, NULL)) {
		hr = HRESULT_FROM_WIN32(GetLastError());
		CoTaskMemFree(*out);
		*out = NULL;
	} else {
		hr = S_OK;
	}
	Wipe(copy, sizeof copy);
	return hr;
}

static NTSTATUS LookupPackage(HANDLE lsa, const char *name, ULONG *id)
{
	char buf[32];
	LSA_STRING s;
	strcpy(buf, name);
	s.Buffer = buf;
	s.Length = (USHORT)strlen(buf);
	s.MaximumLength = s.Length + 1;
	return LsaLookupAuthenticationPackage(lsa, &s, id);
}

HRESULT NegotiatePackage(ULONG *id)
{
	HANDLE lsa;
	if (LsaConnectUntrusted(&lsa) != 0)
		return HRESULT_FROM_WIN32(ERROR_NO_SUCH_PACKAGE);
	NTSTATUS st = LookupPackage(lsa, "Negotiate", id); /* NEGOSSP_NAME_A in the SDK */
	/* Windows always registers Negotiate. Wine 8 registers only Kerberos,
	 * the package Negotiate hands this structure to, so fall back to it
	 * rather than fail every login there. */
	if (st != 0)
		st = LookupPackage(lsa, "Kerberos", id);
	LsaDeregisterLogonProcess(lsa);
	return st == 0 ? S_OK : HRESULT_FROM_NT(st);
}

static bool FitUnicode(UNICODE_STRING *u, const wchar_t *s)
{
	size_t n = wcslen(s) * sizeof(wchar_t);
	if (n > 0xfffe)
		return false;
	u->Length = u->MaximumLength = (USHORT)n;
	return true;
}

HRESULT PackKerbLogon(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, const wchar_t *domain, const wchar_t *user,
                      const wchar_t *password, BYTE **out, ULONG *outLen)
{
	KERB_INTERACTIVE_UNLOCK_LOGON k;
	memset(&k, 0, sizeof k);
	KERB_INTERACTIVE_LOGON *l = &k.Logon;
	l->MessageType = cpus == CPUS_UNLOCK_WORKSTATION ? KerbWorkstationUnlockLogon : KerbInteractiveLogon;
	if (!FitUnicode(&l->LogonDomainName, domain) || !FitUnicode(&l->UserName, user) ||
	    !FitUnicode(&l->Password, password))
		return E_INVALIDARG;
	ULONG total = sizeof k + l->LogonDomainName.Length + l->UserName.Length + l->Password.Length;
	BYTE *b = (BYTE *)CoTaskMemAlloc(total);
	if (b == NULL)
		return E_OUTOFMEMORY;
	ULONG off = sizeof k;
	memcpy(b + off, domain, l->LogonDomainName.Length);
	l->LogonDomainName.Buffer = (PWSTR)(ULONG_PTR)off;
	off += l->LogonDomainName.Length;
	memcpy(b + off, user, l->UserName.Length);
	l->UserName.Buffer = (PWSTR)(ULONG_PTR)off;
	off += l->UserName.Length;
	memcpy(b + off, password, l->Password.Length);
	l->Password.Buffer = (PWSTR)(ULONG_PTR)off;
	memcpy(b, &k, sizeof k);
	Wipe(&k, sizeof k);
	*out = b;
	*outLen = total;
	return S_OK;
}

/* 0: copied; -1: malformed; -2: well-formed but longer than cap allows. */
static int CopyOut(const BYTE *buf, ULONG len, const UNICODE_STRING *u, wchar_t *out, size_t cap)
{
	ULONG_PTR off = (ULONG_PTR)u->Buffer;
	if (u->Length % sizeof(wchar_t))
		return -1;
	if (u->Length == 0) {
		out[0] = L'\0';
		return 0;
	}
	if (off < sizeof(KERB_INTERACTIVE_UNLOCK_LOGON) || off > len || u->Length > len - off)
		return -1;
	if (u->Length / sizeof(wchar_t) >= cap)
		return -2;
	memcpy(out, buf + off, u->Length);
	out[u->Length / sizeof(wchar_t)] = L'\0';
	return wcslen(out) == u->Length / sizeof(wchar_t) ? 0 : -1; /* no NUL inside a name */
}

HRESULT UnpackKerbLogon(const BYTE *buf, ULONG len, wchar_t *domain, wchar_t *user, wchar_t *password)
{
	KERB_INTERACTIVE_UNLOCK_LOGON k;
	if (buf == NULL || len < sizeof k)
		return E_INVALIDARG;
	memcpy(&k, buf, sizeof k);
	const KERB_INTERACTIVE_LOGON *l = &k.Logon;
	if (l->MessageType != KerbInteractiveLogon && l->MessageType != KerbWorkstationUnlockLogon)
		return E_INVALIDARG;
	int d = CopyOut(buf, len, &l->LogonDomainName, domain, JCMFA_NAME_MAX + 1);
	int u = CopyOut(buf, len, &l->UserName, user, JCMFA_NAME_MAX + 1);
	int p = d == 0 && u == 0 ? CopyOut(buf, len, &l->Password, password, JCMFA_SECRET_MAX + 1) : -1;
	Wipe(&k, sizeof k);
	if (p != 0) {
		Wipe(password, (JCMFA_SECRET_MAX + 1) * sizeof(wchar_t));
		return p == -2 ? JCMFA_E_SECRET_TOO_LONG : E_INVALIDARG;
	}
	return S_OK;
}

LogonKind KindOfLogon(const BYTE *buf, ULONG len)
{
	KERB_LOGON_SUBMIT_TYPE t;
	if (buf == NULL || len < sizeof t)
		return LOGON_OTHER;
	memcpy(&t, buf, sizeof t);
	switch (t) {
	case KerbInteractiveLogon:
	case KerbWorkstationUnlockLogon:
		return LOGON_PASSWORD;
	case KerbSmartCardLogon:
	case KerbSmartCardUnlockLogon:
	case KerbCertificateLogon:
	case KerbCertificateUnlockLogon:
		return LOGON_CARD;
	default:
		return LOGON_OTHER;
	}
}
