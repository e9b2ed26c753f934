#include "credential.h"
#include "guid.h"
#include "relay.h"
#include "unknown.h"

#include <wincred.h>
#include <new>
#include <string.h>
#include <wchar.h>

extern void DllAddRef();
extern void DllRelease();

Credential::Credential()
	: ref_(1), cpus_(CPUS_INVALID), flags_(0), elevation_(false), events_(NULL), remote_(false), handedOver_(false),
	  step_(STEP_PASSWORD)
{
	DllAddRef();
	domain_[0] = user_[0] = password_[0] = code_[0] = message_[0] = L'\0';
}

Credential::~Credential()
{
	Wipe(password_, sizeof password_);
	Wipe(code_, sizeof code_);
	if (events_)
		events_->Release();
	DllRelease();
}

HRESULT Credential::Create(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD flags, bool elevation, const Settings &s,
                           bool remote, const wchar_t *domain, const wchar_t *user, const wchar_t *password,
                           const wchar_t *notice, Credential **out)
{
	Credential *c = new (std::nothrow) Credential();
	if (c == NULL)
		return E_OUTOFMEMORY;
	c->cpus_ = cpus;
	c->flags_ = flags;
	c->elevation_ = elevation;
	c->settings_ = s;
	c->remote_ = remote;
	if (user != NULL && user[0] != L'\0') {
		if (wcslen(user) > JCMFA_NAME_MAX || (domain && wcslen(domain) > JCMFA_NAME_MAX) ||
		    (password && wcslen(password) > JCMFA_SECRET_MAX)) {
			c->Release();
			return E_INVALIDARG;
		}
		wcscpy(c->user_, user);
		wcscpy(c->domain_, domain ? domain : L"");
		/* Only a complete logon (as RDP/NLA hands over) skips step 1; a
		 * bare user name from CredUI just prefills it. */
		if (password != NULL) {
			wcscpy(c->password_, password);
			c->handedOver_ = true;
		} else if (domain && domain[0]) {
			/* A prefilled name keeps its domain, as typed names do. */
			_snwprintf(c->user_, sizeof c->user_ / sizeof(wchar_t), L"%ls\\%ls", domain, user);
			c->user_[sizeof c->user_ / sizeof(wchar_t) - 1] = L'\0';
		}
	}
	/* Why a remote logon was not taken (Provider::SetSerialization). */
	if (notice != NULL)
		c->SetMessage(notice);
	*out = c;
	return S_OK;
}

STDMETHODIMP Credential::QueryInterface(REFIID riid, void **ppv)
{
	return QueryOne<ICredentialProviderCredential>(this, IID_ICredentialProviderCredential, riid, ppv);
}

STDMETHODIMP_(ULONG) Credential::AddRef() { return AddRefCount(&ref_); }

STDMETHODIMP_(ULONG) Credential::Release()
{
	ULONG n = ReleaseCount(&ref_);
	if (n == 0)
		delete this;
	return n;
}

STDMETHODIMP Credential::Advise(ICredentialProviderCredentialEvents *pcpce)
{
	if (events_)
		events_->Release();
	events_ = pcpce;
	if (events_)
		events_->AddRef();
	return S_OK;
}

STDMETHODIMP Credential::UnAdvise()
{
	if (events_)
		events_->Release();
	events_ = NULL;
	return S_OK;
}

STDMETHODIMP Credential::SetSelected(BOOL *pbAutoLogon)
{
	if (pbAutoLogon == NULL)
		return E_POINTER;
	*pbAutoLogon = FALSE;
	return S_OK;
}

STDMETHODIMP Credential::SetDeselected()
{
	/* A tile left alone must not keep a typed password or code around. */
	if (!handedOver_) {
		Wipe(password_, sizeof password_);
		if (events_)
			events_->SetFieldString(this, FI_PASSWORD, L"");
		SetStep(STEP_PASSWORD);
	}
	Wipe(code_, sizeof code_);
	if (events_)
		events_->SetFieldString(this, FI_CODE, L"");
	return S_OK;
}

