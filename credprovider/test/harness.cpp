/*
 * cp_harness: drives jcmfa_credprov.dll the way LogonUI and CredUI do, under
 * wine, against a real jcmfa-agent.exe on a named pipe (run_wine.sh starts
 * it and enrolls the users). Each check prints one line; the last line is
 * "N passed, N failed", and the exit status is non-zero on any failure.
 *
 *   cp_harness.exe DLL register|unregister
 *   cp_harness.exe DLL mfa-on SECRET_ALICE SECRET_CAROL SECRET_DAVE SECRET_FRANK SECRET_GINA
 *   cp_harness.exe DLL mfa-off
 *   cp_harness.exe DLL down absent|impostor
 *   cp_harness.exe DLL uac off|on SECRET_ERIN   (the daemon's uac setting, set by the script)
 *   cp_harness.exe impostor PIPE LOG   (not a check: a squatter, see Impostor)
 *
 * Stand-ins. Wine 8 does not implement CredProtectW, CredIsProtectedW or
 * CredUnprotectW (advapi32 forwards them to sechost stubs: calling one
 * aborts the process) and its CredPackAuthenticationBufferW is a stub that
 * packs nothing. After loading the DLL the harness points those imports of
 * the DLL (its import address table, in this process only) at the
 * functions below; the DLL itself is the shipped one, unchanged. So these
 * checks test what the DLL asks of Windows (which call, which flags, which
 * user name, which password) and that it passes Windows' answer on, not
 * Windows' own encryption or packing formats:
 *   - "the password is protected": StandInCredProtectW was called and its
 *     output is what reaches the serialization (logon, unlock, RDP,
 *     break-glass, fail-safe);
 *   - "already protected passes unchanged": StandInCredIsProtectedW;
 *   - every CredUI output check: StandInCredPackAuthenticationBufferW;
 *   - the uac checks: StandInIsWellKnownSid answers "LocalSystem" for the
 *     token's user, since wine runs no process as SYSTEM (consent.exe does).
 * The non-admin CredUI checks need no stand-in: the harness impersonates a
 * restricted copy of its own token with Administrators deny-only, which
 * wine's CheckTokenMembership honours.
 */
#include "cp.h"
#include "fields.h"
#include "guid.h"
#include "helpers.h"
#include "settings.h"
#include "totp.h"

#include <ntsecapi.h>
#include <wincred.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

typedef HRESULT(__stdcall *GetClassObjectFn)(REFCLSID, REFIID, void **);
typedef HRESULT(__stdcall *RegisterFn)();

static int g_pass, g_fail;
static GetClassObjectFn g_getClassObject;
static const wchar_t *kPassword = L"Corr3ct horse \x00e9"; /* non-ASCII on purpose */

#define CHECK(cond, ...)                                     \
	do {                                                     \
		if (cond) {                                          \
			g_pass++;                                        \
			printf("ok   ");                                 \
		} else {                                             \
			g_fail++;                                        \
			printf("FAIL ");                                 \
		}                                                    \
		printf(__VA_ARGS__);                                 \
		printf("\n");                                        \
		fflush(stdout);                                      \
	} while (0)

/* ---- stand-ins (see the top of this file) ------------------------------ */

static const wchar_t kProtMark[] = L"@@jcmfa-test-protected:";
static int g_protectCalls;

/* CredProtectW's contract (MicrosoftDocs/sdk-api, nf-wincred-credprotectw.md):
 * cch counts the terminating NUL; with no or too small an output buffer it
 * fails with ERROR_INSUFFICIENT_BUFFER and sets the size needed. The
 * "protection" is the marker and the UTF-16 units in hex. */
