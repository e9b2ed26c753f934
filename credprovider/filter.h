/*
 * The filter: with MFA on for this device, LogonUI and CredUI show only
 * jcmfa's tile, so no other provider is a way around the code. It also
 * readdresses every RDP/NLA serialization to jcmfa's provider, MFA on or
 * off, so a client's saved or NLA credentials reach the daemon instead of
 * Windows' password provider (which would log them straight in).
 */
#ifndef JCMFA_FILTER_H
#define JCMFA_FILTER_H

#include "cp.h"

class JcmfaFilter final : public ICredentialProviderFilter {
public:
	static HRESULT Create(REFIID riid, void **ppv);

	STDMETHODIMP QueryInterface(REFIID riid, void **ppv) override;
	STDMETHODIMP_(ULONG) AddRef() override;
	STDMETHODIMP_(ULONG) Release() override;

	STDMETHODIMP Filter(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD dwFlags, GUID *rgclsidProviders, BOOL *rgbAllow,
	                    DWORD cProviders) override;
	STDMETHODIMP UpdateRemoteCredential(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsIn,
	                                    CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsOut) override;

private:
	JcmfaFilter();
	~JcmfaFilter();
	LONG ref_;
};

#endif /* JCMFA_FILTER_H */