STDMETHODIMP Credential::GetFieldState(DWORD id, CREDENTIAL_PROVIDER_FIELD_STATE *pcpfs,
                                       CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE *pcpfis)
{
	if (id >= FI_COUNT || pcpfs == NULL || pcpfis == NULL)
		return E_INVALIDARG;
	*pcpfis = CPFIS_NONE;
	switch (id) {
	case FI_LOGO:
	case FI_TITLE:
		*pcpfs = CPFS_DISPLAY_IN_BOTH;
		break;
	case FI_LABEL:
		/* Read by Windows for the sign-in option's name, never shown in
		 * the tile (as in SampleV2CredentialProvider's common.h). */
		*pcpfs = CPFS_HIDDEN;
		break;
	case FI_USER:
	case FI_PASSWORD:
		*pcpfs = (step_ == STEP_PASSWORD && !handedOver_) ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN;
		if (id == FI_USER && user_[0] == L'\0')
			*pcpfis = CPFIS_FOCUSED;
		if (id == FI_PASSWORD && user_[0] != L'\0')
			*pcpfis = CPFIS_FOCUSED;
		break;
	case FI_CODE:
		*pcpfs = step_ == STEP_CODE ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN;
		*pcpfis = CPFIS_FOCUSED;
		break;
	default:
		*pcpfs = CPFS_DISPLAY_IN_SELECTED_TILE;
	}
	return S_OK;
}

STDMETHODIMP Credential::GetStringValue(DWORD id, LPWSTR *ppsz)
{
	if (ppsz == NULL)
		return E_POINTER;
	*ppsz = NULL;
	switch (id) {
	case FI_LABEL:
	case FI_TITLE:
		return DupString(kFields[id].label, ppsz);
	case FI_USER:
		return DupString(handedOver_ ? L"" : user_, ppsz);
	case FI_PASSWORD:
		return DupString(handedOver_ ? L"" : password_, ppsz);
	case FI_CODE:
		return DupString(code_, ppsz);
	case FI_MESSAGE:
		return DupString(message_, ppsz);
	}
	return E_INVALIDARG;
}

/* The tile image, drawn rather than shipped as a resource: a 72x72 square
 * ("The recommended size for an icon is 72 by 72 pixels", Microsoft's
 * ICredentialProviderCredential2 documentation, which describes the logo
 * and label fields) with "123" on it. Each call returns a new bitmap, as the
 * samples' LoadBitmap does; the caller owns it. */
STDMETHODIMP Credential::GetBitmapValue(DWORD id, HBITMAP *phbmp)
{
	if (phbmp == NULL)
		return E_POINTER;
	*phbmp = NULL;
	if (id != FI_LOGO)
		return E_INVALIDARG;
	const int side = 72;
	HDC screen = GetDC(NULL);
	HDC dc = CreateCompatibleDC(screen);
	HBITMAP bmp = CreateCompatibleBitmap(screen, side, side);
	ReleaseDC(NULL, screen);
	if (dc == NULL || bmp == NULL) {
		if (dc)
			DeleteDC(dc);
		if (bmp)
			DeleteObject(bmp);
		return E_OUTOFMEMORY;
	}
	HGDIOBJ old = SelectObject(dc, bmp);
	RECT r = {0, 0, side, side};
	HBRUSH bg = CreateSolidBrush(RGB(0x1f, 0x4e, 0x79));
	FillRect(dc, &r, bg);
	DeleteObject(bg);
	HFONT font = CreateFontW(30, 0, 0, 0, FW_BOLD, FALSE, FALSE, FALSE, DEFAULT_CHARSET, OUT_DEFAULT_PRECIS,
	                         CLIP_DEFAULT_PRECIS, DEFAULT_QUALITY, DEFAULT_PITCH | FF_SWISS, L"Segoe UI");
	HGDIOBJ oldFont = font ? SelectObject(dc, font) : NULL;
	SetBkMode(dc, TRANSPARENT);
	SetTextColor(dc, RGB(0xff, 0xff, 0xff));
	DrawTextW(dc, L"123", -1, &r, DT_CENTER | DT_VCENTER | DT_SINGLELINE);
	if (font) {
		SelectObject(dc, oldFont);
		DeleteObject(font);
	}
	SelectObject(dc, old);
	DeleteDC(dc);
	*phbmp = bmp;
	return S_OK;
}
STDMETHODIMP Credential::GetCheckboxValue(DWORD, BOOL *, LPWSTR *) { return E_NOTIMPL; }
STDMETHODIMP Credential::GetComboBoxValueCount(DWORD, DWORD *, DWORD *) { return E_NOTIMPL; }
STDMETHODIMP Credential::GetComboBoxValueAt(DWORD, DWORD, LPWSTR *) { return E_NOTIMPL; }
STDMETHODIMP Credential::SetCheckboxValue(DWORD, BOOL) { return E_NOTIMPL; }
STDMETHODIMP Credential::SetComboBoxSelectedValue(DWORD, DWORD) { return E_NOTIMPL; }
STDMETHODIMP Credential::CommandLinkClicked(DWORD) { return E_NOTIMPL; }

