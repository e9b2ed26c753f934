/*
 * Helpers the provider and the credential share, kept apart as in
 * Microsoft's SampleV2CredentialProvider: packing and unpacking
 * KERB_INTERACTIVE_UNLOCK_LOGON, the Negotiate package ID, user-name
 * normalisation, and string copies LogonUI frees with CoTaskMemFree.
 */
#ifndef JCMFA_HELPERS_H
#define JCMFA_HELPERS_H

#include "cp.h"

/* Bounds for every string the DLL holds. Windows caps user names at 256
 * characters (UNLEN) and passwords at 256 (PWLEN, lmcons.h). A password
 * can also reach the DLL already protected: an RDP client's password
 * arrives through the filter as CredProtectW output (the sample's
 * ProtectIfNecessaryAndCopyPassword comment), which is longer than the
 * password it protects. Microsoft documents no size for that output
 * (CredProtectW documentation: the caller asks for the size); it is a
 * text encoding of the encrypted UTF-16 bytes, so for a 256-character
 * password (514 bytes with the NUL, 528 padded to the 16-byte block of
 * CryptProtectMemory) plus a header it stays near 1000 characters even at
 * 6 bits a character. JCMFA_SECRET_MAX leaves twice that: a longer one is
 * refused with a message (Provider::SetSerialization), never cut. */
#define JCMFA_NAME_MAX 256
#define JCMFA_SECRET_MAX 2048

/* A user as typed (or as handed over by RDP), split for LSA and named for
 * the daemon. */
struct Account {
	wchar_t domain[JCMFA_NAME_MAX + 1]; /* for KERB: computer name for local accounts, "" for a UPN */
	wchar_t user[JCMFA_NAME_MAX + 1];   /* for KERB: as typed */
	wchar_t login[2 * JCMFA_NAME_MAX + 2]; /* for the daemon and ExcludedAccounts: lower case, see .cpp */
};

/* Splits and normalises typed ("alice", ".\alice", "HOST\alice",
 * "CORP\alice", "alice@corp.example"). False if it is empty or too long. */
bool ParseAccount(const wchar_t *typed, Account *a);
/* Same, from a domain and user that arrived separately (an RDP serialization). */
bool AccountFromParts(const wchar_t *domain, const wchar_t *user, Account *a);

/* A CoTaskMemAlloc'ed copy of s, for out-parameters LogonUI frees. */
HRESULT DupString(const wchar_t *s, wchar_t **out);

/* Overwrites a secret in a way the compiler keeps. */
void Wipe(void *p, size_t n);

/* UTF-16 <-> UTF-8 into fixed buffers; false if it does not fit or is invalid. */
bool ToUtf8(const wchar_t *w, char *out, size_t cap);
bool FromUtf8(const char *s, wchar_t *out, size_t cap);

/* The Negotiate package's ID from LSA, which LogonUI hands the packed
 * credential to. */
HRESULT NegotiatePackage(ULONG *id);

/* KerbInteractiveLogon for logon and CredUI, KerbWorkstationUnlockLogon for
 * unlock. The buffer is CoTaskMemAlloc'ed: the structure, then the three
 * strings, each Buffer holding its offset from the start (how LSA expects a
 * serialized logon). */
HRESULT PackKerbLogon(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, const wchar_t *domain, const wchar_t *user,
                      const wchar_t *password, BYTE **out, ULONG *outLen);

/* The reverse, with every offset and length checked against len:
 * E_INVALIDARG for anything malformed, JCMFA_E_SECRET_TOO_LONG for a
 * well-formed logon whose password exceeds JCMFA_SECRET_MAX. */
HRESULT UnpackKerbLogon(const BYTE *buf, ULONG len, wchar_t *domain, wchar_t *user, wchar_t *password);
#define JCMFA_E_SECRET_TOO_LONG HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)

/*
 * What a serialization is, by its content: every KERB_*_LOGON structure
 * starts with its KERB_LOGON_SUBMIT_TYPE (ntsecapi.h).
 *   LOGON_PASSWORD  KerbInteractiveLogon (2) or KerbWorkstationUnlockLogon
 *                   (7): a KERB_INTERACTIVE_UNLOCK_LOGON with a user name
 *                   and password, what an RDP client with NLA sends;
 *   LOGON_CARD      KerbSmartCardLogon (6), KerbSmartCardUnlockLogon (8),
 *                   KerbCertificateLogon (13) or KerbCertificateUnlockLogon
 *                   (15): a smart card (PIN and CSP data, no password);
 *   LOGON_OTHER     anything else, or too short to tell.
 */
enum LogonKind { LOGON_OTHER, LOGON_PASSWORD, LOGON_CARD };
LogonKind KindOfLogon(const BYTE *buf, ULONG len);

/*
 * Who this code runs as, from the effective token: the thread's
 * impersonation token if it has one, else the process's (the token Windows
 * checks when the DLL opens the daemon's pipe). CredUI loads providers into
 * the process that asks for credentials, so in CPUS_CREDUI this is that
 * process; LogonUI always runs as SYSTEM.
 *   CALLER_SYSTEM  the token's user is LocalSystem (S-1-5-18): LogonUI, or
 *                  consent.exe showing an elevation prompt;
 *   CALLER_ADMIN   the Administrators group is enabled in the token (an
 *                  elevated process: under UAC a non-elevated administrator
 *                  holds it only as deny-only, so it does not count);
 *   CALLER_USER    anything else.
 * SYSTEM and Administrators are exactly the two principals the daemon's
 * pipe admits (pipeSDDL, internal/ipc/listen_windows.go): a CALLER_USER
 * process could never reach the daemon.
 */
enum Caller { CALLER_USER, CALLER_ADMIN, CALLER_SYSTEM };
Caller EffectiveCaller();

/* The password as the sample's ProtectIfNecessaryAndCopyPassword hands it
 * to LSA: CoTaskMemAlloc'ed; see helpers.cpp. */
HRESULT ProtectIfNecessary(CREDENTIAL_PROVIDER_USAGE_SCENARIO cpus, const wchar_t *pw, wchar_t **out);

#endif /* JCMFA_HELPERS_H */
