#include "filter.h"
#include "guid.h"
#include "helpers.h"
#include "relay.h"
#include "settings.h"
#include "unknown.h"

#include <new>
#include <string.h>

extern void DllAddRef();
extern void DllRelease();

JcmfaFilter::JcmfaFilter() : ref_(1) { DllAddRef(); }
JcmfaFilter::~JcmfaFilter() { DllRelease(); }

HRESULT JcmfaFilter::Create(REFIID riid, void **ppv)
{
	JcmfaFilter *f = new (std::nothrow) JcmfaFilter();
	if (f == NULL)
		return E_OUTOFMEMORY;
	HRESULT hr = f->QueryInterface(riid, ppv);
	f->Release();
	return hr;
}

STDMETHODIMP JcmfaFilter::QueryInterface(REFIID riid, void **ppv)
{
	return QueryOne<ICredentialProviderFilter>(this, IID_ICredentialProviderFilter, riid, ppv);
}

STDMETHODIMP_(ULONG) JcmfaFilter::AddRef() { return AddRefCount(&ref_); }

STDMETHODIMP_(ULONG) JcmfaFilter::Release()
{
	ULONG n = ReleaseCount(&ref_);
	if (n == 0)
		delete this;
	return n;
}

STDMETHODIMP JcmfaFilter::Filter(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD dwFlags, GUID *rgclsidProviders,
                            BOOL *rgbAllow, DWORD cProviders)
{
	switch (cpus) {
	case CPUS_LOGON:
	case CPUS_UNLOCK_WORKSTATION:
		break;
	case CPUS_CREDUI:
		/* Our provider stays out of 32-bit CredUI callers (see
		 * Provider::SetUsageScenario), so hiding the rest would leave none. */
		if (dwFlags & CREDUIWIN_PACK_32_WOW)
			return S_OK;
		/* Nor does it serve a process that is neither SYSTEM nor elevated
		 * (it cannot reach the daemon; Provider::SetUsageScenario). */
		if (EffectiveCaller() == CALLER_USER)
			return S_OK;
		break;
	default:
		return S_OK; /* password change, PLAP: leave Windows' providers alone */
	}
	if (rgclsidProviders == NULL || rgbAllow == NULL)
		return E_INVALIDARG;
	Settings s;
	s.Load();
	bool absent = false;
	int on = RelayMfaOn(s, &absent);
	/* A daemon that cannot be asked counts as MFA on, unless it is absent
	 * and FailMode is safe (the rule every shim shares, jcmfa_fail_open):
	 * a busy, slow or impostor pipe keeps the other tiles hidden, and our
	 * tile still admits the excluded (break-glass) accounts. */
	struct jcmfa_result r;
	memset(&r, 0, sizeof r);
	r.verdict = JCMFA_BROKEN;
	r.absent = absent;
	if (on == 0 || (on < 0 && jcmfa_fail_open(s.failSafe, &r)))
		return S_OK;
	for (DWORD i = 0; i < cProviders; i++)
		if (!IsEqualCLSID(rgclsidProviders[i], CLSID_JcmfaProvider))
			rgbAllow[i] = FALSE;
	return S_OK;
}

STDMETHODIMP JcmfaFilter::UpdateRemoteCredential(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsIn,
                                            CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsOut)
{
	if (pcpcsIn == NULL || pcpcsOut == NULL || pcpcsIn->rgbSerialization == NULL || pcpcsIn->cbSerialization == 0 ||
	    pcpcsIn->cbSerialization > 0x10000)
		return E_INVALIDARG;
	ULONG len = pcpcsIn->cbSerialization + JCMFA_REMOTE_TAG_LEN;
	BYTE *b = (BYTE *)CoTaskMemAlloc(len);
	if (b == NULL)
		return E_OUTOFMEMORY;
	memcpy(b, JCMFA_REMOTE_TAG, JCMFA_REMOTE_TAG_LEN);
	memcpy(b + JCMFA_REMOTE_TAG_LEN, pcpcsIn->rgbSerialization, pcpcsIn->cbSerialization);
	pcpcsOut->ulAuthenticationPackage = pcpcsIn->ulAuthenticationPackage;
	pcpcsOut->clsidCredentialProvider = CLSID_JcmfaProvider;
	pcpcsOut->cbSerialization = len;
	pcpcsOut->rgbSerialization = b;
	return S_OK;
}