STDMETHODIMP Credential::GetSubmitButtonValue(DWORD id, DWORD *pdwAdjacentTo)
{
	if (id != FI_SUBMIT || pdwAdjacentTo == NULL)
		return E_INVALIDARG;
	*pdwAdjacentTo = step_ == STEP_CODE ? FI_CODE : FI_PASSWORD;
	return S_OK;
}

static HRESULT CopyField(wchar_t *dst, size_t cap, LPCWSTR src)
{
	if (src == NULL)
		src = L"";
	if (wcslen(src) >= cap)
		return E_INVALIDARG;
	wcscpy(dst, src);
	return S_OK;
}

STDMETHODIMP Credential::SetStringValue(DWORD id, LPCWSTR psz)
{
	switch (id) {
	case FI_USER:
		if (handedOver_)
			return E_ACCESSDENIED;
		return CopyField(user_, JCMFA_NAME_MAX + 1, psz);
	case FI_PASSWORD:
		if (handedOver_)
			return E_ACCESSDENIED;
		return CopyField(password_, sizeof password_ / sizeof(wchar_t), psz);
	case FI_CODE:
		return CopyField(code_, sizeof code_ / sizeof(wchar_t), psz);
	}
	return E_INVALIDARG;
}

void Credential::SetStep(Step s)
{
	step_ = s;
	if (events_ == NULL)
		return;
	CREDENTIAL_PROVIDER_FIELD_STATE creds =
		(s == STEP_PASSWORD && !handedOver_) ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN;
	events_->SetFieldState(this, FI_USER, creds);
	events_->SetFieldState(this, FI_PASSWORD, creds);
	events_->SetFieldState(this, FI_CODE, s == STEP_CODE ? CPFS_DISPLAY_IN_SELECTED_TILE : CPFS_HIDDEN);
	if (s == STEP_CODE)
		events_->SetFieldInteractiveState(this, FI_CODE, CPFIS_FOCUSED);
	events_->SetFieldSubmitButton(this, FI_SUBMIT, s == STEP_CODE ? FI_CODE : FI_PASSWORD);
}

void Credential::SetMessage(const wchar_t *m)
{
	_snwprintf(message_, sizeof message_ / sizeof(wchar_t), L"%ls", m);
	message_[sizeof message_ / sizeof(wchar_t) - 1] = L'\0';
	if (events_)
		events_->SetFieldString(this, FI_MESSAGE, message_);
}

const char *Credential::Surface() const
{
	/* RDP wins over unlock: reconnecting to a locked remote session is
	 * still a remote login, and must not inherit unlock's exemption. */
	if (remote_)
		return "rdp";
	if (cpus_ == CPUS_UNLOCK_WORKSTATION)
		return "unlock";
	/* CredUI as SYSTEM is consent.exe's elevation prompt: its own
	 * surface, exempt until the daemon's uac setting is on. */
	if (cpus_ == CPUS_CREDUI && elevation_)
		return "uac";
	return "gui";
}

void Credential::Reset()
{
	Wipe(code_, sizeof code_);
	if (!handedOver_) {
		Wipe(password_, sizeof password_);
		if (events_)
			events_->SetFieldString(this, FI_PASSWORD, L"");
	}
	if (events_)
		events_->SetFieldString(this, FI_CODE, L"");
}

/*
 * CredUI hands the buffer to the application that asked, which reads it
 * with CredUnPackAuthenticationBuffer; so it is built with
 * CredPackAuthenticationBufferW, as Microsoft's CredUI sample does ("In
 * CredUI scenarios, we must pass back the buffer constructed with
 * CredPackAuthenticationBuffer": microsoft/Windows-classic-samples,
 * Samples/Win7Samples/security/credentialproviders/
 * samplecreduicredentialprovider/csamplecredential.cpp), and with the
 * password in plain text: never CRED_PACK_PROTECTED_CREDENTIALS, never
 * CredProtect (ProtectIfNecessary, helpers.cpp).
 *
 * CREDUIWIN_GENERIC asks for "the user name and password in plain text"
 * (SetUsageScenario documentation): CRED_PACK_GENERIC_CREDENTIALS with the
 * name exactly as typed. Otherwise neither flag, which packs a
 * KERB_INTERACTIVE_LOGON for Negotiate (CredPackAuthenticationBuffer
 * documentation), for DOMAIN\user, the form it documents for domain users
 * (the computer name for a local account; a UPN stays as typed).
 */
