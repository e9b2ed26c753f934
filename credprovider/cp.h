/*
 * The parts of credentialprovider.h (credentialprovider.idl) that jcmfa uses.
 * Neither mingw-w64 nor wine ships that header, so the interfaces, enums,
 * structs and IIDs are declared here from Microsoft's documentation. The
 * method order of each interface is its vtable layout: it must match the
 * IDL exactly, or LogonUI calls the wrong method.
 */
#ifndef JCMFA_CP_H
#define JCMFA_CP_H

#include <windows.h>
#include <unknwn.h>

typedef enum _CREDENTIAL_PROVIDER_USAGE_SCENARIO {
	CPUS_INVALID = 0,
	CPUS_LOGON,
	CPUS_UNLOCK_WORKSTATION,
	CPUS_CHANGE_PASSWORD,
	CPUS_CREDUI,
	CPUS_PLAP
} CREDENTIAL_PROVIDER_USAGE_SCENARIO;

typedef enum _CREDENTIAL_PROVIDER_FIELD_TYPE {
	CPFT_INVALID = 0,
	CPFT_LARGE_TEXT,
	CPFT_SMALL_TEXT,
	CPFT_COMMAND_LINK,
	CPFT_EDIT_TEXT,
	CPFT_PASSWORD_TEXT,
	CPFT_TILE_IMAGE,
	CPFT_CHECKBOX,
	CPFT_COMBOBOX,
	CPFT_SUBMIT_BUTTON
} CREDENTIAL_PROVIDER_FIELD_TYPE;

typedef enum _CREDENTIAL_PROVIDER_FIELD_STATE {
	CPFS_HIDDEN = 0,
	CPFS_DISPLAY_IN_SELECTED_TILE,
	CPFS_DISPLAY_IN_DESELECTED_TILE,
	CPFS_DISPLAY_IN_BOTH
} CREDENTIAL_PROVIDER_FIELD_STATE;

typedef enum _CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE {
	CPFIS_NONE = 0,
	CPFIS_READONLY,
	CPFIS_DISABLED,
	CPFIS_FOCUSED
} CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE;

typedef struct _CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR {
	DWORD dwFieldID;
	CREDENTIAL_PROVIDER_FIELD_TYPE cpft;
	LPWSTR pszLabel;
	GUID guidFieldType;
} CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR;

typedef enum _CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE {
	CPGSR_NO_CREDENTIAL_NOT_FINISHED = 0,
	CPGSR_NO_CREDENTIAL_FINISHED,
	CPGSR_RETURN_CREDENTIAL_FINISHED,
	/* Not used by jcmfa; declared so the enum is complete (it forces
	 * LogonUI to return, credentialprovider.idl, Windows 8 and later). */
	CPGSR_RETURN_NO_CREDENTIAL_FINISHED
} CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE;

typedef enum _CREDENTIAL_PROVIDER_STATUS_ICON {
	CPSI_NONE = 0,
	CPSI_ERROR,
	CPSI_WARNING,
	CPSI_SUCCESS
} CREDENTIAL_PROVIDER_STATUS_ICON;

typedef struct _CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION {
	ULONG ulAuthenticationPackage;
	GUID clsidCredentialProvider;
	ULONG cbSerialization;
	byte *rgbSerialization;
} CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION;

#define CREDENTIAL_PROVIDER_NO_DEFAULT ((DWORD)-1)

/* SetUsageScenario flags (CREDUIWIN_* as passed to providers), with their
 * meaning from the ICredentialProvider::SetUsageScenario documentation
 * (MicrosoftDocs/sdk-api, nf-credentialprovider-icredentialprovider-
 * setusagescenario.md):
 *   GENERIC        return the user name and password in plain text;
 *   AUTHPACKAGE_ONLY  only providers that support the input authentication
 *                  package are enumerated (see Provider::SetSerialization);
 *   IN_CRED_ONLY   enumerate a tile for the input credential, no other;
 *   PACK_32_WOW    buffers in and out are 32-bit. */
#define CREDUIWIN_GENERIC 0x00000001
#define CREDUIWIN_AUTHPACKAGE_ONLY 0x00000010
#define CREDUIWIN_IN_CRED_ONLY 0x00000020
#define CREDUIWIN_PACK_32_WOW 0x10000000

