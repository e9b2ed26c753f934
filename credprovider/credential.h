/*
 * The credential: the one tile jcmfa shows. It collects user, password and
 * (when the daemon asks) the code, relays the login to the daemon, and only
 * after VERDICT allow or skip packs KERB_INTERACTIVE_UNLOCK_LOGON for LSA,
 * which then checks the password as usual.
 */
#ifndef JCMFA_CREDENTIAL_H
#define JCMFA_CREDENTIAL_H

#include "cp.h"
#include "fields.h"
#include "helpers.h"
#include "settings.h"

class Credential final : public ICredentialProviderCredential {
public:
	/* remote: user and password came from an RDP/NLA client (either may
	 * be NULL otherwise); they are kept, never shown, and still need the
	 * daemon's verdict. flags: the CREDUIWIN_* flags of CPUS_CREDUI.
	 * elevation: CredUI runs as SYSTEM, i.e. in consent.exe (surface uac). */
	static HRESULT Create(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD flags, bool elevation, const Settings &s,
	                      bool remote, const wchar_t *domain, const wchar_t *user, const wchar_t *password,
	                      const wchar_t *notice, Credential **out);

	STDMETHODIMP QueryInterface(REFIID riid, void **ppv) override;
	STDMETHODIMP_(ULONG) AddRef() override;
	STDMETHODIMP_(ULONG) Release() override;

	STDMETHODIMP Advise(ICredentialProviderCredentialEvents *pcpce) override;
	STDMETHODIMP UnAdvise() override;
	STDMETHODIMP SetSelected(BOOL *pbAutoLogon) override;
	STDMETHODIMP SetDeselected() override;
	STDMETHODIMP GetFieldState(DWORD id, CREDENTIAL_PROVIDER_FIELD_STATE *pcpfs,
	                           CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE *pcpfis) override;
	STDMETHODIMP GetStringValue(DWORD id, LPWSTR *ppsz) override;
	STDMETHODIMP GetBitmapValue(DWORD id, HBITMAP *phbmp) override;
	STDMETHODIMP GetCheckboxValue(DWORD id, BOOL *pbChecked, LPWSTR *ppszLabel) override;
	STDMETHODIMP GetSubmitButtonValue(DWORD id, DWORD *pdwAdjacentTo) override;
	STDMETHODIMP GetComboBoxValueCount(DWORD id, DWORD *pcItems, DWORD *pdwSelectedItem) override;
	STDMETHODIMP GetComboBoxValueAt(DWORD id, DWORD dwItem, LPWSTR *ppszItem) override;
	STDMETHODIMP SetStringValue(DWORD id, LPCWSTR psz) override;
	STDMETHODIMP SetCheckboxValue(DWORD id, BOOL bChecked) override;
	STDMETHODIMP SetComboBoxSelectedValue(DWORD id, DWORD dwSelectedItem) override;
	STDMETHODIMP CommandLinkClicked(DWORD id) override;
	STDMETHODIMP GetSerialization(CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE *pcpgsr,
	                              CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs, LPWSTR *ppszOptionalStatusText,
	                              CREDENTIAL_PROVIDER_STATUS_ICON *pcpsiOptionalStatusIcon) override;
	STDMETHODIMP ReportResult(LONG ntsStatus, LONG ntsSubstatus, LPWSTR *ppszOptionalStatusText,
	                          CREDENTIAL_PROVIDER_STATUS_ICON *pcpsiOptionalStatusIcon) override;

private:
	Credential();
	~Credential();

	enum Step { STEP_PASSWORD, STEP_CODE };
	void SetStep(Step s);
	void SetMessage(const wchar_t *m);
	const char *Surface() const;
	HRESULT Pack(const Account &a, CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE *pcpgsr,
	             CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs);
	HRESULT PackCredUI(const Account &a, BYTE **buf, ULONG *len);
	void Reset();

	LONG ref_;
	CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus_;
	DWORD flags_;      /* CREDUIWIN_* in CPUS_CREDUI */
	bool elevation_;   /* CPUS_CREDUI as SYSTEM: consent.exe */
	Settings settings_;
	ICredentialProviderCredentialEvents *events_;
	bool remote_;      /* the login comes over RDP */
	bool handedOver_;  /* user and password came with the serialization */
	Step step_;
	wchar_t domain_[JCMFA_NAME_MAX + 1];   /* only with handedOver_ */
	wchar_t user_[2 * JCMFA_NAME_MAX + 2];
	wchar_t password_[JCMFA_SECRET_MAX + 1];
	wchar_t code_[64];
	wchar_t message_[1024];
};

#endif /* JCMFA_CREDENTIAL_H */