HRESULT Credential::PackCredUI(const Account &a, BYTE **buf, ULONG *len)
{
	bool generic = (flags_ & CREDUIWIN_GENERIC) != 0;
	wchar_t name[2 * JCMFA_NAME_MAX + 2];
	size_t cap = sizeof name / sizeof(wchar_t);
	if (generic || a.domain[0] == L'\0')
		_snwprintf(name, cap, L"%ls", generic ? user_ : a.user);
	else
		_snwprintf(name, cap, L"%ls\\%ls", a.domain, a.user);
	name[cap - 1] = L'\0';
	DWORD how = generic ? CRED_PACK_GENERIC_CREDENTIALS : 0;
	DWORD n = 0;
	*buf = NULL;
	*len = 0;
	if (CredPackAuthenticationBufferW(how, name, password_, NULL, &n))
		return E_UNEXPECTED; /* a size query cannot succeed */
	if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || n == 0)
		return HRESULT_FROM_WIN32(GetLastError());
	BYTE *b = (BYTE *)CoTaskMemAlloc(n);
	if (b == NULL)
		return E_OUTOFMEMORY;
	if (!CredPackAuthenticationBufferW(how, name, password_, b, &n)) {
		HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
		Wipe(b, n);
		CoTaskMemFree(b);
		return hr;
	}
	*buf = b;
	*len = n;
	return S_OK;
}

HRESULT Credential::Pack(const Account &a, CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE *pcpgsr,
                         CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs)
{
	ULONG pkg;
	HRESULT hr = NegotiatePackage(&pkg);
	if (FAILED(hr))
		return hr;
	BYTE *buf = NULL;
	ULONG len = 0;
	if (cpus_ == CPUS_CREDUI) {
		hr = PackCredUI(a, &buf, &len);
	} else {
		/* Logon and unlock: LogonUI passes the buffer to LSA, so the
		 * password goes protected (ProtectIfNecessary, helpers.cpp). */
		wchar_t *pw = NULL;
		hr = ProtectIfNecessary(cpus_, password_, &pw);
		if (SUCCEEDED(hr))
			hr = PackKerbLogon(cpus_, a.domain, a.user, pw, &buf, &len);
		if (pw) {
			Wipe(pw, wcslen(pw) * sizeof(wchar_t));
			CoTaskMemFree(pw);
		}
	}
	if (FAILED(hr))
		return hr;
	pcpcs->ulAuthenticationPackage = pkg;
	pcpcs->clsidCredentialProvider = CLSID_JcmfaProvider;
	pcpcs->cbSerialization = len;
	pcpcs->rgbSerialization = buf;
	*pcpgsr = CPGSR_RETURN_CREDENTIAL_FINISHED;
	return S_OK;
}

