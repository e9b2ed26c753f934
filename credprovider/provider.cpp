#include "provider.h"
#include "guid.h"
#include "unknown.h"

#include <new>
#include <string.h>
#include <wchar.h>

extern void DllAddRef();
extern void DllRelease();

Provider::Provider()
	: ref_(1), cpus_(CPUS_INVALID), flags_(0), cred_(NULL), handedOver_(false), remote_(false), elevation_(false),
	  inCred_(false), notice_(NULL)
{
	DllAddRef();
	domain_[0] = user_[0] = password_[0] = L'\0';
	settings_.Load();
}

Provider::~Provider()
{
	DropCredential();
	Wipe(password_, sizeof password_);
	DllRelease();
}

HRESULT Provider::Create(REFIID riid, void **ppv)
{
	Provider *p = new (std::nothrow) Provider();
	if (p == NULL)
		return E_OUTOFMEMORY;
	HRESULT hr = p->QueryInterface(riid, ppv);
	p->Release();
	return hr;
}

STDMETHODIMP Provider::QueryInterface(REFIID riid, void **ppv)
{
	return QueryOne<ICredentialProvider>(this, IID_ICredentialProvider, riid, ppv);
}

STDMETHODIMP_(ULONG) Provider::AddRef() { return AddRefCount(&ref_); }

STDMETHODIMP_(ULONG) Provider::Release()
{
	ULONG n = ReleaseCount(&ref_);
	if (n == 0)
		delete this;
	return n;
}

void Provider::DropCredential()
{
	if (cred_)
		cred_->Release();
	cred_ = NULL;
}

STDMETHODIMP Provider::SetUsageScenario(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD dwFlags)
{
	bool elevation = false;
	switch (cpus) {
	case CPUS_LOGON:
	case CPUS_UNLOCK_WORKSTATION:
		break;
	case CPUS_CREDUI: {
		/* A 32-bit caller wants a WOW64 layout of the logon structure,
		 * which this provider does not pack: stay out rather than hand it
		 * a buffer it would misread. */
		if (dwFlags & CREDUIWIN_PACK_32_WOW)
			return E_NOTIMPL;
		/* CredUI runs providers in the process that asks (mstsc for
		 * another machine, Run as different user, a network share). A
		 * process that is neither SYSTEM nor elevated cannot open the
		 * daemon's pipe (it admits SYSTEM and Administrators only), so
		 * the tile could only ever fail there: stay out, and the filter
		 * leaves Windows' own providers (JcmfaFilter::Filter). What such
		 * a prompt yields is a credential for another machine or for the
		 * application, not a sign-in to this one (docs/windows.md,
		 * "Where jcmfa asks"). E_NOTIMPL is how a provider declines a
		 * scenario (SetUsageScenario documentation). */
		Caller who = EffectiveCaller();
		if (who == CALLER_USER)
			return E_NOTIMPL;
		elevation = who == CALLER_SYSTEM;
		break;
	}
	default:
		/* Password change and PLAP are Windows' own providers' job. */
		return E_NOTIMPL;
	}
	cpus_ = cpus;
	flags_ = dwFlags;
	elevation_ = elevation;
	inCred_ = false;
	notice_ = NULL;
	DropCredential();
	return S_OK;
}

/*
 * CredUI's input credential (CredUIPromptForWindowsCredentials's
 * pvInAuthBuffer) only prefills the user name, and the CREDUIWIN flags
 * decide what a credential we cannot read means, as in Microsoft's CredUI
 * sample (microsoft/Windows-classic-samples, Samples/Win7Samples/security/
 * credentialproviders/samplecreduicredentialprovider/CSampleProvider.cpp,
 * SetSerialization) and the SetSerialization documentation
 * (MicrosoftDocs/sdk-api, nf-credentialprovider-icredentialprovider-
 * setserialization.md):
 *  - a readable KERB logon for Negotiate with a user name: S_OK, the tile
 *    is prefilled with it;
 *  - CREDUIWIN_AUTHPACKAGE_ONLY ("only credential providers that support
 *    the input authentication package should be enumerated"; CredUI enables
 *    "all credential providers returning a success status"): S_FALSE when
 *    the package is Negotiate (we can serialize for it, though not this
 *    input), E_INVALIDARG for any other package;
 *  - CREDUIWIN_IN_CRED_ONLY ("enumerate a tile for that credential. No
 *    other tiles"; CredUI enables providers "returning S_OK"): E_INVALIDARG,
 *    and GetCredentialCount reports no tile;
 *  - neither flag: E_INVALIDARG; CredUI enables the provider regardless
 *    and the tile starts empty.
 */
