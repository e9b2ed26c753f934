#include "provider.h"
#include "guid.h"
#include "unknown.h"

#include <new>
#include <string.h>
#include <wchar.h>

extern void DllAddRef();
extern void DllRelease();

Provider::Provider()
	: ref_(1), cpus_(CPUS_INVALID), flags_(0), cred_(NULL), handedOver_(false), remote_(false)
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
	switch (cpus) {
	case CPUS_LOGON:
	case CPUS_UNLOCK_WORKSTATION:
		break;
	case CPUS_CREDUI:
		/* A 32-bit caller wants a WOW64 layout of the logon structure,
		 * which this provider does not pack: stay out rather than hand it
		 * a buffer it would misread. */
		if (dwFlags & CREDUIWIN_PACK_32_WOW)
			return E_NOTIMPL;
		break;
	default:
		/* Password change and PLAP are Windows' own providers' job. */
		return E_NOTIMPL;
	}
	cpus_ = cpus;
	flags_ = dwFlags;
	DropCredential();
	return S_OK;
}

STDMETHODIMP Provider::SetSerialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs)
{
	if (pcpcs == NULL || pcpcs->rgbSerialization == NULL)
		return E_INVALIDARG;
	const BYTE *buf = pcpcs->rgbSerialization;
	ULONG len = pcpcs->cbSerialization;
	bool tagged = len >= JCMFA_REMOTE_TAG_LEN && memcmp(buf, JCMFA_REMOTE_TAG, JCMFA_REMOTE_TAG_LEN) == 0;
	if (tagged) {
		buf += JCMFA_REMOTE_TAG_LEN;
		len -= JCMFA_REMOTE_TAG_LEN;
	}
	/* CredUI may pass another provider's buffer to prefill the user; a
	 * logon serialization must be addressed to us (the filter does that). */
	if (cpus_ != CPUS_CREDUI && !IsEqualCLSID(pcpcs->clsidCredentialProvider, CLSID_JcmfaProvider))
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
	if (cpus_ == CPUS_CREDUI) {
		handedOver_ = false;
	} else {
		wcscpy(password_, password);
		handedOver_ = true;
		remote_ = tagged || GetSystemMetrics(SM_REMOTESESSION) != 0;
	}
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
	*pdwCount = 1;
	/* A handed-over logon goes straight to GetSerialization, which asks
	 * the daemon; it is "auto" only in not retyping the password. */
	*pdwDefault = handedOver_ ? 0 : CREDENTIAL_PROVIDER_NO_DEFAULT;
	*pbAutoLogonWithDefault = handedOver_ ? TRUE : FALSE;
	return S_OK;
}

STDMETHODIMP Provider::GetCredentialAt(DWORD dwIndex, ICredentialProviderCredential **ppcpc)
{
	if (ppcpc == NULL)
		return E_POINTER;
	*ppcpc = NULL;
	if (dwIndex != 0 || cpus_ == CPUS_INVALID)
		return E_INVALIDARG;
	if (cred_ == NULL) {
		bool remote = remote_ || GetSystemMetrics(SM_REMOTESESSION) != 0;
		HRESULT hr = Credential::Create(cpus_, settings_, remote, domain_, user_[0] ? user_ : NULL,
		                                handedOver_ ? password_ : NULL, &cred_);
		if (FAILED(hr))
			return hr;
	}
	return cred_->QueryInterface(IID_ICredentialProviderCredential, (void **)ppcpc);
}