static BOOL WINAPI StandInCredProtectW(BOOL, LPWSTR in, DWORD cch, LPWSTR out, DWORD *max, CRED_PROTECTION_TYPE *type)
{
	g_protectCalls++;
	if (in == NULL || cch == 0 || max == NULL || in[cch - 1] != L'\0') {
		SetLastError(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	size_t n = cch - 1, mark = wcslen(kProtMark);
	DWORD need = (DWORD)(mark + 4 * n + 1);
	if (out == NULL || *max < need) {
		*max = need;
		SetLastError(ERROR_INSUFFICIENT_BUFFER);
		return FALSE;
	}
	wcscpy(out, kProtMark);
	for (size_t i = 0; i < n; i++)
		_snwprintf(out + mark + 4 * i, 5, L"%04x", (unsigned)in[i]);
	out[need - 1] = L'\0';
	*max = need;
	if (type)
		*type = CredUserProtection;
	return TRUE;
}

static bool IsStandInProtected(const wchar_t *s) { return wcsncmp(s, kProtMark, wcslen(kProtMark)) == 0; }

static BOOL WINAPI StandInCredIsProtectedW(LPWSTR s, CRED_PROTECTION_TYPE *t)
{
	*t = IsStandInProtected(s) ? CredUserProtection : CredUnprotected;
	return TRUE;
}

/* The harness's CredUnprotect for the stand-in's format. */
static bool Unprotect(const wchar_t *p, wchar_t *out, size_t cap)
{
	if (!IsStandInProtected(p))
		return false;
	p += wcslen(kProtMark);
	size_t n = wcslen(p);
	if (n % 4 || n / 4 >= cap)
		return false;
	for (size_t i = 0; i < n / 4; i++) {
		wchar_t h[5] = {p[4 * i], p[4 * i + 1], p[4 * i + 2], p[4 * i + 3], 0};
		out[i] = (wchar_t)wcstoul(h, NULL, 16);
	}
	out[n / 4] = L'\0';
	return true;
}

/* What the DLL last asked CredPackAuthenticationBufferW for, and what it got. */
static struct {
	int calls;
	DWORD flags;
	wchar_t user[600], password[600];
	BYTE out[4096];
	DWORD outLen;
} g_pack;

static BOOL WINAPI StandInCredPackAuthenticationBufferW(DWORD flags, LPWSTR user, LPWSTR pw, PBYTE buf, DWORD *cb)
{
	size_t ul = wcslen(user), pl = wcslen(pw);
	DWORD need = (DWORD)(8 + sizeof(DWORD) + (ul + 1 + pl + 1) * sizeof(wchar_t));
	if (ul >= 600 || pl >= 600 || need > sizeof g_pack.out) {
		SetLastError(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	if (buf == NULL || *cb < need) {
		*cb = need;
		SetLastError(ERROR_INSUFFICIENT_BUFFER);
		return FALSE;
	}
	g_pack.calls++;
	g_pack.flags = flags;
	wcscpy(g_pack.user, user);
	wcscpy(g_pack.password, pw);
	memcpy(buf, "JCMFAPK", 8);
	memcpy(buf + 8, &flags, sizeof flags);
	memcpy(buf + 8 + sizeof flags, user, (ul + 1) * sizeof(wchar_t));
	memcpy(buf + 8 + sizeof flags + (ul + 1) * sizeof(wchar_t), pw, (pl + 1) * sizeof(wchar_t));
	memcpy(g_pack.out, buf, need);
	g_pack.outLen = need;
	*cb = need;
	return TRUE;
}

static bool g_pretendSystem;

static BOOL WINAPI StandInIsWellKnownSid(PSID sid, WELL_KNOWN_SID_TYPE t)
{
	if (g_pretendSystem && t == WinLocalSystemSid)
		return TRUE;
	return IsWellKnownSid(sid, t);
}

/* Points every import of func in mod at repl; false if mod imports no func. */
static bool PatchImport(HMODULE mod, const char *func, void *repl)
{
	BYTE *base = (BYTE *)mod;
	IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
	IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
	bool done = false;
	if (dir.VirtualAddress == 0)
		return false;
	for (IMAGE_IMPORT_DESCRIPTOR *d = (IMAGE_IMPORT_DESCRIPTOR *)(base + dir.VirtualAddress); d->Name; d++) {
		IMAGE_THUNK_DATA *names = (IMAGE_THUNK_DATA *)(base + (d->OriginalFirstThunk ? d->OriginalFirstThunk : d->FirstThunk));
		IMAGE_THUNK_DATA *iat = (IMAGE_THUNK_DATA *)(base + d->FirstThunk);
		for (; names->u1.AddressOfData; names++, iat++) {
			if (IMAGE_SNAP_BY_ORDINAL(names->u1.Ordinal))
				continue;
			IMAGE_IMPORT_BY_NAME *ibn = (IMAGE_IMPORT_BY_NAME *)(base + names->u1.AddressOfData);
			if (strcmp((const char *)ibn->Name, func) != 0)
				continue;
			DWORD old;
			VirtualProtect(&iat->u1.Function, sizeof iat->u1.Function, PAGE_READWRITE, &old);
			iat->u1.Function = (ULONG_PTR)repl;
			VirtualProtect(&iat->u1.Function, sizeof iat->u1.Function, old, &old);
			done = true;
		}
	}
	return done;
}

/* Another provider's class ID: what Windows' password provider would be. */
static const CLSID kOther = {0x11111111, 0x2222, 0x3333, {0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55}};

static void SetReg(const wchar_t *name, DWORD type, const void *data, DWORD size)
{
	HKEY k;
	if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\jcmfa", 0, NULL, 0, KEY_WRITE | KEY_WOW64_64KEY, NULL, &k,
	                    NULL) != ERROR_SUCCESS) {
		printf("cannot write HKLM\\SOFTWARE\\jcmfa\n");
		return;
	}
	if (data == NULL)
		RegDeleteValueW(k, name);
	else
		RegSetValueExW(k, name, 0, type, (const BYTE *)data, size);
	RegCloseKey(k);
}

static void SetRegSz(const wchar_t *name, const wchar_t *v)
{
	SetReg(name, REG_SZ, v, v ? (DWORD)((wcslen(v) + 1) * sizeof(wchar_t)) : 0);
}

static ICredentialProvider *NewProvider(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD flags = 0)
{
	IClassFactory *cf = NULL;
	ICredentialProvider *p = NULL;
	if (FAILED(g_getClassObject(CLSID_JcmfaProvider, IID_IClassFactory, (void **)&cf)))
		return NULL;
	cf->CreateInstance(NULL, IID_ICredentialProvider, (void **)&p);
	cf->Release();
	if (p && FAILED(p->SetUsageScenario(cpus, flags))) {
		p->Release();
		return NULL;
	}
	return p;
}

static ICredentialProviderFilter *NewFilter()
{
	IClassFactory *cf = NULL;
	ICredentialProviderFilter *f = NULL;
	if (FAILED(g_getClassObject(CLSID_JcmfaFilter, IID_IClassFactory, (void **)&cf)))
		return NULL;
	cf->CreateInstance(NULL, IID_ICredentialProviderFilter, (void **)&f);
	cf->Release();
	return f;
}

struct Outcome {
	HRESULT hr;
	CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE gsr;
	CREDENTIAL_PROVIDER_STATUS_ICON icon;
	wchar_t status[1024];
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION cs;
};

static void Submit(ICredentialProviderCredential *c, Outcome *o)
{
	LPWSTR text = NULL;
	memset(o, 0, sizeof *o);
	o->hr = c->GetSerialization(&o->gsr, &o->cs, &text, &o->icon);
	if (text) {
		wcsncpy(o->status, text, 1023);
		CoTaskMemFree(text);
	}
}

static void FreeOutcome(Outcome *o)
{
	if (o->cs.rgbSerialization)
		CoTaskMemFree(o->cs.rgbSerialization);
	o->cs.rgbSerialization = NULL;
}

static CREDENTIAL_PROVIDER_FIELD_STATE FieldState(ICredentialProviderCredential *c, DWORD id)
{
	CREDENTIAL_PROVIDER_FIELD_STATE s = CPFS_HIDDEN;
	CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE is;
	c->GetFieldState(id, &s, &is);
	return s;
}

static bool MessageContains(ICredentialProviderCredential *c, const wchar_t *needle)
{
	LPWSTR m = NULL;
	bool ok = SUCCEEDED(c->GetStringValue(FI_MESSAGE, &m)) && m && wcsstr(m, needle);
	if (m)
		CoTaskMemFree(m);
	return ok;
}

static const char *Narrow(const wchar_t *w)
{
	static char buf[4][1100];
	static int i;
	char *b = buf[i++ % 4];
	WideCharToMultiByte(CP_UTF8, 0, w, -1, b, 1100, NULL, NULL);
	return b;
}

/* Unpacks o's serialization and compares it with what LSA must receive. */
static void CheckKerb(const char *what, Outcome *o, const wchar_t *domain, const wchar_t *user,
                      const wchar_t *password, KERB_LOGON_SUBMIT_TYPE type)
{
	ULONG pkg = 0;
	wchar_t d[JCMFA_NAME_MAX + 1], u[JCMFA_NAME_MAX + 1], p[JCMFA_SECRET_MAX + 1];
	CHECK(o->hr == S_OK && o->gsr == CPGSR_RETURN_CREDENTIAL_FINISHED, "%s: serialization produced (hr=0x%08lx gsr=%d status=%s)",
	      what, (unsigned long)o->hr, (int)o->gsr, Narrow(o->status));
	if (o->cs.rgbSerialization == NULL)
		return;
	CHECK(IsEqualCLSID(o->cs.clsidCredentialProvider, CLSID_JcmfaProvider), "%s: serialization names jcmfa's provider", what);
	CHECK(SUCCEEDED(NegotiatePackage(&pkg)) && pkg == o->cs.ulAuthenticationPackage,
	      "%s: authentication package is Negotiate (%lu)", what, (unsigned long)o->cs.ulAuthenticationPackage);
	KERB_INTERACTIVE_UNLOCK_LOGON k;
	memcpy(&k, o->cs.rgbSerialization, sizeof k);
	CHECK(k.Logon.MessageType == type, "%s: MessageType %d", what, (int)k.Logon.MessageType);
	HRESULT hr = UnpackKerbLogon(o->cs.rgbSerialization, o->cs.cbSerialization, d, u, p);
	CHECK(SUCCEEDED(hr) && wcscmp(d, domain) == 0 && wcscmp(u, user) == 0,
	      "%s: KERB_INTERACTIVE_UNLOCK_LOGON carries domain=%s user=%s", what, Narrow(d), Narrow(u));
	/* Logon and unlock hand LSA a protected password (helpers.cpp,
	 * ProtectIfNecessary; stand-in StandInCredProtectW). */
	wchar_t plain[JCMFA_SECRET_MAX + 1];
	CHECK(SUCCEEDED(hr) && Unprotect(p, plain, JCMFA_SECRET_MAX + 1) && wcscmp(plain, password) == 0,
	      "%s: the password is protected (CredProtectW) and unprotects to the one typed", what);
	Wipe(p, sizeof p);
}

/* A CredUI result: CredPackAuthenticationBufferW's buffer for user and the
 * password in plain text, with how (CRED_PACK_* flags). */
static void CheckCredUI(const char *what, Outcome *o, DWORD how, const wchar_t *user, int protectCallsBefore)
{
	ULONG pkg = 0;
	CHECK(o->hr == S_OK && o->gsr == CPGSR_RETURN_CREDENTIAL_FINISHED,
	      "%s: serialization produced (hr=0x%08lx gsr=%d status=%s)", what, (unsigned long)o->hr, (int)o->gsr,
	      Narrow(o->status));
	if (o->cs.rgbSerialization == NULL)
		return;
	CHECK(IsEqualCLSID(o->cs.clsidCredentialProvider, CLSID_JcmfaProvider) && SUCCEEDED(NegotiatePackage(&pkg)) &&
	          pkg == o->cs.ulAuthenticationPackage,
	      "%s: names jcmfa's provider and Negotiate", what);
	CHECK(g_pack.calls > 0 && g_pack.flags == how, "%s: packed by CredPackAuthenticationBufferW with flags 0x%lx (want 0x%lx)",
	      what, (unsigned long)g_pack.flags, (unsigned long)how);
	CHECK(g_pack.calls > 0 && wcscmp(g_pack.user, user) == 0, "%s: packed user name %s (want %s)", what,
	      Narrow(g_pack.user), Narrow(user));
	CHECK(g_pack.calls > 0 && wcscmp(g_pack.password, kPassword) == 0 && g_protectCalls == protectCallsBefore,
	      "%s: the password is packed in plain text, never CredProtect'ed (%d CredProtectW calls)", what,
	      g_protectCalls - protectCallsBefore);
	CHECK(o->cs.cbSerialization == g_pack.outLen && memcmp(o->cs.rgbSerialization, g_pack.out, g_pack.outLen) == 0,
	      "%s: the serialization is exactly CredPackAuthenticationBufferW's buffer (%lu bytes)", what,
	      (unsigned long)o->cs.cbSerialization);
}

static long CodeFor(const char *secret, int offset)
{
	return totp_code(secret, (int64_t)time(NULL) / 30 + offset);
}

/* A code valid at no step the daemon accepts (now, and one either side). */
static long WrongCode(const char *secret)
{
	long c = (CodeFor(secret, 0) + 500000) % 1000000;
	while (c == CodeFor(secret, -1) || c == CodeFor(secret, 0) || c == CodeFor(secret, 1))
		c = (c + 1) % 1000000;
	return c;
}

static void SetCode(ICredentialProviderCredential *c, long code)
{
	wchar_t w[16];
	_snwprintf(w, 16, L"%06ld", code);
	c->SetStringValue(FI_CODE, w);
}

/* One local login through the tile: user and password typed, submitted. */
static ICredentialProviderCredential *TypeLogin(ICredentialProvider *p, const wchar_t *user, Outcome *o)
{
	DWORD n = 0, def = 0;
	BOOL autoLogon = TRUE;
	ICredentialProviderCredential *c = NULL;
	if (p == NULL || FAILED(p->GetCredentialCount(&n, &def, &autoLogon)) || n != 1 ||
	    FAILED(p->GetCredentialAt(0, &c))) {
		memset(o, 0, sizeof *o);
		o->hr = E_FAIL;
		return NULL;
	}
	c->SetStringValue(FI_USER, user);
	c->SetStringValue(FI_PASSWORD, kPassword);
	Submit(c, o);
	return c;
}

static void Release(IUnknown *u)
{
	if (u)
		u->Release();
}

/* An NLA serialization; preProtected: the client's password arrives
 * already protected, as an RDP client may send it (the sample's
 * ProtectIfNecessaryAndCopyPassword comment). */
static BYTE *PackRemote(const wchar_t *domain, const wchar_t *user, ULONG *len, bool preProtected = false,
                        const wchar_t *password = kPassword)
{
	BYTE *b = NULL;
	static wchar_t prot[4 * JCMFA_SECRET_MAX + 64], copy[JCMFA_SECRET_MAX + 1];
	DWORD n = sizeof prot / sizeof prot[0];
	wcscpy(copy, password);
	if (preProtected)
		StandInCredProtectW(FALSE, copy, (DWORD)wcslen(copy) + 1, prot, &n, NULL);
	PackKerbLogon(CPUS_LOGON, domain, user, preProtected ? prot : password, &b, len);
	return b;
}

/* Windows' own providers (SDK credentialprovider.h, and the two the SDK
 * does not declare; credprovider/settings.cpp cites each). Written out
 * here rather than taken from the DLL's table, so a wrong row there fails. */
static const GUID kPasswordCP = {0x60b78e88, 0xead8, 0x445c, {0x9c, 0xfd, 0x0b, 0x87, 0xf7, 0x4e, 0xa6, 0xcd}};
static const GUID kSmartcardCP = {0x8fd7e19c, 0x3bf7, 0x489b, {0xa7, 0x2c, 0x84, 0x6a, 0xb3, 0x67, 0x8c, 0x96}};
static const GUID kSmartcardPin = {0x94596c7e, 0x3744, 0x41ce, {0x89, 0x3e, 0xbb, 0xf0, 0x91, 0x22, 0xf7, 0x6a}};
static const GUID kSmartcardReader = {0x1b283861, 0x754f, 0x4022, {0xad, 0x47, 0xa5, 0xea, 0xaa, 0x61, 0x88, 0x94}};
static const GUID kSmartcardWinRT = {0x1ee7337f, 0x85ac, 0x45e2, {0xa2, 0x3c, 0x37, 0xc7, 0x53, 0x20, 0x97, 0x69}};
static const GUID kNgcCP = {0xd6886603, 0x9d2f, 0x4eb2, {0xb6, 0x67, 0x19, 0x71, 0x04, 0x1f, 0xa9, 0x6b}};
static const GUID kWinBioCP = {0xbec09223, 0xb018, 0x416d, {0xa0, 0xac, 0x52, 0x39, 0x71, 0xb6, 0x39, 0xf5}};
static const GUID kFidoCP = {0xf8a1793b, 0x7873, 0x4046, {0xb2, 0xa7, 0x1f, 0x31, 0x87, 0x47, 0xf4, 0x27}};

static void FilterChecks(bool expectFiltered, const char *why)
{
	ICredentialProviderFilter *f = NewFilter();
	CHECK(f != NULL, "filter: created through DllGetClassObject");
	if (f == NULL)
		return;
	GUID ids[3] = {kOther, CLSID_JcmfaProvider, kPasswordCP};
	BOOL allow[3] = {TRUE, TRUE, TRUE};
	HRESULT hr = f->Filter(CPUS_LOGON, 0, ids, allow, 3);
	if (expectFiltered)
		CHECK(hr == S_OK && !allow[0] && allow[1] && !allow[2], "filter (%s): logon shows only jcmfa's tile", why);
	else
		CHECK(hr == S_OK && allow[0] && allow[1] && allow[2], "filter (%s): logon keeps every provider", why);
	BOOL allow2[3] = {TRUE, TRUE, TRUE};
	hr = f->Filter(CPUS_CHANGE_PASSWORD, 0, ids, allow2, 3);
	CHECK(hr == S_OK && allow2[0] && allow2[2], "filter (%s): password change keeps Windows' providers", why);
	f->Release();
}

/* The filter's answer to an RDP client's serialization in: readdressed
 * (S_OK, the very bytes, a fresh buffer, only the class ID ours) or
 * declined (E_NOTIMPL, out left zeroed). */
static bool Readdressed(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *in,
                        CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *out, HRESULT *hrOut = NULL)
{
	memset(out, 0xab, sizeof *out); /* LogonUI's out structure is not ours to trust */
	ICredentialProviderFilter *f = NewFilter();
	HRESULT hr = f ? f->UpdateRemoteCredential(in, out) : E_FAIL;
	Release(f);
	if (hrOut)
		*hrOut = hr;
	return hr == S_OK && out->rgbSerialization != NULL && out->rgbSerialization != in->rgbSerialization &&
	       out->cbSerialization == in->cbSerialization &&
	       memcmp(out->rgbSerialization, in->rgbSerialization, in->cbSerialization) == 0 &&
	       out->ulAuthenticationPackage == in->ulAuthenticationPackage &&
	       IsEqualCLSID(out->clsidCredentialProvider, CLSID_JcmfaProvider);
}

static bool Declined(HRESULT hr, const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *out)
{
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION zero;
	memset(&zero, 0, sizeof zero);
	return hr == E_NOTIMPL && memcmp(out, &zero, sizeof zero) == 0;
}

static void FreeOut(CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *out)
{
	if (out->rgbSerialization && out->rgbSerialization != (BYTE *)(ULONG_PTR)0xabababababababab)
		CoTaskMemFree(out->rgbSerialization);
	memset(out, 0, sizeof *out);
}

/*
 * An RDP logon with NLA as LogonUI runs it: UpdateRemoteCredential on the
 * client's serialization, SetSerialization with the result, the default
 * tile submitted at once, then (if required) the code. password is what
 * the client sent (protected by it when preProtected); the serialization
 * LogonUI gets must carry it, protected exactly once.
 */
static void RemoteLogin(const char *what, const wchar_t *user, const char *secret, bool expectCode,
                        bool preProtected = false, const wchar_t *password = kPassword, int codeOffset = 0,
                        CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus = CPUS_LOGON)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	ULONG pkg = 0, len = 0;
	NegotiatePackage(&pkg);
	BYTE *b = PackRemote(host, user, &len, preProtected, password);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION in = {pkg, kOther, len, b}, out;
	CHECK(Readdressed(&in, &out),
	      "%s: the filter passes the NLA serialization on unchanged (%lu bytes, byte for byte, a fresh buffer), only "
	      "the class ID now jcmfa's", what, (unsigned long)len);

	ICredentialProvider *p = NewProvider(cpus);
	CHECK(p && p->SetSerialization(&in) == E_INVALIDARG,
	      "%s: a serialization for another provider is refused (it must come through the filter)", what);
	HRESULT hr = p ? p->SetSerialization(&out) : E_FAIL;
	CHECK(hr == S_OK, "%s: provider takes the readdressed serialization (hr=0x%08lx)", what, (unsigned long)hr);
	DWORD n = 0, def = 99;
	BOOL autoLogon = FALSE;
	ICredentialProviderCredential *c = NULL;
	if (p)
		p->GetCredentialCount(&n, &def, &autoLogon);
	CHECK(n == 1 && def == 0 && autoLogon, "%s: the handed-over credential is the default, submitted at once", what);
	if (p == NULL || FAILED(p->GetCredentialAt(0, &c))) {
		CHECK(false, "%s: GetCredentialAt", what);
		Release(p);
		CoTaskMemFree(b);
		FreeOut(&out);
		return;
	}
	Outcome o;
	Submit(c, &o);
	if (expectCode) {
		CHECK(o.hr == S_OK && o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL,
		      "%s: no serialization before the code (gsr=%d)", what, (int)o.gsr);
		CHECK(FieldState(c, FI_CODE) != CPFS_HIDDEN && FieldState(c, FI_USER) == CPFS_HIDDEN &&
		          FieldState(c, FI_PASSWORD) == CPFS_HIDDEN,
		      "%s: only the code is asked (user and password came through NLA)", what);
		FreeOutcome(&o);
		SetCode(c, CodeFor(secret, codeOffset));
		Submit(c, &o);
	}
	CheckKerb(what, &o, host, user, password,
	          cpus == CPUS_UNLOCK_WORKSTATION ? KerbWorkstationUnlockLogon : KerbInteractiveLogon);
	FreeOutcome(&o);
	c->Release();
	p->Release();
	CoTaskMemFree(b);
	FreeOut(&out);
}

/* What the filter does with an RDP password logon when the daemon gives no
 * answer: readdressed (fail closed: our tile then follows FailMode) unless
 * the daemon is absent under FailMode=safe, the filter's one open case. */
static void RemoteWhenDown(bool expectReaddressed, const char *why)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	ULONG pkg = 0, len = 0;
	NegotiatePackage(&pkg);
	BYTE *b = PackRemote(host, L"alice", &len);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION in = {pkg, kOther, len, b}, out;
	HRESULT hr;
	bool moved = Readdressed(&in, &out, &hr);
	if (expectReaddressed)
		CHECK(moved, "RDP (%s): the filter still readdresses the logon to jcmfa (hr=0x%08lx)", why, (unsigned long)hr);
	else
		CHECK(Declined(hr, &out), "RDP (%s): the filter leaves the logon to Windows (hr=0x%08lx)", why,
		      (unsigned long)hr);
	FreeOut(&out);
	CoTaskMemFree(b);
}

