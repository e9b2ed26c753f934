/*
 * The login-window mechanism's logic, free of anything macOS-specific so
 * that the same object code runs in the Linux test harness:
 *
 *   plugin.c  the AuthorizationPlugin entry points: which account, which
 *             right, and SetResult;
 *   flow.c    one dialogue with the daemon, its prompts relayed to the
 *             person, its verdict (or the fail mode) turned into a result.
 *
 * What differs per host is behind the jcmfa_ap_host_* functions below:
 * ui_macos.c provides them in the bundle (AppKit prompt, CFPreferences,
 * getpwuid_r, syslog); harness/ap_harness.c provides scripted ones.
 */
#ifndef JCMFA_AUTHPLUGIN_FLOW_H
#define JCMFA_AUTHPLUGIN_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "authplugin_api.h"

#define JCMFA_AP_DEFAULT_SOCKET "/var/run/jcmfa/agent.sock"
#define JCMFA_AP_DEFAULT_TIMEOUT_S 10
#define JCMFA_AP_MAX_TIMEOUT_S 120
/* macOS sun_path holds 104 bytes including the NUL. */
#define JCMFA_AP_SOCKET_MAX 104
/* The only right this mechanism acts on (DESIGN.md: login window only). */
#define JCMFA_AP_LOGIN_RIGHT "system.login.console"
/*
 * How long a code prompt may stay open. The daemon waits at most 5 minutes
 * for an ANSWER (docs/protocol.md "Timeouts"; internal/ipc NewServer's
 * AnswerTimeout, which plugintest's TestPromptBoundIsBelowDaemonAnswerTimeout
 * holds this to) and then ends the login; authd itself waits for this
 * mechanism without any limit. The prompt closes 10 s before the daemon
 * gives up, so the plugin, not a dead channel, ends the login and says why.
 */
#define JCMFA_AP_DAEMON_ANSWER_TIMEOUT_S 300
#define JCMFA_AP_PROMPT_TIMEOUT_S (JCMFA_AP_DAEMON_ANSWER_TIMEOUT_S - 10)
/* A message shown after the verdict (why a code was refused) closes by
 * itself too: nobody may be there to press OK. */
#define JCMFA_AP_NOTICE_TIMEOUT_S 60
/* Room for the daemon's INFO/ERROR texts shown with the next prompt. */
#define JCMFA_AP_NOTES_MAX 2048

struct jcmfa_ap_config {
	char socket[JCMFA_AP_SOCKET_MAX];
	int timeout_s;
	int failmode_safe;
	int debug;
};

/* Secure defaults: the packaged socket, 10 s per daemon line, failmode=secure. */
void jcmfa_ap_config_defaults(struct jcmfa_ap_config *c);
/* Each setter checks its value and keeps the previous one (logging why) if
 * it is not acceptable: a typo in a preference must not lock out every
 * login, and each default is the secure choice. 0 if taken, -1 if not. */
int jcmfa_ap_config_socket(struct jcmfa_ap_config *c, const char *v);
int jcmfa_ap_config_timeout(struct jcmfa_ap_config *c, long v);
int jcmfa_ap_config_failmode(struct jcmfa_ap_config *c, const char *v);

/*
 * Runs one login dialogue for user with the daemon at cfg->socket and
 * returns the mechanism's result: Allow for allow and skip (this mechanism
 * only adds a factor; it never stands in for the password check before it),
 * Deny for deny, UserCanceled when the person cancelled the prompt, and the
 * fail mode when the daemon gave no decision.
 */
AuthorizationResult jcmfa_ap_verify(const struct jcmfa_ap_config *cfg, const char *user);

/* ---- provided by the host (ui_macos.c, or the test harness) ------------------ */

enum { JCMFA_AP_LOG_ERR = 3, JCMFA_AP_LOG_NOTICE = 5, JCMFA_AP_LOG_DEBUG = 7 };

/* Fills c (already holding the defaults) from the host's configuration. */
void jcmfa_ap_host_load_config(struct jcmfa_ap_config *c);
/* The account name of uid into name (cap bytes). 0 on success. */
int jcmfa_ap_host_user_for_uid(uint32_t uid, char *name, size_t cap);
/*
 * Asks the person for an answer: text is the daemon's prompt, detail the
 * daemon's messages since the last prompt ("" if none), for at most
 * timeout_s seconds. Copies the answer, NUL-terminated, into answer (cap
 * bytes). Returns JCMFA_ASK_OK, JCMFA_ASK_CANCEL (cancelled, or too long),
 * JCMFA_ASK_FAIL (no UI) or JCMFA_AP_PROMPT_TIMEOUT (nobody answered in
 * time; the prompt is closed).
 */
enum { JCMFA_AP_PROMPT_TIMEOUT = 3 }; /* beside jcmfa_wire.h's JCMFA_ASK_* (0..2) */
int jcmfa_ap_host_prompt(int echo, const char *text, const char *detail, int timeout_s, char *answer,
                         size_t cap);
/* Shows the daemon's last messages when no prompt follows them, for at
 * most JCMFA_AP_NOTICE_TIMEOUT_S. */
void jcmfa_ap_host_notice(const char *text);
/* Logs one line; never sees an answer or a secret. */
void jcmfa_ap_host_log(int level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#endif /* JCMFA_AUTHPLUGIN_FLOW_H */