HRESULT Provider::SetCredUISerialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs)
{
	inCred_ = false;
	domain_[0] = user_[0] = L'\0';
	DropCredential();
	ULONG pkg = 0;
	bool ourPackage = pcpcs != NULL && SUCCEEDED(NegotiatePackage(&pkg)) && pkg == pcpcs->ulAuthenticationPackage;
	if (ourPackage && pcpcs->rgbSerialization != NULL && pcpcs->cbSerialization > 0) {
		wchar_t domain[JCMFA_NAME_MAX + 1], user[JCMFA_NAME_MAX + 1], password[JCMFA_SECRET_MAX + 1];
		HRESULT hr = UnpackKerbLogon(pcpcs->rgbSerialization, pcpcs->cbSerialization, domain, user, password);
		Wipe(password, sizeof password);
		if (SUCCEEDED(hr) && user[0] != L'\0') {
			wcscpy(domain_, domain);
			wcscpy(user_, user);
			inCred_ = true;
			return S_OK;
		}
	}
	if ((flags_ & CREDUIWIN_AUTHPACKAGE_ONLY) && ourPackage)
		return S_FALSE;
	return E_INVALIDARG;
}

/*
 * Logon and unlock: in LogonUI a serialization reaches a provider's
 * SetSerialization when a remote client's credential is passed in (the
 * SetSerialization documentation's remote-logon case), and it reaches ours
 * only if our filter readdressed it (JcmfaFilter::UpdateRemoteCredential):
 * anything addressed elsewhere is refused. So a logon handed over here is
 * an RDP logon by where it came from, and is relayed as surface "rdp"
 * (never unlock's exemption) whatever GetSystemMetrics(SM_REMOTESESSION)
 * says; that check still marks typed logons in a remote session. It is
 * read by its content alone (KindOfLogon), unchanged from what the client
 * sent:
 *  - a password logon: the tile goes straight to the code step with it;
 *  - a smart card logon (the filter readdresses one only when KeepProviders
 *    does not keep Windows' smart card provider): refused with a message,
 *    the tile asks for user name, password and code;
 *  - a password longer than JCMFA_SECRET_MAX (as protected by the client):
 *    refused with a message, never cut, the user name kept;
 *  - anything else: E_INVALIDARG, the tile starts empty.
 */
STDMETHODIMP Provider::SetSerialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs)
{
	if (cpus_ == CPUS_CREDUI)
		return SetCredUISerialization(pcpcs);
	if (pcpcs == NULL || pcpcs->rgbSerialization == NULL)
		return E_INVALIDARG;
	if (!IsEqualCLSID(pcpcs->clsidCredentialProvider, CLSID_JcmfaProvider))
		return E_INVALIDARG;
	ULONG pkg;
	if (SUCCEEDED(NegotiatePackage(&pkg)) && pkg != pcpcs->ulAuthenticationPackage)
		return E_INVALIDARG;
	const BYTE *buf = pcpcs->rgbSerialization;
	ULONG len = pcpcs->cbSerialization;
	LogonKind kind = KindOfLogon(buf, len);
	if (kind == LOGON_CARD) {
		DropCredential();
		domain_[0] = user_[0] = L'\0';
		Wipe(password_, sizeof password_);
		handedOver_ = false;
		remote_ = true;
		notice_ = L"Smart card sign-in is not enabled on this computer. Enter your user name and password; you will "
		          L"then be asked for your verification code.";
		return S_OK;
	}
	if (kind != LOGON_PASSWORD)
		return E_INVALIDARG;
	wchar_t domain[JCMFA_NAME_MAX + 1], user[JCMFA_NAME_MAX + 1], password[JCMFA_SECRET_MAX + 1];
	HRESULT hr = UnpackKerbLogon(buf, len, domain, user, password);
	if (hr == JCMFA_E_SECRET_TOO_LONG) {
		DropCredential();
		wcscpy(domain_, domain);
		wcscpy(user_, user);
		Wipe(password_, sizeof password_);
		handedOver_ = false;
		remote_ = true;
		notice_ = L"The password sent by your remote desktop client is longer than this sign-in accepts. Enter your "
		          L"password here.";
		return S_OK;
	}
	if (FAILED(hr))
		return hr;
	if (user[0] == L'\0') {
		Wipe(password, sizeof password);
		return E_INVALIDARG;
	}
	wcscpy(domain_, domain);
	wcscpy(user_, user);
	Wipe(password_, sizeof password_);
	wcscpy(password_, password);
	handedOver_ = true;
	remote_ = true;
	notice_ = NULL;
	Wipe(password, sizeof password);
	DropCredential();
	return S_OK;
}

