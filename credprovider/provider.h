/*
 * The provider: tells LogonUI/CredUI which scenarios jcmfa serves, describes
 * the fields, and hands out the one credential (tile). A serialization
 * handed in (RDP/NLA through the filter, or CredUI's prefill) becomes that
 * credential's user and password; it never skips the daemon. A remote
 * smart card logon, or a password too long to hold, is refused with a
 * message on the tile.
 */
#ifndef JCMFA_PROVIDER_H
#define JCMFA_PROVIDER_H

#include "credential.h"

class Provider final : public ICredentialProvider {
public:
	static HRESULT Create(REFIID riid, void **ppv);

	STDMETHODIMP QueryInterface(REFIID riid, void **ppv) override;
	STDMETHODIMP_(ULONG) AddRef() override;
	STDMETHODIMP_(ULONG) Release() override;

	STDMETHODIMP SetUsageScenario(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD dwFlags) override;
	STDMETHODIMP SetSerialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs) override;
	STDMETHODIMP Advise(ICredentialProviderEvents *pcpe, UINT_PTR upAdviseContext) override;
	STDMETHODIMP UnAdvise() override;
	STDMETHODIMP GetFieldDescriptorCount(DWORD *pdwCount) override;
	STDMETHODIMP GetFieldDescriptorAt(DWORD dwIndex, CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR **ppcpfd) override;
	STDMETHODIMP GetCredentialCount(DWORD *pdwCount, DWORD *pdwDefault, BOOL *pbAutoLogonWithDefault) override;
	STDMETHODIMP GetCredentialAt(DWORD dwIndex, ICredentialProviderCredential **ppcpc) override;

private:
	Provider();
	~Provider();
	void DropCredential();
	HRESULT SetCredUISerialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs);

	LONG ref_;
	CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus_;
	DWORD flags_;
	Settings settings_;
	Credential *cred_;
	bool handedOver_; /* SetSerialization brought a complete logon */
	bool remote_;
	bool elevation_;  /* CPUS_CREDUI as SYSTEM (consent.exe): surface uac */
	bool inCred_;     /* CPUS_CREDUI: SetSerialization brought a usable user */
	/* A remote logon SetSerialization refused, and why (shown on the tile). */
	const wchar_t *notice_;
	wchar_t domain_[JCMFA_NAME_MAX + 1];
	wchar_t user_[JCMFA_NAME_MAX + 1];
	wchar_t password_[JCMFA_SECRET_MAX + 1];
};

#endif /* JCMFA_PROVIDER_H */