/* A KERB_CERTIFICATE_LOGON as an RDP client with a smart card sends it
 * (ntsecapi.h; MessageType KerbCertificateLogon = 13): a PIN and CSP data,
 * no password and, usually, no user name. */
static BYTE *PackCard(ULONG *len)
{
	static const wchar_t pin[] = L"123456";
	static const BYTE csp[] = {1, 2, 3, 4, 5, 6, 7, 8};
	KERB_CERTIFICATE_LOGON k;
	memset(&k, 0, sizeof k);
	k.MessageType = KerbCertificateLogon;
	ULONG total = sizeof k + sizeof pin - sizeof(wchar_t) + sizeof csp;
	BYTE *b = (BYTE *)CoTaskMemAlloc(total);
	k.Pin.Length = k.Pin.MaximumLength = sizeof pin - sizeof(wchar_t);
	k.Pin.Buffer = (PWSTR)(ULONG_PTR)sizeof k;
	k.CspDataLength = sizeof csp;
	k.CspData = (PUCHAR)(ULONG_PTR)(sizeof k + k.Pin.Length);
	memcpy(b, &k, sizeof k);
	memcpy(b + sizeof k, pin, k.Pin.Length);
	memcpy(b + sizeof k + k.Pin.Length, csp, sizeof csp);
	*len = total;
	return b;
}

/*
 * A smart card over RDP (docs/windows.md, "RDP and NLA"). keptCard: the
 * admin keeps Windows' smart card provider (KeepProviders), and the filter
 * leaves the card logon to it; otherwise it comes to our tile, which
 * refuses it with a message and asks for password and code instead.
 */