STDMETHODIMP Credential::GetSerialization(CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE *pcpgsr,
                                          CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs,
                                          LPWSTR *ppszOptionalStatusText,
                                          CREDENTIAL_PROVIDER_STATUS_ICON *pcpsiOptionalStatusIcon)
{
	if (pcpgsr == NULL || pcpcs == NULL || ppszOptionalStatusText == NULL || pcpsiOptionalStatusIcon == NULL)
		return E_POINTER;
	*pcpgsr = CPGSR_NO_CREDENTIAL_NOT_FINISHED;
	memset(pcpcs, 0, sizeof *pcpcs);
	*ppszOptionalStatusText = NULL;
	*pcpsiOptionalStatusIcon = CPSI_NONE;

	Account a;
	bool ok = handedOver_ ? AccountFromParts(domain_, user_, &a) : ParseAccount(user_, &a);
	if (!ok) {
		SetMessage(L"Enter your user name.");
		return S_OK;
	}
	/* The break-glass account and (by policy) unlock never wait on the
	 * service: they are how an admin gets in when it is broken. */
	if (settings_.IsExcluded(a.login))
		return Pack(a, pcpgsr, pcpcs);
	if (cpus_ == CPUS_UNLOCK_WORKSTATION && !remote_ && !settings_.relayUnlock)
		return Pack(a, pcpgsr, pcpcs);

	bool codeStep = step_ == STEP_CODE;
	if (codeStep && code_[0] == L'\0') {
		SetMessage(L"Enter the verification code from your authenticator app.");
		return S_OK;
	}
	RelayResult *r = new (std::nothrow) RelayResult;
	if (r == NULL)
		return E_OUTOFMEMORY;
	RelayLogin(settings_, a.login, Surface(), cpus_ == CPUS_CREDUI ? "credui" : "logonui", codeStep ? code_ : NULL,
	           r);
	Wipe(code_, sizeof code_);
	if (events_)
		events_->SetFieldString(this, FI_CODE, L"");

	HRESULT hr = S_OK;
	const wchar_t *fail = NULL;
	switch (r->verdict) {
	case JCMFA_ALLOW:
	case JCMFA_SKIP:
		SetMessage(L"");
		hr = Pack(a, pcpgsr, pcpcs);
		/* The code is spent: whatever LSA says of the password, another
		 * attempt asks the daemon afresh. */
		if (step_ == STEP_CODE)
			SetStep(STEP_PASSWORD);
		break;
	case JCMFA_DENY:
		if (r->err == JCMFA_E_CANCELLED && r->challenged && !r->answered) {
			/* The daemon wants a code we have not asked for yet: step 2. */
			wchar_t m[1400];
			if (r->message[0])
				_snwprintf(m, sizeof m / sizeof(wchar_t), L"%ls\n%ls", r->message, r->prompt);
			else
				_snwprintf(m, sizeof m / sizeof(wchar_t), L"%ls", r->prompt);
			m[sizeof m / sizeof(wchar_t) - 1] = L'\0';
			SetMessage(m);
			SetStep(STEP_CODE);
			break;
		}
		fail = r->message[0] ? r->message : L"Access denied.";
		break;
	case JCMFA_BROKEN: {
		/* The rule every shim shares (jcmfa_fail_open, docs/protocol.md):
		 * FailMode=safe lets the password alone through only if the daemon
		 * is absent (no pipe, no published name) and no code was ever
		 * asked. A busy pipe, a timeout, a garbled reply or a server that
		 * fails the identity check is not absent: any local user can cause
		 * those, so failing open there would be a way around the code.
		 * The code step counts as asked: the first dialogue had an ASK. */
		struct jcmfa_result fr;
		memset(&fr, 0, sizeof fr);
		fr.verdict = JCMFA_BROKEN;
		fr.err = r->err;
		fr.absent = r->absent;
		fr.challenged = r->challenged || codeStep;
		if (jcmfa_fail_open(settings_.failSafe, &fr)) {
			SetMessage(L"");
			hr = Pack(a, pcpgsr, pcpcs);
			break;
		}
		fail = L"The jcmfa service did not answer, so this sign-in cannot be verified. Try again, or contact your "
		       L"administrator.";
		break;
	}
	}
	if (fail != NULL) {
		SetMessage(fail);
		hr = DupString(fail, ppszOptionalStatusText);
		*pcpsiOptionalStatusIcon = CPSI_ERROR;
		*pcpgsr = CPGSR_NO_CREDENTIAL_FINISHED;
		/* After a wrong code the person tries another code; after anything
		 * else they start again from the password. */
		if (!(r->challenged || codeStep) || r->verdict == JCMFA_BROKEN) {
			Reset();
			SetStep(STEP_PASSWORD);
		}
	}
	delete r;
	return hr;
}

STDMETHODIMP Credential::ReportResult(LONG ntsStatus, LONG, LPWSTR *ppszOptionalStatusText,
                                      CREDENTIAL_PROVIDER_STATUS_ICON *pcpsiOptionalStatusIcon)
{
	if (ppszOptionalStatusText)
		*ppszOptionalStatusText = NULL;
	if (pcpsiOptionalStatusIcon)
		*pcpsiOptionalStatusIcon = CPSI_NONE;
	/* LSA refused the password (or accepted it): either way the code was
	 * spent, so the next attempt starts from the beginning. */
	if (ntsStatus != 0) {
		Reset();
		SetStep(STEP_PASSWORD);
	}
	return S_OK;
}
