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

/* 1 if the filter is to act (MFA on, or the daemon cannot be asked and
 * is not absent under FailMode=safe), 0 if Windows is left as it is. */
static bool Filtering(const Settings &s)
{
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
	return !(on == 0 || (on < 0 && jcmfa_fail_open(s.failSafe, &r)));
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
	if (!Filtering(s))
		return S_OK;
	/* Ours, and exactly the providers the admin listed in KeepProviders
	 * (each a way around the code: doctor says so). */
	for (DWORD i = 0; i < cProviders; i++)
		if (!IsEqualCLSID(rgclsidProviders[i], CLSID_JcmfaProvider) && !s.Keeps(rgclsidProviders[i]))
			rgbAllow[i] = FALSE;
	return S_OK;
}

/*
 * An RDP client's credential (NLA, or typed into the client and sent with
 * the connection) comes here before any tile exists. As the open-source
 * filters do (privacyidea/privacyidea-credential-provider,
 * CredentialProviderFilter/CCredentialProviderFilter.cpp), an accepted
 * serialization goes on byte for byte, in a fresh CoTaskMemAlloc'ed copy
 * (LogonUI frees it), with only clsidCredentialProvider changed to ours.
 * Nothing is added to it: our provider knows it by its content
 * (KindOfLogon) and by having been handed it at all (Provider::
 * SetSerialization), not by a private mark.
 *
 * E_NOTIMPL, with *pcpcsOut zeroed, is how the filter declines (the
 * open-source filters' answer for "no credential to update"): LogonUI then
 * keeps the serialization as the client sent it, for the provider it
 * names. That is safe whenever MFA is on, because Filter hides that
 * provider unless the admin keeps it. The filter declines:
 *  - when MFA is off for this device (or the daemon is absent under
 *    FailMode=safe: Filtering), where Windows' providers are all shown;
 *  - a package other than Negotiate (our provider packs and reads only
 *    Negotiate's KERB_INTERACTIVE_UNLOCK_LOGON) or content it does not
 *    know (LOGON_OTHER);
 *  - a smart card logon (LOGON_CARD) while KeepProviders keeps Windows'
 *    smart card provider: the admin chose to let the card in without a
 *    code, and the card, not a password, is what the person brought.
 *    Without that setting a card logon is readdressed to us like a
 *    password one, and our provider refuses it with a message (it cannot
 *    ask the daemon for a user the card does not name, nor replay a card
 *    logon): the person signs in with password and code instead, and the
 *    card never reaches a provider that would skip the code
 *    (docs/windows.md, "RDP and NLA").
 */
STDMETHODIMP JcmfaFilter::UpdateRemoteCredential(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsIn,
                                            CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsOut)
{
	if (pcpcsOut == NULL)
		return E_POINTER;
	memset(pcpcsOut, 0, sizeof *pcpcsOut);
	if (pcpcsIn == NULL || pcpcsIn->rgbSerialization == NULL || pcpcsIn->cbSerialization == 0 ||
	    pcpcsIn->cbSerialization > 0x10000)
		return E_NOTIMPL;
	ULONG pkg;
	if (FAILED(NegotiatePackage(&pkg)) || pkg != pcpcsIn->ulAuthenticationPackage)
		return E_NOTIMPL;
	LogonKind kind = KindOfLogon(pcpcsIn->rgbSerialization, pcpcsIn->cbSerialization);
	if (kind == LOGON_OTHER)
		return E_NOTIMPL;
	Settings s;
	s.Load();
	if (kind == LOGON_CARD && s.KeepsSmartCard())
		return E_NOTIMPL;
	if (!Filtering(s))
		return E_NOTIMPL;
	BYTE *b = (BYTE *)CoTaskMemAlloc(pcpcsIn->cbSerialization);
	if (b == NULL)
		return E_OUTOFMEMORY;
	memcpy(b, pcpcsIn->rgbSerialization, pcpcsIn->cbSerialization);
	pcpcsOut->ulAuthenticationPackage = pcpcsIn->ulAuthenticationPackage;
	pcpcsOut->clsidCredentialProvider = CLSID_JcmfaProvider;
	pcpcsOut->cbSerialization = pcpcsIn->cbSerialization;
	pcpcsOut->rgbSerialization = b;
	return S_OK;
}