static void RemoteCard(const char *what, bool keptCard, const wchar_t *user, const char *secret, int codeOffset = 0)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	ULONG pkg = 0, len = 0;
	NegotiatePackage(&pkg);
	BYTE *b = PackCard(&len);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION in = {pkg, kSmartcardCP, len, b}, out;
	HRESULT hr;
	bool moved = Readdressed(&in, &out, &hr);
	if (keptCard) {
		CHECK(Declined(hr, &out),
		      "%s: the filter leaves the smart card logon to Windows' smart card provider (E_NOTIMPL, out untouched; "
		      "hr=0x%08lx)", what, (unsigned long)hr);
		ICredentialProviderFilter *f = NewFilter();
		GUID ids[4] = {kSmartcardCP, CLSID_JcmfaProvider, kPasswordCP, kSmartcardWinRT};
		BOOL allow[4] = {TRUE, TRUE, TRUE, TRUE};
		hr = f ? f->Filter(CPUS_LOGON, 0, ids, allow, 4) : E_FAIL;
		CHECK(hr == S_OK && allow[0] && allow[1] && !allow[2] && allow[3],
		      "%s: ... whose tiles stay visible, the password provider's does not", what);
		Release(f);
		FreeOut(&out);
		CoTaskMemFree(b);
		return;
	}
	CHECK(moved, "%s: the filter readdresses the smart card logon to jcmfa, unchanged but for the class ID (hr=0x%08lx)",
	      what, (unsigned long)hr);
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	hr = p ? p->SetSerialization(&out) : E_FAIL;
	DWORD n = 0, def = 99;
	BOOL autoLogon = TRUE;
	if (p)
		p->GetCredentialCount(&n, &def, &autoLogon);
	CHECK(hr == S_OK && n == 1 && def == 0 && !autoLogon,
	      "%s: our tile takes it as a refusal: the default tile, not submitted (hr=0x%08lx auto=%d)", what,
	      (unsigned long)hr, (int)autoLogon);
	ICredentialProviderCredential *c = NULL;
	if (p)
		p->GetCredentialAt(0, &c);
	CHECK(c && FieldState(c, FI_USER) != CPFS_HIDDEN && FieldState(c, FI_PASSWORD) != CPFS_HIDDEN &&
	          FieldState(c, FI_CODE) == CPFS_HIDDEN && MessageContains(c, L"Smart card sign-in is not enabled"),
	      "%s: the tile says smart card sign-in is not enabled and asks for user name and password", what);
	if (c) {
		Outcome o;
		c->SetStringValue(FI_USER, user);
		c->SetStringValue(FI_PASSWORD, kPassword);
		Submit(c, &o);
		CHECK(o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL &&
		          FieldState(c, FI_CODE) != CPFS_HIDDEN,
		      "%s: typed instead, the code is asked (gsr=%d)", what, (int)o.gsr);
		FreeOutcome(&o);
		SetCode(c, CodeFor(secret, codeOffset));
		Submit(c, &o);
		CheckKerb(what, &o, host, user, kPassword, KerbInteractiveLogon);
		FreeOutcome(&o);
	}
	Release(c);
	Release(p);
	FreeOut(&out);
	CoTaskMemFree(b);
}

/* One CredUI provider with flags and, unless in is NULL, SetSerialization(in). */
static ICredentialProvider *CredUIWith(DWORD flags, const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *in, HRESULT *hr)
{
	ICredentialProvider *p = NewProvider(CPUS_CREDUI, flags);
	*hr = E_FAIL;
	if (p && in)
		*hr = p->SetSerialization(in);
	return p;
}

static DWORD CredCount(ICredentialProvider *p, DWORD *def = NULL)
{
	DWORD n = 99, d = 99;
	BOOL autoLogon = TRUE;
	if (p == NULL || FAILED(p->GetCredentialCount(&n, &d, &autoLogon)))
		return 99;
	if (def)
		*def = d;
	return n;
}

/* The user name field of the (only) tile, or "" */
static void UserField(ICredentialProvider *p, wchar_t *out, size_t cap)
{
	ICredentialProviderCredential *c = NULL;
	LPWSTR v = NULL;
	out[0] = L'\0';
	if (p && SUCCEEDED(p->GetCredentialAt(0, &c)) && SUCCEEDED(c->GetStringValue(FI_USER, &v)) && v) {
		wcsncpy(out, v, cap - 1);
		out[cap - 1] = L'\0';
	}
	if (v)
		CoTaskMemFree(v);
	Release(c);
}

/*
 * The CREDUIWIN flags (SetUsageScenario and SetSerialization documentation,
 * Microsoft's CredUI sample; provider.cpp says which rule each follows), with
 * me, an account the daemon does not require, so each submit packs at once.
 */
static void CredUIFlags(const wchar_t *host, const wchar_t *me)
{
	ULONG pkg = 0, len = 0;
	NegotiatePackage(&pkg);
	BYTE *kerb = PackRemote(host, me, &len);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION usable = {pkg, kOther, len, kerb};
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION empty = {pkg, kOther, 0, NULL};
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION otherPkg = {pkg + 1000, kOther, len, kerb};
	wchar_t hostMe[MAX_COMPUTERNAME_LENGTH + 300], field[600];
	_snwprintf(hostMe, sizeof hostMe / sizeof(wchar_t), L"%ls\\%ls", host, me);
	HRESULT hr;
	Outcome o;
	DWORD def = 99;

	/* No flags: a Negotiate buffer for HOST\user, password in plain text. */
	ICredentialProvider *p = NewProvider(CPUS_CREDUI);
	int before = g_protectCalls;
	g_pack.calls = 0;
	ICredentialProviderCredential *c = TypeLogin(p, me, &o);
	CheckCredUI("CredUI, no flags", &o, 0, hostMe, before);
	FreeOutcome(&o);
	Release(c);
	Release(p);

	/* CREDUIWIN_GENERIC: user name as typed, CRED_PACK_GENERIC_CREDENTIALS. */
	p = NewProvider(CPUS_CREDUI, CREDUIWIN_GENERIC);
	before = g_protectCalls;
	g_pack.calls = 0;
	c = TypeLogin(p, me, &o);
	CheckCredUI("CredUI, CREDUIWIN_GENERIC", &o, CRED_PACK_GENERIC_CREDENTIALS, me, before);
	FreeOutcome(&o);
	Release(c);
	Release(p);

	/* SetSerialization without flags. */
	p = CredUIWith(0, &usable, &hr);
	UserField(p, field, 600);
	CHECK(hr == S_OK && CredCount(p, &def) == 1 && def == 0 && wcscmp(field, hostMe) == 0,
	      "CredUI, an input credential: S_OK, one tile, the default, user prefilled as %s (hr=0x%08lx user=%s)",
	      Narrow(hostMe), (unsigned long)hr, Narrow(field));
	Release(p);
	p = CredUIWith(0, &empty, &hr);
	CHECK(hr == E_INVALIDARG && CredCount(p) == 1,
	      "CredUI, no usable input and no flags: E_INVALIDARG, the empty tile stays (hr=0x%08lx)", (unsigned long)hr);
	Release(p);

	/* CREDUIWIN_AUTHPACKAGE_ONLY: S_FALSE for Negotiate without a usable
	 * credential, a failure for another package. */
	p = CredUIWith(CREDUIWIN_AUTHPACKAGE_ONLY, &empty, &hr);
	CHECK(hr == S_FALSE && CredCount(p) == 1,
	      "CredUI, CREDUIWIN_AUTHPACKAGE_ONLY, Negotiate, no usable input: S_FALSE, one empty tile (hr=0x%08lx)",
	      (unsigned long)hr);
	Release(p);
	p = CredUIWith(CREDUIWIN_AUTHPACKAGE_ONLY, &otherPkg, &hr);
	CHECK(FAILED(hr), "CredUI, CREDUIWIN_AUTHPACKAGE_ONLY, another package: a failure (hr=0x%08lx)", (unsigned long)hr);
	Release(p);
	p = CredUIWith(CREDUIWIN_AUTHPACKAGE_ONLY, &usable, &hr);
	CHECK(hr == S_OK && CredCount(p) == 1, "CredUI, CREDUIWIN_AUTHPACKAGE_ONLY, a usable input: S_OK (hr=0x%08lx)",
	      (unsigned long)hr);
	Release(p);

	/* CREDUIWIN_IN_CRED_ONLY: a tile for the input credential or none. */
	p = CredUIWith(CREDUIWIN_IN_CRED_ONLY, &usable, &hr);
	UserField(p, field, 600);
	CHECK(hr == S_OK && CredCount(p) == 1 && wcscmp(field, hostMe) == 0,
	      "CredUI, CREDUIWIN_IN_CRED_ONLY, a usable input: S_OK and its tile (user=%s)", Narrow(field));
	if (p) {
		before = g_protectCalls;
		g_pack.calls = 0;
		ICredentialProviderCredential *t = NULL;
		if (SUCCEEDED(p->GetCredentialAt(0, &t))) {
			t->SetStringValue(FI_PASSWORD, kPassword);
			Submit(t, &o);
			CheckCredUI("CredUI, CREDUIWIN_IN_CRED_ONLY, submitted", &o, 0, hostMe, before);
			FreeOutcome(&o);
		}
		Release(t);
	}
	Release(p);
	p = CredUIWith(CREDUIWIN_IN_CRED_ONLY, &empty, &hr);
	ICredentialProviderCredential *none = NULL;
	CHECK(FAILED(hr) && CredCount(p) == 0 && p && FAILED(p->GetCredentialAt(0, &none)),
	      "CredUI, CREDUIWIN_IN_CRED_ONLY, no usable input: a failure and no tile (hr=0x%08lx count=%lu)",
	      (unsigned long)hr, (unsigned long)CredCount(p));
	Release(none);
	Release(p);
	p = NewProvider(CPUS_CREDUI, CREDUIWIN_IN_CRED_ONLY);
	CHECK(CredCount(p) == 0, "CredUI, CREDUIWIN_IN_CRED_ONLY and no input credential at all: no tile");
	Release(p);
	CoTaskMemFree(kerb);
}

static HANDLE g_nonAdmin;

/* Impersonates a restricted copy of this process's token in which
 * Administrators is deny-only: what a non-elevated process holds. */
