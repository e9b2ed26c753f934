/*
 * RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s) for the test harness only: it
 * computes the codes a person's authenticator app would show, from the
 * secret the daemon printed at enrollment. The DLL never computes codes.
 */
#ifndef JCMFA_TEST_TOTP_H
#define JCMFA_TEST_TOTP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The code for time step (unix seconds / 30) from a base32 secret, or -1 if
 * the secret is not valid base32. */
long totp_code(const char *base32_secret, int64_t step);

#ifdef __cplusplus
}
#endif

#endif
