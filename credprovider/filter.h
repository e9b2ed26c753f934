/*
 * The filter: with MFA on for this device, LogonUI and CredUI show only
 * jcmfa's tile and the providers the admin keeps (KeepProviders), so no
 * other provider is a way around the code. With MFA on it also
 * readdresses an RDP client's password logon (NLA or saved credentials)
 * to jcmfa's provider, unchanged but for the provider's class ID, so it
 * reaches the daemon instead of Windows' password provider (which would
 * log it straight in); see UpdateRemoteCredential for what it declines.
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