static bool BecomeNonAdmin()
{
	HANDLE tok = NULL, restricted = NULL;
	BYTE admins[SECURITY_MAX_SID_SIZE];
	DWORD an = sizeof admins;
	BOOL member = TRUE;
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY | TOKEN_IMPERSONATE,
	                      &tok) ||
	    !CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins, &an))
		return false;
	SID_AND_ATTRIBUTES deny = {admins, 0};
	bool ok = CreateRestrictedToken(tok, 0, 1, &deny, 0, NULL, 0, NULL, &restricted) &&
	          DuplicateToken(restricted, SecurityImpersonation, &g_nonAdmin) && SetThreadToken(NULL, g_nonAdmin) &&
	          CheckTokenMembership(NULL, admins, &member) && !member;
	CloseHandle(tok);
	if (restricted)
		CloseHandle(restricted);
	return ok;
}

/* CredUI in a process that is neither SYSTEM nor elevated (docs/windows.md,
 * "Where jcmfa asks"): no tile of ours, and the filter hides nothing. */
static void NonAdminCredUI()
{
	CHECK(BecomeNonAdmin(), "the harness thread impersonates a non-admin token (Administrators deny-only)");
	ICredentialProvider *p = NULL;
	IClassFactory *cf = NULL;
	HRESULT hr = E_FAIL;
	if (SUCCEEDED(g_getClassObject(CLSID_JcmfaProvider, IID_IClassFactory, (void **)&cf))) {
		cf->CreateInstance(NULL, IID_ICredentialProvider, (void **)&p);
		cf->Release();
	}
	if (p)
		hr = p->SetUsageScenario(CPUS_CREDUI, 0);
	CHECK(hr == E_NOTIMPL, "non-admin CredUI: the provider declines the scenario (E_NOTIMPL), no tile (hr=0x%08lx)",
	      (unsigned long)hr);
	Release(p);
	ICredentialProviderFilter *f = NewFilter();
	GUID ids[3] = {kOther, CLSID_JcmfaProvider, kOther};
	BOOL allow[3] = {TRUE, TRUE, TRUE};
	hr = f ? f->Filter(CPUS_CREDUI, 0, ids, allow, 3) : E_FAIL;
	CHECK(hr == S_OK && allow[0] && allow[1] && allow[2], "non-admin CredUI: the filter hides nothing");
	BOOL allow2[3] = {TRUE, TRUE, TRUE};
	hr = f ? f->Filter(CPUS_LOGON, 0, ids, allow2, 3) : E_FAIL;
	CHECK(hr == S_OK && !allow2[0] && allow2[1] && !allow2[2],
	      "the same token at logon: still only jcmfa's tile (the rule is CredUI's alone)");
	RevertToSelf();
	BOOL allow3[3] = {TRUE, TRUE, TRUE};
	hr = f ? f->Filter(CPUS_CREDUI, 0, ids, allow3, 3) : E_FAIL;
	CHECK(hr == S_OK && !allow3[0] && allow3[1] && !allow3[2], "elevated CredUI (reverted): the filter hides the others");
	Release(f);
	if (g_nonAdmin)
		CloseHandle(g_nonAdmin);
}

/*
 * CredUI as SYSTEM, i.e. consent.exe's elevation prompt (StandInIsWellKnownSid
 * says the token's user is LocalSystem): surface uac. The script sets the
 * daemon's setting: off (default), erin, who is required and enrolled,
 * gets no code step; on, she must give the code.
 */
static int Uac(bool on, const char *erin)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1], hostErin[MAX_COMPUTERNAME_LENGTH + 16];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	_snwprintf(hostErin, sizeof hostErin / sizeof(wchar_t), L"%ls\\erin", host);
	g_pretendSystem = true;
	Outcome o;
	ICredentialProvider *p = NewProvider(CPUS_CREDUI);
	CHECK(p != NULL, "uac: the provider serves CredUI as SYSTEM");
	int before = g_protectCalls;
	g_pack.calls = 0;
	ICredentialProviderCredential *c = TypeLogin(p, L"erin", &o);
	if (!on) {
		CheckCredUI("uac off: erin (required) elevates with the password alone", &o, 0, hostErin, before);
	} else {
		CHECK(c && o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL &&
		          FieldState(c, FI_CODE) != CPFS_HIDDEN,
		      "uac on: erin is asked for the code (gsr=%d)", (int)o.gsr);
		if (c) {
			FreeOutcome(&o);
			SetCode(c, CodeFor(erin, 0));
			Submit(c, &o);
			CheckCredUI("uac on: erin with the right code", &o, 0, hostErin, before);
		}
	}
	FreeOutcome(&o);
	Release(c);
	Release(p);
	g_pretendSystem = false;
	/* The same user in an elevated (non-SYSTEM) CredUI is surface gui,
	 * where the uac setting changes nothing: the code is asked. */
	p = NewProvider(CPUS_CREDUI);
	c = TypeLogin(p, L"erin", &o);
	CHECK(c && o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL,
	      "uac %s: erin in an elevated process's CredUI (gui) is still asked for the code", on ? "on" : "off");
	FreeOutcome(&o);
	Release(c);
	Release(p);
	return 0;
}

/* An RDP-only requirement (jcmfa-agent user require hank --surfaces rdp,
 * docs/policy.md row S2): the daemon decides per surface, and the DLL
 * relays the scenario as the surface (Credential::Surface: "gui" for the
 * console logon, "rdp" for a remote session). So the console logon is
 * password only, and RDP asks the code. */
static int RdpOnly(const char *hank)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	Outcome o;
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	ICredentialProviderCredential *c = TypeLogin(p, L"hank", &o);
	CheckKerb("rdp-only: hank at the console logon (gui) logs in with the password alone", &o, host, L"hank", kPassword,
	          KerbInteractiveLogon);
	FreeOutcome(&o);
	Release(c);
	Release(p);
	RemoteLogin("rdp-only: hank over RDP is asked for the code", L"hank", hank, true);
	return 0;
}

static void LogoAndLabel()
{
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR *logo = NULL, *label = NULL;
	if (p) {
		p->GetFieldDescriptorAt(FI_LOGO, &logo);
		p->GetFieldDescriptorAt(FI_LABEL, &label);
	}
	CHECK(logo && logo->cpft == CPFT_TILE_IMAGE && IsEqualGUID(logo->guidFieldType, CPFG_CREDENTIAL_PROVIDER_LOGO),
	      "tile image field carries CPFG_CREDENTIAL_PROVIDER_LOGO");
	CHECK(label && label->cpft == CPFT_SMALL_TEXT && IsEqualGUID(label->guidFieldType, CPFG_CREDENTIAL_PROVIDER_LABEL),
	      "label field carries CPFG_CREDENTIAL_PROVIDER_LABEL");
	CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR *both[2] = {logo, label};
	for (CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR *d : both)
		if (d) {
			CoTaskMemFree(d->pszLabel);
			CoTaskMemFree(d);
		}
	Outcome o;
	ICredentialProviderCredential *c = NULL;
	DWORD n, def;
	BOOL al;
	if (p && SUCCEEDED(p->GetCredentialCount(&n, &def, &al)))
		p->GetCredentialAt(0, &c);
	HBITMAP bmp = NULL;
	BITMAP bm;
	memset(&bm, 0, sizeof bm);
	HRESULT hr = c ? c->GetBitmapValue(FI_LOGO, &bmp) : E_FAIL;
	CHECK(hr == S_OK && bmp && GetObjectW(bmp, sizeof bm, &bm) && bm.bmWidth == 72 && bm.bmHeight == 72,
	      "the tile image is a 72x72 bitmap (hr=0x%08lx %ldx%ld)", (unsigned long)hr, (long)bm.bmWidth, (long)bm.bmHeight);
	if (bmp)
		DeleteObject(bmp);
	CHECK(c && FieldState(c, FI_LABEL) == CPFS_HIDDEN && FieldState(c, FI_LOGO) == CPFS_DISPLAY_IN_BOTH,
	      "the label is hidden, the logo shown in both tile states");
	(void)o;
	Release(c);
	Release(p);
}

/* What the filter declines (E_NOTIMPL, out untouched) while MFA is on:
 * nothing, another package, content it does not know; and that a buffer
 * with the tag versions before this one added is refused by the provider. */
static void RemoteDeclines(const wchar_t *host)
{
	ULONG pkg = 0, len = 0;
	NegotiatePackage(&pkg);
	BYTE *b = PackRemote(host, L"carol", &len);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION out;
	HRESULT hr;
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION otherPkg = {pkg + 1000, kOther, len, b};
	Readdressed(&otherPkg, &out, &hr);
	CHECK(Declined(hr, &out), "RDP: a serialization for another package is declined (hr=0x%08lx)", (unsigned long)hr);
	FreeOut(&out);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION empty = {pkg, kOther, 0, NULL};
	Readdressed(&empty, &out, &hr);
	CHECK(Declined(hr, &out), "RDP: an empty serialization is declined (hr=0x%08lx)", (unsigned long)hr);
	FreeOut(&out);
	BYTE s4u[sizeof(KERB_INTERACTIVE_UNLOCK_LOGON)];
	memset(s4u, 0, sizeof s4u);
	KERB_LOGON_SUBMIT_TYPE t = KerbS4ULogon;
	memcpy(s4u, &t, sizeof t);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION unknown = {pkg, kOther, sizeof s4u, s4u};
	Readdressed(&unknown, &out, &hr);
	CHECK(Declined(hr, &out), "RDP: a logon type jcmfa does not read (KerbS4ULogon) is declined (hr=0x%08lx)",
	      (unsigned long)hr);
	FreeOut(&out);

	/* Before this version the filter prefixed "JCMFARDP"; no filter of
	 * this DLL writes it, so such a buffer is just malformed. */
	BYTE *tagged = (BYTE *)CoTaskMemAlloc(len + 8);
	memcpy(tagged, "JCMFARDP", 8);
	memcpy(tagged + 8, b, len);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION old = {pkg, CLSID_JcmfaProvider, len + 8, tagged};
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	hr = p ? p->SetSerialization(&old) : E_FAIL;
	CHECK(hr == E_INVALIDARG, "RDP: a buffer with the old JCMFARDP tag is refused (hr=0x%08lx)", (unsigned long)hr);
	Release(p);
	CoTaskMemFree(tagged);
	CoTaskMemFree(b);
}

