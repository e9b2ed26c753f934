/*
 * The credential tile's fields: one table the provider describes to LogonUI
 * and the credential fills, as in SampleV2CredentialProvider.
 *
 * Step 1 shows user name and password; step 2 (only when the daemon asked
 * for a code) hides them and shows the verification code. An RDP/NLA
 * login arrives with user and password already known and starts at step 2.
 */
#ifndef JCMFA_FIELDS_H
#define JCMFA_FIELDS_H

#include "cp.h"

enum FieldId {
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
};

static const FieldDescriptor kFields[FI_COUNT] = {
	{FI_TITLE, CPFT_LARGE_TEXT, L"Sign in"},
	{FI_USER, CPFT_EDIT_TEXT, L"User name"},
	{FI_PASSWORD, CPFT_PASSWORD_TEXT, L"Password"},
	/* A password field: the code is a secret for its 30 seconds. */
	{FI_CODE, CPFT_PASSWORD_TEXT, L"Verification code"},
	{FI_MESSAGE, CPFT_SMALL_TEXT, L"Message"},
	{FI_SUBMIT, CPFT_SUBMIT_BUTTON, L"Submit"},
};

#endif /* JCMFA_FIELDS_H */