/* CredPackAuthenticationBuffer flags (wincred.h; MicrosoftDocs/sdk-api,
 * nf-wincred-credpackauthenticationbufferw.md). Neither is set: a Negotiate
 * (KERB_INTERACTIVE_LOGON) buffer. Not in every mingw-w64 wincred.h. */
#ifndef CRED_PACK_PROTECTED_CREDENTIALS
#define CRED_PACK_PROTECTED_CREDENTIALS 0x1
#endif
#ifndef CRED_PACK_GENERIC_CREDENTIALS
#define CRED_PACK_GENERIC_CREDENTIALS 0x4
#endif

struct ICredentialProviderCredentialEvents;
struct ICredentialProviderEvents;

struct ICredentialProviderCredential : public IUnknown {
	virtual HRESULT STDMETHODCALLTYPE Advise(ICredentialProviderCredentialEvents *pcpce) = 0;
	virtual HRESULT STDMETHODCALLTYPE UnAdvise() = 0;
	virtual HRESULT STDMETHODCALLTYPE SetSelected(BOOL *pbAutoLogon) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetDeselected() = 0;
	virtual HRESULT STDMETHODCALLTYPE GetFieldState(DWORD dwFieldID, CREDENTIAL_PROVIDER_FIELD_STATE *pcpfs,
	                                                CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE *pcpfis) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetStringValue(DWORD dwFieldID, LPWSTR *ppsz) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetBitmapValue(DWORD dwFieldID, HBITMAP *phbmp) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetCheckboxValue(DWORD dwFieldID, BOOL *pbChecked, LPWSTR *ppszLabel) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetSubmitButtonValue(DWORD dwFieldID, DWORD *pdwAdjacentTo) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetComboBoxValueCount(DWORD dwFieldID, DWORD *pcItems, DWORD *pdwSelectedItem) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetComboBoxValueAt(DWORD dwFieldID, DWORD dwItem, LPWSTR *ppszItem) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetStringValue(DWORD dwFieldID, LPCWSTR psz) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetCheckboxValue(DWORD dwFieldID, BOOL bChecked) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetComboBoxSelectedValue(DWORD dwFieldID, DWORD dwSelectedItem) = 0;
	virtual HRESULT STDMETHODCALLTYPE CommandLinkClicked(DWORD dwFieldID) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetSerialization(CREDENTIAL_PROVIDER_GET_SERIALIZATION_RESPONSE *pcpgsr,
	                                                   CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs,
	                                                   LPWSTR *ppszOptionalStatusText,
	                                                   CREDENTIAL_PROVIDER_STATUS_ICON *pcpsiOptionalStatusIcon) = 0;
	virtual HRESULT STDMETHODCALLTYPE ReportResult(LONG ntsStatus, LONG ntsSubstatus, LPWSTR *ppszOptionalStatusText,
	                                               CREDENTIAL_PROVIDER_STATUS_ICON *pcpsiOptionalStatusIcon) = 0;
};

struct ICredentialProviderCredentialEvents : public IUnknown {
	virtual HRESULT STDMETHODCALLTYPE SetFieldState(ICredentialProviderCredential *pcpc, DWORD dwFieldID,
	                                                CREDENTIAL_PROVIDER_FIELD_STATE cpfs) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetFieldInteractiveState(ICredentialProviderCredential *pcpc, DWORD dwFieldID,
	                                                           CREDENTIAL_PROVIDER_FIELD_INTERACTIVE_STATE cpfis) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetFieldString(ICredentialProviderCredential *pcpc, DWORD dwFieldID, LPCWSTR psz) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetFieldCheckbox(ICredentialProviderCredential *pcpc, DWORD dwFieldID, BOOL bChecked,
	                                                   LPCWSTR pszLabel) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetFieldBitmap(ICredentialProviderCredential *pcpc, DWORD dwFieldID, HBITMAP hbmp) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetFieldComboBoxSelectedItem(ICredentialProviderCredential *pcpc, DWORD dwFieldID,
	                                                               DWORD dwSelectedItem) = 0;
	virtual HRESULT STDMETHODCALLTYPE DeleteFieldComboBoxItem(ICredentialProviderCredential *pcpc, DWORD dwFieldID,
	                                                          DWORD dwItem) = 0;
	virtual HRESULT STDMETHODCALLTYPE AppendFieldComboBoxItem(ICredentialProviderCredential *pcpc, DWORD dwFieldID,
	                                                          LPCWSTR pszItem) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetFieldSubmitButton(ICredentialProviderCredential *pcpc, DWORD dwFieldID,
	                                                       DWORD dwAdjacentTo) = 0;
	virtual HRESULT STDMETHODCALLTYPE OnCreatingWindow(HWND *phwndOwner) = 0;
};