/*
 * Password length (helpers.h, JCMFA_SECRET_MAX): a 256-character password
 * (PWLEN), protected by the client, fits and passes through unchanged; a
 * protected password longer than the DLL holds is refused with a message,
 * the user name kept, never cut. The stand-in's protection writes 4
 * characters a character plus its marker (1047 for 256), more than
 * CredProtectW's text encoding does.
 */
static void LongPasswords(const wchar_t *host, const char *frank)
{
	static wchar_t longPw[257];
	for (int i = 0; i < 256; i++)
		longPw[i] = (wchar_t)(L'a' + i % 26);
	longPw[256] = L'\0';
	RemoteLogin("frank over RDP, a 256-character password protected by the client", L"frank", frank, true, true,
	            longPw);

	static wchar_t huge[JCMFA_SECRET_MAX + 2];
	wcscpy(huge, L"@@jcmfa-test-protected:");
	for (size_t i = wcslen(huge); i < JCMFA_SECRET_MAX + 1; i++)
		huge[i] = L'0';
	huge[JCMFA_SECRET_MAX + 1] = L'\0';
	ULONG pkg = 0, len = 0;
	NegotiatePackage(&pkg);
	BYTE *b = PackRemote(host, L"carol", &len, false, huge);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION in = {pkg, kOther, len, b}, out;
	CHECK(Readdressed(&in, &out), "RDP, a %d-character protected password: readdressed unchanged (the filter "
	      "does not judge lengths)", JCMFA_SECRET_MAX + 1);
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	HRESULT hr = p ? p->SetSerialization(&out) : E_FAIL;
	DWORD n = 0, def = 99;
	BOOL autoLogon = TRUE;
	if (p)
		p->GetCredentialCount(&n, &def, &autoLogon);
	ICredentialProviderCredential *c = NULL;
	if (p)
		p->GetCredentialAt(0, &c);
	wchar_t field[600] = L"";
	LPWSTR v = NULL;
	if (c && SUCCEEDED(c->GetStringValue(FI_USER, &v)) && v) {
		wcsncpy(field, v, 599);
		CoTaskMemFree(v);
	}
	wchar_t want[MAX_COMPUTERNAME_LENGTH + 16];
	_snwprintf(want, sizeof want / sizeof(wchar_t), L"%ls\\carol", host);
	CHECK(hr == S_OK && n == 1 && def == 0 && !autoLogon && c && FieldState(c, FI_PASSWORD) != CPFS_HIDDEN &&
	          MessageContains(c, L"longer than this sign-in accepts") && wcscmp(field, want) == 0,
	      "RDP, a %d-character protected password: refused with a message, user %s kept, the password asked "
	      "(hr=0x%08lx auto=%d)", JCMFA_SECRET_MAX + 1, Narrow(field), (unsigned long)hr, (int)autoLogon);
	Release(c);
	Release(p);
	FreeOut(&out);
	CoTaskMemFree(b);
}

static void SetKeep(const wchar_t *multi, DWORD bytes, DWORD type = REG_MULTI_SZ)
{
	SetReg(L"KeepProviders", type, multi, bytes);
}

/* The filter at logon over every provider the harness knows; want[i]
 * says which stay visible. */
static void KeepCase(const char *what, const bool want[10])
{
	GUID ids[10] = {CLSID_JcmfaProvider, kPasswordCP, kSmartcardCP, kSmartcardPin, kSmartcardReader,
	                kSmartcardWinRT,     kNgcCP,      kWinBioCP,    kFidoCP,       kOther};
	static const char *names[10] = {"jcmfa", "Password", "Smartcard", "SmartcardPin", "SmartcardReader",
	                                "SmartcardWinRT", "NGC", "WinBio", "FIDO", "other"};
	CREDENTIAL_PROVIDER_USAGE_SCENARIO scen[3] = {CPUS_LOGON, CPUS_UNLOCK_WORKSTATION, CPUS_CREDUI};
	ICredentialProviderFilter *f = NewFilter();
	bool ok = f != NULL;
	char got[200] = "";
	for (CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus : scen) {
		BOOL allow[10];
		for (BOOL &a : allow)
			a = TRUE;
		if (f == NULL || f->Filter(cpus, 0, ids, allow, 10) != S_OK)
			ok = false;
		for (int i = 0; i < 10; i++) {
			if ((allow[i] != FALSE) != want[i])
				ok = false;
			if (cpus == CPUS_LOGON && allow[i]) {
				strcat(got, " ");
				strcat(got, names[i]);
			}
		}
	}
	CHECK(ok, "KeepProviders %s: logon, unlock and CredUI show exactly the expected providers (shown:%s)", what, got);
	Release(f);
}

/* KeepProviders (docs/windows.md): exactly the listed providers stay. */
static void KeepProviders()
{
	const bool none[10] = {true, false, false, false, false, false, false, false, false, false};
	KeepCase("unset", none);

	const wchar_t ngcFido[] = L"NGC\0{F8A1793B-7873-4046-B2A7-1F318747F427}\0";
	SetKeep(ngcFido, sizeof ngcFido);
	const bool wantNgcFido[10] = {true, false, false, false, false, false, true, false, true, false};
	KeepCase("= NGC, {F8A1793B-...} (FIDO by class ID)", wantNgcFido);

	const wchar_t names[] = L"PasswordProvider\0smartcardprovider\0 WinBio \0";
	SetKeep(names, sizeof names);
	const bool wantNames[10] = {true, true, true, true, true, true, false, true, false, false};
	KeepCase("= PasswordProvider, smartcardprovider (all four smart card providers), \" WinBio \"", wantNames);

	const wchar_t sz[] = L"FIDO; d6886603-9d2f-4eb2-b667-1971041fa96b";
	SetKeep(sz, sizeof sz, REG_SZ);
	const bool wantSz[10] = {true, false, false, false, false, false, true, false, true, false};
	KeepCase("REG_SZ \"FIDO; d6886603-...\" (NGC without braces)", wantSz);

	/* Garbage keeps nothing more: near-misses of real entries included. */
	const wchar_t junk[] = L"bogus\0Password\0PasswordProvider*\0{60b78e88-ead8-445c-9cfd-0b87f74ea6cd\0"
	                       L"60b78e88ead8445c9cfd0b87f74ea6cd\0{60b78e88-ead8-445c-9cfd-0b87f74ea6cdX}\0"
	                       L"{g0b78e88-ead8-445c-9cfd-0b87f74ea6cd}\0*\0{}\0";
	SetKeep(junk, sizeof junk);
	KeepCase("= garbage (nine malformed or near-miss entries)", none);
	const wchar_t mixed[] = L"junk\0FIDO\0{zz}\0";
	SetKeep(mixed, sizeof mixed);
	const bool wantFido[10] = {true, false, false, false, false, false, false, false, true, false};
	KeepCase("= junk, FIDO, {zz}: only FIDO", wantFido);
	DWORD dw = 1;
	SetKeep((const wchar_t *)&dw, sizeof dw, REG_DWORD);
	KeepCase("as a REG_DWORD: nothing kept", none);
	SetKeep(NULL, 0);
}

/* PipeTimeoutMs bounds (100..600000, docs/windows.md): settings.cpp's Load
 * itself, linked into the harness. */
static void PipeTimeoutBounds()
{
	struct {
		DWORD set;
		DWORD want;
	} cases[] = {{0, 10000}, {99, 10000}, {100, 100}, {600000, 600000}, {600001, 10000}, {0xffffffff, 10000}};
	for (auto &tc : cases) {
		SetReg(L"PipeTimeoutMs", REG_DWORD, &tc.set, sizeof tc.set);
		Settings s;
		s.Load();
		CHECK(s.pipeTimeoutMs == tc.want, "PipeTimeoutMs=%lu reads as %lu (want %lu)", (unsigned long)tc.set,
		      (unsigned long)s.pipeTimeoutMs, (unsigned long)tc.want);
	}
	SetRegSz(L"PipeTimeoutMs", L"5000");
	Settings s;
	s.Load();
	CHECK(s.pipeTimeoutMs == 10000, "PipeTimeoutMs as REG_SZ keeps the default");
	SetReg(L"PipeTimeoutMs", REG_DWORD, NULL, 0);
}

