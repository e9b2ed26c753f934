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
	  inCred_(false)
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

STDMETHODIMP Provider::SetSerialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs)
{
	if (cpus_ == CPUS_CREDUI)
		return SetCredUISerialization(pcpcs);
	if (pcpcs == NULL || pcpcs->rgbSerialization == NULL)
		return E_INVALIDARG;
	const BYTE *buf = pcpcs->rgbSerialization;
	ULONG len = pcpcs->cbSerialization;
	bool tagged = len >= JCMFA_REMOTE_TAG_LEN && memcmp(buf, JCMFA_REMOTE_TAG, JCMFA_REMOTE_TAG_LEN) == 0;
	if (tagged) {
		buf += JCMFA_REMOTE_TAG_LEN;
		len -= JCMFA_REMOTE_TAG_LEN;
	}
	/* A logon serialization must be addressed to us (the filter does that). */
	if (!IsEqualCLSID(pcpcs->clsidCredentialProvider, CLSID_JcmfaProvider))
		return E_INVALIDARG;
	ULONG pkg;
	if (SUCCEEDED(NegotiatePackage(&pkg)) && pkg != pcpcs->ulAuthenticationPackage)
		return E_INVALIDARG;
	wchar_t domain[JCMFA_NAME_MAX + 1], user[JCMFA_NAME_MAX + 1], password[JCMFA_SECRET_MAX + 1];
	HRESULT hr = UnpackKerbLogon(buf, len, domain, user, password);
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
	remote_ = tagged || GetSystemMetrics(SM_REMOTESESSION) != 0;
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
	*pdwDefault = (handedOver_ || inCred_) ? 0 : CREDENTIAL_PROVIDER_NO_DEFAULT;
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
		                                handedOver_ ? password_ : NULL, &cred_);
		if (FAILED(hr))
			return hr;
	}
	return cred_->QueryInterface(IID_ICredentialProviderCredential, (void **)ppcpc);
}