STDMETHODIMP Provider::Advise(ICredentialProviderEvents *, UINT_PTR) { return S_OK; }
STDMETHODIMP Provider::UnAdvise() { return S_OK; }

STDMETHODIMP Provider::GetFieldDescriptorCount(DWORD *pdwCount)
{
	if (pdwCount == NULL)
		return E_POINTER;
	*pdwCount = FI_COUNT;
	return S_OK;
}

STDMETHODIMP Provider::GetFieldDescriptorAt(DWORD dwIndex, CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR **ppcpfd)
{
	if (ppcpfd == NULL)
		return E_POINTER;
	*ppcpfd = NULL;
	if (dwIndex >= FI_COUNT)
		return E_INVALIDARG;
	CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR *d =
		(CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR *)CoTaskMemAlloc(sizeof *d);
	if (d == NULL)
		return E_OUTOFMEMORY;
	memset(d, 0, sizeof *d);
	d->dwFieldID = kFields[dwIndex].id;
	d->cpft = kFields[dwIndex].type;
	if (kFields[dwIndex].guid)
		d->guidFieldType = *kFields[dwIndex].guid;
	HRESULT hr = DupString(kFields[dwIndex].label, &d->pszLabel);
	if (FAILED(hr)) {
		CoTaskMemFree(d);
		return hr;
	}
	*ppcpfd = d;
	return S_OK;
}

STDMETHODIMP Provider::GetCredentialCount(DWORD *pdwCount, DWORD *pdwDefault, BOOL *pbAutoLogonWithDefault)
{
	if (pdwCount == NULL || pdwDefault == NULL || pbAutoLogonWithDefault == NULL)
		return E_POINTER;
	if (cpus_ == CPUS_INVALID)
		return E_UNEXPECTED;
	/* CREDUIWIN_IN_CRED_ONLY: a tile for the input credential or none. */
	*pdwCount = (cpus_ == CPUS_CREDUI && (flags_ & CREDUIWIN_IN_CRED_ONLY) && !inCred_) ? 0 : 1;
	/* A handed-over logon goes straight to GetSerialization, which asks
	 * the daemon; it is "auto" only in not retyping the password. */
	*pdwDefault = (handedOver_ || inCred_ || notice_) ? 0 : CREDENTIAL_PROVIDER_NO_DEFAULT;
	*pbAutoLogonWithDefault = handedOver_ ? TRUE : FALSE;
	return S_OK;
}

STDMETHODIMP Provider::GetCredentialAt(DWORD dwIndex, ICredentialProviderCredential **ppcpc)
{
	if (ppcpc == NULL)
		return E_POINTER;
	*ppcpc = NULL;
	if (dwIndex != 0 || cpus_ == CPUS_INVALID ||
	    (cpus_ == CPUS_CREDUI && (flags_ & CREDUIWIN_IN_CRED_ONLY) && !inCred_))
		return E_INVALIDARG;
	if (cred_ == NULL) {
		bool remote = remote_ || GetSystemMetrics(SM_REMOTESESSION) != 0;
		HRESULT hr = Credential::Create(cpus_, flags_, elevation_, settings_, remote, domain_, user_[0] ? user_ : NULL,
		                                handedOver_ ? password_ : NULL, notice_, &cred_);
		if (FAILED(hr))
			return hr;
	}
	return cred_->QueryInterface(IID_ICredentialProviderCredential, (void **)ppcpc);
}
