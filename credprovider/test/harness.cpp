/*
 * cp_harness: drives jcmfa_credprov.dll the way LogonUI and CredUI do, under
 * wine, against a real jcmfa-agent.exe on a named pipe (run_wine.sh starts
 * it and enrolls the users). Each check prints one line; the last line is
 * "N passed, N failed", and the exit status is non-zero on any failure.
 *
 *   cp_harness.exe DLL register|unregister
 *   cp_harness.exe DLL mfa-on SECRET_ALICE SECRET_CAROL SECRET_DAVE
 *   cp_harness.exe DLL mfa-off
 *   cp_harness.exe DLL down absent|impostor
 *   cp_harness.exe impostor PIPE LOG   (not a check: a squatter, see Impostor)
 */
#include "cp.h"
#include "fields.h"
#include "guid.h"
#include "helpers.h"
#include "totp.h"

#include <ntsecapi.h>
#include <stdio.h>
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
	CHECK(SUCCEEDED(hr) && wcscmp(d, domain) == 0 && wcscmp(u, user) == 0 && wcscmp(p, password) == 0,
	      "%s: KERB_INTERACTIVE_UNLOCK_LOGON carries domain=%s user=%s and the password", what, Narrow(d), Narrow(u));
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

static BYTE *PackRemote(const wchar_t *domain, const wchar_t *user, ULONG *len)
{
	BYTE *b = NULL;
	PackKerbLogon(CPUS_LOGON, domain, user, kPassword, &b, len);
	return b;
}

static void FilterChecks(bool expectFiltered, const char *why)
{
	ICredentialProviderFilter *f = NewFilter();
	CHECK(f != NULL, "filter: created through DllGetClassObject");
	if (f == NULL)
		return;
	GUID ids[3] = {kOther, CLSID_JcmfaProvider, kOther};
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

static void RemoteLogin(const char *what, const wchar_t *user, const char *secret, bool expectCode)
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	ULONG pkg = 0, len = 0;
	NegotiatePackage(&pkg);
	BYTE *b = PackRemote(host, user, &len);
	CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION in = {pkg, kOther, len, b}, out;
	memset(&out, 0, sizeof out);

	ICredentialProviderFilter *f = NewFilter();
	HRESULT hr = f ? f->UpdateRemoteCredential(&in, &out) : E_FAIL;
	CHECK(hr == S_OK && IsEqualCLSID(out.clsidCredentialProvider, CLSID_JcmfaProvider),
	      "%s: filter readdresses the NLA serialization to jcmfa's provider", what);
	Release(f);

	ICredentialProvider *p = NewProvider(CPUS_LOGON);
	CHECK(p && p->SetSerialization(&in) == E_INVALIDARG,
	      "%s: a serialization for another provider is refused (it must come through the filter)", what);
	hr = p ? p->SetSerialization(&out) : E_FAIL;
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
		if (out.rgbSerialization)
			CoTaskMemFree(out.rgbSerialization);
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
		SetCode(c, CodeFor(secret, 0));
		Submit(c, &o);
	}
	CheckKerb(what, &o, host, user, kPassword, KerbInteractiveLogon);
	FreeOutcome(&o);
	c->Release();
	p->Release();
	CoTaskMemFree(b);
	CoTaskMemFree(out.rgbSerialization);
}

static int MfaOn(const char *alice, const char *carol, const char *dave)
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
	RemoteLogin("a known account over RDP (not required)", me, NULL, false);

	/* CredUI. */
	p = NewProvider(CPUS_CREDUI);
	CHECK(p != NULL, "provider: accepts CPUS_CREDUI");
	ICredentialProvider *wow = NewProvider(CPUS_CREDUI, CREDUIWIN_PACK_32_WOW);
	CHECK(wow == NULL, "provider: declines CredUI for 32-bit callers (CREDUIWIN_PACK_32_WOW)");
	Release(wow);
	c = TypeLogin(p, L"dave", &o);
	CHECK(o.gsr == CPGSR_NO_CREDENTIAL_NOT_FINISHED && o.cs.rgbSerialization == NULL, "dave in CredUI: code asked");
	/* Not submitted further here: CredUI's packing protects the password
	 * with CredIsProtectedW/CredProtectW, which wine 8 does not implement
	 * (it aborts the process). docs/windows.md lists this gap. */
	(void)dave;
	Release(c);
	Release(p);
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

static int MfaOff()
{
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = MAX_COMPUTERNAME_LENGTH + 1;
	GetComputerNameW(host, &hn);
	FilterChecks(false, "MFA off");
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
	if (wcscmp(argv[2], L"register") == 0 || wcscmp(argv[2], L"unregister") == 0) {
		RegisterFn fn = (RegisterFn)(void *)GetProcAddress(
			dll, wcscmp(argv[2], L"register") == 0 ? "DllRegisterServer" : "DllUnregisterServer");
		HRESULT hr = fn ? fn() : E_FAIL;
		CHECK(hr == S_OK, "%s returns S_OK (0x%08lx)", Narrow(argv[2]), (unsigned long)hr);
	} else if (wcscmp(argv[2], L"mfa-on") == 0 && argc == 6) {
		char a[128], c[128], d[128];
		WideCharToMultiByte(CP_UTF8, 0, argv[3], -1, a, sizeof a, NULL, NULL);
		WideCharToMultiByte(CP_UTF8, 0, argv[4], -1, c, sizeof c, NULL, NULL);
		WideCharToMultiByte(CP_UTF8, 0, argv[5], -1, d, sizeof d, NULL, NULL);
		MfaOn(a, c, d);
	} else if (wcscmp(argv[2], L"mfa-off") == 0) {
		MfaOff();
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