static int MfaOn(const char *alice, const char *carol, const char *dave, const char *frank, const char *gina)
{
	/* The script points Pipe at its test agent; the daemon-absent checks
	 * below change it, and mfa-off needs it back. */
	wchar_t pipe[256] = L"";
	DWORD pipeSize = sizeof pipe - sizeof(wchar_t);
	RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\jcmfa", L"Pipe", RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, NULL, pipe,
	             &pipeSize);
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	Outcome o;

	FilterChecks(true, "MFA on");
	LogoAndLabel();
	NonAdminCredUI();

	/* Not required: plain password serialization, no code step. The
	 * account is one LSA knows (the one running this harness): the daemon
	 * denies a name LSA cannot resolve while MFA is on (docs/policy.md,
	 * P24), and no test account is created under wine. */
	wchar_t me[256];
	DWORD mn = sizeof me / sizeof me[0];
	CHECK(GetUserNameW(me, &mn), "GetUserNameW names the account running the harness");
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	CHECK(p != NULL, "provider: created and accepts CPUS_LOGON");
	ICredentialProviderCredential *c = TypeLogin(p, me, &o);
	CheckKerb("a known account, not required", &o, host, me, kPassword, KerbInteractiveLogon);
	FreeOutcome(&o);
	Release(c);
	Release(p);

	/* Required and enrolled: step 2, wrong code, right code. */
	p = NewProvider(CPUS_LOGON);
	c = TypeLogin(p, L"alice", &o);
	CHECK(c && o.hr == S_OK && o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL,
	      "alice: first submit asks for a code instead of logging in (gsr=%d)", (int)o.gsr);
	if (c) {
		CHECK(FieldState(c, FI_CODE) == CPFS_DISPLAY_IN_SELECTED_TILE && FieldState(c, FI_PASSWORD) == CPFS_HIDDEN,
		      "alice: second step shows the code field, hides the password");
		CHECK(MessageContains(c, L"Verification code"), "alice: the daemon's prompt is shown");
		FreeOutcome(&o);
		Submit(c, &o);
		CHECK(o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL,
		      "alice: an empty code is not sent");
		SetCode(c, WrongCode(alice));
		Submit(c, &o);
		CHECK(o.hr == S_OK && o.gsr == CPGSR_NO_CREDENTIAL_FINISHED && o.icon == CPSI_ERROR &&
		          o.cs.rgbSerialization == NULL && wcsstr(o.status, L"Wrong verification code"),
		      "alice: wrong code fails with the daemon's message (gsr=%d status=%s)", (int)o.gsr, Narrow(o.status));
		CHECK(FieldState(c, FI_CODE) != CPFS_HIDDEN, "alice: after a wrong code the code is asked again");
		FreeOutcome(&o);
		SetCode(c, CodeFor(alice, 0));
		Submit(c, &o);
		CheckKerb("alice (right code)", &o, host, L"alice", kPassword, KerbInteractiveLogon);
		FreeOutcome(&o);
		SetCode(c, CodeFor(alice, 0));
		Submit(c, &o);
		CHECK(o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL,
		      "alice: the next login starts over with the daemon");
		FreeOutcome(&o);
	}
	Release(c);
	Release(p);

	/* Another spelling of the same account must not be another user. */
	const wchar_t *spellings[] = {L"ALICE", L".\\alice", NULL};
	wchar_t hostAlice[MAX_COMPUTERNAME_LENGTH + 16];
	_snwprintf(hostAlice, sizeof hostAlice / sizeof(wchar_t), L"%ls\\Alice", host);
	spellings[2] = hostAlice;
	for (const wchar_t *s : spellings) {
		p = NewProvider(CPUS_LOGON);
		c = TypeLogin(p, s, &o);
		CHECK(o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL,
		      "\"%s\": still asked for alice's code", Narrow(s));
		FreeOutcome(&o);
		Release(c);
		Release(p);
	}

	/* Unlock: the daemon's default exempts it, and the unlock type is packed. */
	p = NewProvider(CPUS_UNLOCK_WORKSTATION);
	CHECK(p != NULL, "provider: accepts CPUS_UNLOCK_WORKSTATION");
	c = TypeLogin(p, L"alice", &o);
	CheckKerb("alice at unlock (daemon: surface-exempt)", &o, host, L"alice", kPassword, KerbWorkstationUnlockLogon);
	FreeOutcome(&o);
	Release(c);
	Release(p);

	/* RDP/NLA: only the code is asked, and it is asked. */
	RemoteLogin("carol over RDP", L"carol", carol, true);
	/* mstsc with saved credentials, reconnecting: the same serialization
	 * again, and the code is asked again (the next time step: the last
	 * one is spent). */
	RemoteLogin("carol reconnects with saved credentials", L"carol", carol, true, false, kPassword, 1);
	RemoteLogin("a known account over RDP (not required)", me, NULL, false);
	RemoteDeclines(host);
	LongPasswords(host, frank);

	/* Smart card NLA, both decisions. */
	RemoteCard("smart card over RDP, KeepProviders unset", false, L"gina", gina);
	const wchar_t ngcOnly[] = L"NGC\0";
	SetReg(L"KeepProviders", REG_MULTI_SZ, ngcOnly, sizeof ngcOnly);
	RemoteCard("smart card over RDP, KeepProviders = NGC", false, L"alice", alice, 1);
	const wchar_t card[] = L"SmartCardProvider\0";
	SetReg(L"KeepProviders", REG_MULTI_SZ, card, sizeof card);
	RemoteCard("smart card over RDP, KeepProviders = SmartCardProvider", true, NULL, NULL);
	SetReg(L"KeepProviders", REG_MULTI_SZ, NULL, 0);

	/* Reconnecting to a locked remote session: LogonUI's scenario is
	 * unlock, the daemon exempts unlock by default, and still the code is
	 * asked, because a handed-over logon is surface rdp. */
	RemoteLogin("gina reconnects to her locked remote session (CPUS_UNLOCK_WORKSTATION)", L"gina", gina, true, false,
	            kPassword, 1, CPUS_UNLOCK_WORKSTATION);

	KeepProviders();
	PipeTimeoutBounds();

	/* An RDP client that sends its password already protected: passed on
	 * as it came, not protected twice (CheckKerb unprotects once). */
	RemoteLogin("a known account over RDP, password already protected", me, NULL, false, true);

	/* CredUI, as an elevated process (wine runs every process as an
	 * administrator): dave is required, so the code is asked (surface gui). */
	p = NewProvider(CPUS_CREDUI);
	CHECK(p != NULL, "provider: accepts CPUS_CREDUI");
	ICredentialProvider *wow = NewProvider(CPUS_CREDUI, CREDUIWIN_PACK_32_WOW);
	CHECK(wow == NULL, "provider: declines CredUI for 32-bit callers (CREDUIWIN_PACK_32_WOW)");
	Release(wow);
	c = TypeLogin(p, L"dave", &o);
	CHECK(o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL, "dave in CredUI: code asked");
	if (c) {
		int before = g_protectCalls;
		g_pack.calls = 0;
		SetCode(c, CodeFor(dave, 0));
		Submit(c, &o);
		wchar_t hostDave[MAX_COMPUTERNAME_LENGTH + 16];
		_snwprintf(hostDave, sizeof hostDave / sizeof(wchar_t), L"%ls\\dave", host);
		CheckCredUI("dave in CredUI (right code)", &o, 0, hostDave, before);
		FreeOutcome(&o);
	}
	Release(c);
	Release(p);
	CredUIFlags(host, me);
	ICredentialProvider *pw = NewProvider(CPUS_CHANGE_PASSWORD);
	CHECK(pw == NULL, "provider: stays out of CPUS_CHANGE_PASSWORD");
	Release(pw);

	/* Break-glass: an excluded account never waits on the daemon. */
	const wchar_t excl[] = L"nobody\0.\\Breakglass\0";
	SetReg(L"ExcludedAccounts", REG_MULTI_SZ, excl, sizeof excl);
	p = NewProvider(CPUS_LOGON);
	c = TypeLogin(p, L"breakglass", &o);
	CheckKerb("breakglass (excluded, required)", &o, host, L"breakglass", kPassword, KerbInteractiveLogon);
	FreeOutcome(&o);
	Release(c);
	Release(p);
	SetReg(L"ExcludedAccounts", REG_MULTI_SZ, NULL, 0);

	/* Daemon absent. */
	SetRegSz(L"Pipe", L"\\\\.\\pipe\\jcmfa-absent");
	DWORD shortTimeout = 1000;
	SetReg(L"PipeTimeoutMs", REG_DWORD, &shortTimeout, sizeof shortTimeout);
	p = NewProvider(CPUS_LOGON);
	c = TypeLogin(p, L"alice", &o);
	CHECK(o.hr == S_OK && o.gsr == CPGSR_NO_CREDENTIAL_FINISHED && o.icon == CPSI_ERROR &&
	          o.cs.rgbSerialization == NULL && wcsstr(o.status, L"did not answer"),
	      "daemon absent, failmode secure (default): login refused with a message (%s)", Narrow(o.status));
	FreeOutcome(&o);
	Release(c);
	Release(p);
	FilterChecks(true, "daemon absent, failmode secure");
	SetRegSz(L"FailMode", L"safe");
	p = NewProvider(CPUS_LOGON);
	c = TypeLogin(p, L"alice", &o);
	CheckKerb("daemon absent, failmode safe", &o, host, L"alice", kPassword, KerbInteractiveLogon);
	FreeOutcome(&o);
	Release(c);
	Release(p);
	FilterChecks(false, "daemon absent, failmode safe");
	SetRegSz(L"FailMode", L"Safe-ish");
	p = NewProvider(CPUS_LOGON);
	c = TypeLogin(p, L"alice", &o);
	CHECK(o.gsr == CPGSR_NO_CREDENTIAL_FINISHED && o.cs.rgbSerialization == NULL,
	      "daemon absent, failmode misspelt: stays secure");
	FreeOutcome(&o);
	Release(c);
	Release(p);
	SetRegSz(L"FailMode", NULL);
	SetRegSz(L"Pipe", pipe[0] ? pipe : NULL);
	SetReg(L"PipeTimeoutMs", REG_DWORD, NULL, 0);
	return 0;
}

/* Issue 17, item 1 (docs/policy.md, R4): a recovery code typed in the code
 * field, as a person reads it off paper (upper case, with its dash), is
 * relayed unchanged and logs in once; the second use gets the daemon's
 * refusal. The field takes any text: nothing here checks for digits. */
static int Recovery(const wchar_t *user, const wchar_t *code)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	for (int use = 1; use <= 2; use++) {
		Outcome o;
		ICredentialProvider *p = NewProvider(CPUS_LOGON);
		ICredentialProviderCredential *c = TypeLogin(p, user, &o);
		CHECK(c && o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED, "%s: use %d: the code is asked for", Narrow(user), use);
		if (c) {
			FreeOutcome(&o);
			c->SetStringValue(FI_CODE, code);
			Submit(c, &o);
			if (use == 1)
				CheckKerb("a recovery code", &o, host, user, kPassword, KerbInteractiveLogon);
			else
				CHECK(o.gsr == CPGSR_NO_CREDENTIAL_FINISHED && o.cs.rgbSerialization == NULL &&
				          wcsstr(o.status, L"Wrong verification code"),
				      "%s: the same recovery code again is refused with the daemon's message (gsr=%d status=%s)",
				      Narrow(user), (int)o.gsr, Narrow(o.status));
			FreeOutcome(&o);
		}
		Release(c);
		Release(p);
	}
	return g_fail;
}

