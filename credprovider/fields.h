/*
 * The credential tile's fields: one table the provider describes to LogonUI
 * and the credential fills, as in SampleV2CredentialProvider.
 *
 * Step 1 shows user name and password; step 2 (only when the daemon asked
 * for a code) hides them and shows the verification code. An RDP/NLA
 * login arrives with user and password already known and starts at step 2.
 * The logo and label carry the V2 field GUIDs (cp.h), so Windows 10/11 shows
 * jcmfa's icon and name among the sign-in options like other providers'.
 */
#ifndef JCMFA_FIELDS_H
#define JCMFA_FIELDS_H

#include "cp.h"

enum FieldId {
	FI_LOGO,     /* tile image, CPFG_CREDENTIAL_PROVIDER_LOGO */
	FI_LABEL,    /* hidden small text, CPFG_CREDENTIAL_PROVIDER_LABEL: the provider's name */
	FI_TITLE,    /* large text: what this tile is */
	FI_USER,     /* step 1 */
	FI_PASSWORD, /* step 1 */
	FI_CODE,     /* step 2 */
	FI_MESSAGE,  /* small text: the daemon's prompt or notes */
	FI_SUBMIT,
	FI_COUNT
};

struct FieldDescriptor {
	DWORD id;
	CREDENTIAL_PROVIDER_FIELD_TYPE type;
	const wchar_t *label;
	const GUID *guid; /* guidFieldType, NULL for GUID_NULL */
};

static const FieldDescriptor kFields[FI_COUNT] = {
	{FI_LOGO, CPFT_TILE_IMAGE, L"jcmfa", &CPFG_CREDENTIAL_PROVIDER_LOGO},
	{FI_LABEL, CPFT_SMALL_TEXT, L"jcmfa verification code", &CPFG_CREDENTIAL_PROVIDER_LABEL},
	{FI_TITLE, CPFT_LARGE_TEXT, L"Sign in", NULL},
	{FI_USER, CPFT_EDIT_TEXT, L"User name", NULL},
	{FI_PASSWORD, CPFT_PASSWORD_TEXT, L"Password", NULL},
	/* A password field: the code is a secret for its 30 seconds. */
	{FI_CODE, CPFT_PASSWORD_TEXT, L"Verification code", NULL},
	{FI_MESSAGE, CPFT_SMALL_TEXT, L"Message", NULL},
	{FI_SUBMIT, CPFT_SUBMIT_BUTTON, L"Submit", NULL},
};

#endif /* JCMFA_FIELDS_H */