struct ICredentialProvider : public IUnknown {
	virtual HRESULT STDMETHODCALLTYPE SetUsageScenario(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD dwFlags) = 0;
	virtual HRESULT STDMETHODCALLTYPE SetSerialization(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcs) = 0;
	virtual HRESULT STDMETHODCALLTYPE Advise(ICredentialProviderEvents *pcpe, UINT_PTR upAdviseContext) = 0;
	virtual HRESULT STDMETHODCALLTYPE UnAdvise() = 0;
	virtual HRESULT STDMETHODCALLTYPE GetFieldDescriptorCount(DWORD *pdwCount) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetFieldDescriptorAt(DWORD dwIndex, CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR **ppcpfd) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetCredentialCount(DWORD *pdwCount, DWORD *pdwDefault, BOOL *pbAutoLogonWithDefault) = 0;
	virtual HRESULT STDMETHODCALLTYPE GetCredentialAt(DWORD dwIndex, ICredentialProviderCredential **ppcpc) = 0;
};

struct ICredentialProviderEvents : public IUnknown {
	virtual HRESULT STDMETHODCALLTYPE CredentialsChanged(UINT_PTR upAdviseContext) = 0;
};

struct ICredentialProviderFilter : public IUnknown {
	virtual HRESULT STDMETHODCALLTYPE Filter(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, DWORD dwFlags, GUID *rgclsidProviders,
	                                         BOOL *rgbAllow, DWORD cProviders) = 0;
	virtual HRESULT STDMETHODCALLTYPE UpdateRemoteCredential(const CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsIn,
	                                                         CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *pcpcsOut) = 0;
};

/* Interface IDs, from credentialprovider.idl. */
static const IID IID_ICredentialProviderCredential =
	{0x63913a93, 0x40c1, 0x481a, {0x81, 0x8d, 0x40, 0x72, 0xff, 0x8c, 0x70, 0xcc}};
static const IID IID_ICredentialProviderCredentialEvents =
	{0xfa6fa76b, 0x66b7, 0x4b11, {0x95, 0xf1, 0x86, 0x17, 0x11, 0x18, 0xe8, 0x16}};
static const IID IID_ICredentialProvider =
	{0xd27c3481, 0x5a1c, 0x45b2, {0x8a, 0xaa, 0xc2, 0x0e, 0xbb, 0xe8, 0x22, 0x9e}};
static const IID IID_ICredentialProviderEvents =
	{0x34201e5a, 0xa787, 0x41a3, {0xa5, 0xa4, 0xbd, 0x6d, 0xcf, 0x2a, 0x85, 0x4e}};
static const IID IID_ICredentialProviderFilter =
	{0xa5da53f9, 0xd475, 0x4080, {0xa1, 0x20, 0x91, 0x0c, 0x4a, 0x73, 0x98, 0x80}};

/* Field type GUIDs (CREDENTIAL_PROVIDER_FIELD_DESCRIPTOR.guidFieldType), from
 * shlguid.h: Windows 8+ shows the CPFT_TILE_IMAGE field with the LOGO GUID
 * as the provider's icon under "Sign-in options" and the CPFT_SMALL_TEXT
 * field with the LABEL GUID as its name when hovered (Microsoft's
 * ICredentialProviderCredential2 documentation), as Microsoft's
 * SampleV2CredentialProvider sets them
 * (microsoft/Windows-classic-samples, Samples/CredentialProvider/cpp/common.h). */
static const GUID CPFG_CREDENTIAL_PROVIDER_LOGO =
	{0x2d837775, 0xf6cd, 0x464e, {0xa7, 0x45, 0x48, 0x2f, 0xd0, 0xb4, 0x74, 0x93}};
static const GUID CPFG_CREDENTIAL_PROVIDER_LABEL =
	{0x286bbff3, 0xbad4, 0x438f, {0xb0, 0x07, 0x79, 0xb7, 0x26, 0x7c, 0x3d, 0x48}};

#endif /* JCMFA_CP_H */