static int MfaOff()
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	FilterChecks(false, "MFA off");
	{
		ULONG pkg = 0, len = 0;
		NegotiatePackage(&pkg);
		BYTE *b = PackRemote(host, L"alice", &len);
		CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION in = {pkg, kOther, len, b}, out;
		HRESULT hr;
		Readdressed(&in, &out, &hr);
		CHECK(Declined(hr, &out), "MFA off: the filter leaves an RDP serialization to Windows (E_NOTIMPL, hr=0x%08lx)",
		      (unsigned long)hr);
		FreeOut(&out);
		CoTaskMemFree(b);
		const wchar_t fido[] = L"FIDO\0";
		SetReg(L"KeepProviders", REG_MULTI_SZ, fido, sizeof fido);
		const bool all[10] = {true, true, true, true, true, true, true, true, true, true};
		KeepCase("= FIDO with MFA off (everything shown)", all);
		SetReg(L"KeepProviders", REG_MULTI_SZ, NULL, 0);
	}
	Outcome o;
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	ICredentialProviderCredential *c = TypeLogin(p, L"alice", &o);
	CheckKerb("alice with device MFA off", &o, host, L"alice", kPassword, KerbInteractiveLogon);
	FreeOutcome(&o);
	Release(c);
	Release(p);
	return 0;
}

/*
 * The service is down: its published name is stale or gone. expectImpostor:
 * a process other than the service serves that name (a squatter after a
 * crash), so the DLL must refuse it and, not being "absent", fail closed
 * even under FailMode=safe. Otherwise nothing serves it: the daemon is
 * absent, and only FailMode=safe lets the password alone through.
 */
static int Down(bool expectImpostor)
{
	const char *what = expectImpostor ? "impostor behind the published name" : "daemon absent";
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	DWORD shortTimeout = 2000;
	SetReg(L"PipeTimeoutMs", REG_DWORD, &shortTimeout, sizeof shortTimeout);
	Outcome o;
	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	ICredentialProviderCredential *c = TypeLogin(p, L"alice", &o);
	CHECK(o.hr == S_OK && o.gsr == CPGSR_NO_CREDENTIAL_FINISHED && o.icon == CPSI_ERROR && o.cs.rgbSerialization == NULL &&
	          wcsstr(o.status, L"did not answer"),
	      "%s, failmode secure: login refused (%s)", what, Narrow(o.status));
	FreeOutcome(&o);
	Release(c);
	Release(p);
	FilterChecks(true, expectImpostor ? "impostor, failmode secure" : "daemon absent, failmode secure");
	RemoteWhenDown(true, expectImpostor ? "impostor, failmode secure" : "daemon absent, failmode secure");

	SetRegSz(L"FailMode", L"safe");
	p = NewProvider(CPUS_LOGON);
	c = TypeLogin(p, L"alice", &o);
	if (expectImpostor) {
		CHECK(o.gsr == CPGSR_NO_CREDENTIAL_FINISHED && o.cs.rgbSerialization == NULL && wcsstr(o.status, L"did not answer"),
		      "%s, failmode safe: still refused, an impostor is not an absent daemon (gsr=%d %s)", what, (int)o.gsr,
		      Narrow(o.status));
	} else {
		CheckKerb("daemon absent, failmode safe: password alone", &o, host, L"alice", kPassword, KerbInteractiveLogon);
	}
	FreeOutcome(&o);
	Release(c);
	Release(p);
	FilterChecks(expectImpostor, expectImpostor ? "impostor, failmode safe" : "daemon absent, failmode safe");
	RemoteWhenDown(expectImpostor, expectImpostor ? "impostor, failmode safe" : "daemon absent, failmode safe");
	SetRegSz(L"FailMode", NULL);
	SetReg(L"PipeTimeoutMs", REG_DWORD, NULL, 0);
	return 0;
}

/*
 * A squatter: creates PIPE before anyone else can (FILE_FLAG_FIRST_PIPE_INSTANCE,
 * default DACL, as any user could) and answers every client like a daemon
 * that allows everything. It logs one line per client to LOG: "silent" if
 * the client hung up without sending a byte (the DLL refused us), "spoke"
 * if it sent something (it trusted us). Runs until killed.
 */
static int Impostor(const wchar_t *pipe, const wchar_t *log)
{
	static const char allow[] = "HELLO 1\nVERDICT allow reason=totp\n";
	HANDLE h = CreateNamedPipeW(pipe, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
	                            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, NULL);
	FILE *f = _wfopen(log, L"a");
	if (h == INVALID_HANDLE_VALUE || f == NULL) {
		fprintf(stderr, "impostor: cannot create %s (error %lu)\n", Narrow(pipe), (unsigned long)GetLastError());
		return 1;
	}
	fprintf(f, "listening %s\n", Narrow(pipe));
	fflush(f);
	for (;;) {
		if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
			continue;
		char buf[4096];
		DWORD n = 0, w = 0;
		BOOL got = ReadFile(h, buf, sizeof buf, &n, NULL) && n > 0;
		fprintf(f, "%s\n", got ? "spoke" : "silent");
		fflush(f);
		if (got) {
			WriteFile(h, allow, sizeof allow - 1, &w, NULL);
			FlushFileBuffers(h);
		}
		DisconnectNamedPipe(h);
	}
}

int wmain(int argc, wchar_t **argv)
{
	if (argc == 4 && wcscmp(argv[1], L"impostor") == 0)
		return Impostor(argv[2], argv[3]);
	if (argc < 3) {
		fprintf(stderr, "usage: cp_harness DLL register|unregister|mfa-on SECRETS...|mfa-off\n");
		return 2;
	}
	CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
	HMODULE dll = LoadLibraryW(argv[1]);
	CHECK(dll != NULL, "LoadLibrary %s (error %lu)", Narrow(argv[1]), dll ? 0UL : (unsigned long)GetLastError());
	if (dll == NULL)
		goto done;
	g_getClassObject = (GetClassObjectFn)(void *)GetProcAddress(dll, "DllGetClassObject");
	CHECK(g_getClassObject != NULL, "DllGetClassObject exported");
	if (g_getClassObject == NULL)
		goto done;
	CHECK(PatchImport(dll, "CredProtectW", (void *)StandInCredProtectW) &&
	          PatchImport(dll, "CredIsProtectedW", (void *)StandInCredIsProtectedW) &&
	          PatchImport(dll, "CredPackAuthenticationBufferW", (void *)StandInCredPackAuthenticationBufferW) &&
	          PatchImport(dll, "IsWellKnownSid", (void *)StandInIsWellKnownSid),
	      "the DLL's imports of CredProtectW, CredIsProtectedW, CredPackAuthenticationBufferW and IsWellKnownSid point at "
	      "the harness's stand-ins");
	if (wcscmp(argv[2], L"register") == 0 || wcscmp(argv[2], L"unregister") == 0) {
		RegisterFn fn = (RegisterFn)(void *)GetProcAddress(
			dll, wcscmp(argv[2], L"register") == 0 ? "DllRegisterServer" : "DllUnregisterServer");
		HRESULT hr = fn ? fn() : E_FAIL;
		CHECK(hr == S_OK, "%s returns S_OK (0x%08lx)", Narrow(argv[2]), (unsigned long)hr);
	} else if (wcscmp(argv[2], L"recovery") == 0 && argc == 5) {
		Recovery(argv[3], argv[4]);
	} else if (wcscmp(argv[2], L"mfa-on") == 0 && argc == 8) {
		char a[128], c[128], d[128], f[128], g[128];
		WideCharToMultiByte(CP_UTF8, 0, argv[3], -1, a, sizeof a, NULL, NULL);
		WideCharToMultiByte(CP_UTF8, 0, argv[4], -1, c, sizeof c, NULL, NULL);
		WideCharToMultiByte(CP_UTF8, 0, argv[5], -1, d, sizeof d, NULL, NULL);
		WideCharToMultiByte(CP_UTF8, 0, argv[6], -1, f, sizeof f, NULL, NULL);
		WideCharToMultiByte(CP_UTF8, 0, argv[7], -1, g, sizeof g, NULL, NULL);
		MfaOn(a, c, d, f, g);
	} else if (wcscmp(argv[2], L"mfa-off") == 0) {
		MfaOff();
	} else if (wcscmp(argv[2], L"uac") == 0 && argc == 5) {
		char e[128];
		WideCharToMultiByte(CP_UTF8, 0, argv[4], -1, e, sizeof e, NULL, NULL);
		Uac(wcscmp(argv[3], L"on") == 0, e);
	} else if (wcscmp(argv[2], L"rdp-only") == 0 && argc == 4) {
		char f[128];
		WideCharToMultiByte(CP_UTF8, 0, argv[3], -1, f, sizeof f, NULL, NULL);
		RdpOnly(f);
	} else if (wcscmp(argv[2], L"down") == 0 && argc == 4) {
		Down(wcscmp(argv[3], L"impostor") == 0);
	} else {
		CHECK(false, "unknown mode");
	}
	{
		IClassFactory *cf = NULL;
		CHECK(g_getClassObject(kOther, IID_IClassFactory, (void **)&cf) == CLASS_E_CLASSNOTAVAILABLE,
		      "DllGetClassObject refuses an unknown class");
	}
done:
	printf("%d passed, %d failed\n", g_pass, g_fail);
	return g_fail ? 1 : 0;
}
