/*
 * The DLL's only conversation partner: the daemon, over its named pipe.
 * A login is relayed with jcmfa_wire's dialogue; the filter's question
 * ("is MFA on for this device?") is one admin command, settings.get.
 */
#ifndef JCMFA_RELAY_H
#define JCMFA_RELAY_H

#include "settings.h"

extern "C" {
#include "jcmfa_wire.h"
}

struct RelayResult {
	enum jcmfa_verdict verdict;
	int err;              /* jcmfa_err of a local outcome (BROKEN, cancelled) */
	DWORD winerr;         /* the pipe's GetLastError() when it broke */
	bool challenged;      /* the daemon asked for a code */
	bool absent;          /* no daemon at all: no pipe, no published name */
	bool answered;        /* ... and got the code we had */
	char reason[JCMFA_REASON_MAX];
	wchar_t message[1024]; /* INFO/ERROR texts, newest last, for the status line */
	bool isError;          /* message holds an ERROR */
	wchar_t prompt[256];   /* the ASK text, to label the code step */
};

/*
 * Runs one login dialogue for login (the normalised name) on surface. code
 * is the verification code the person typed, or NULL when none was asked
 * for yet: then the first ASK ends the dialogue (the daemon counts a closed
 * connection as nothing tried) and res->challenged says a code is needed.
 */
void RelayLogin(const Settings &s, const wchar_t *login, const char *surface, const char *service,
                const wchar_t *code, RelayResult *res);

/* 1 if TOTP is on for the org and MFA on for this device, 0 if not, -1 if
 * the daemon could not be asked; then *absent says whether it is absent
 * (no pipe, no published name) rather than busy, slow or an impostor. */
int RelayMfaOn(const Settings &s, bool *absent);

#endif /* JCMFA_RELAY_H */
