/*
 * jcmfa_wire: the client side of the jcmfa local channel (docs/protocol.md),
 * shared by every native login shim (PAM module, macOS authorization plugin,
 * Windows credential provider).
 *
 * Three layers, each usable alone:
 *   - codec: percent-encoding, strict parsing of one line, building one line;
 *   - dialogue: jcmfa_login() drives HELLO/LOGIN and relays INFO/ERROR/ASK
 *     to callbacks until a VERDICT, over any byte transport (struct jcmfa_io);
 *   - POSIX transport: connect to a Unix socket and read/write with deadlines
 *     (compiled only where <sys/socket.h> exists; JCMFA_NO_POSIX drops it).
 *
 * The codec and the dialogue are plain C99 with no globals, no threads and no
 * heap, so a Windows (C++) or macOS host can link them unchanged. Every buffer
 * is a bounded array in a caller-owned struct or on the stack.
 */
#ifndef JCMFA_WIRE_H
#define JCMFA_WIRE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* protocol.md "Framing": a line is at most 4096 bytes including its '\n'. */
#define JCMFA_LINE_MAX 4096
#define JCMFA_VERB_MAX 16
#define JCMFA_KEY_MAX 32
/* A client-side bound, not a protocol one: no version-1 line needs more than
 * a handful of fields; a line with more is refused rather than truncated. */
#define JCMFA_FIELDS_MAX 64
/* protocol.md: user is 1-256 bytes. Optional LOGIN values get the same bound
 * so that a LOGIN line with every value fully encoded still fits in a line. */
#define JCMFA_VALUE_MAX 256
/* Largest answer a person can give, before encoding (a code is 6-8 digits;
 * the room is for pasted junk, which the daemon then refuses). */
#define JCMFA_ANSWER_MAX 1024
#define JCMFA_REASON_MAX 64
/* A daemon that keeps talking must not keep a login open forever: enrollment
 * sends one INFO per QR row (~60), so this leaves ample room. */
#define JCMFA_MESSAGES_MAX 1000

#define JCMFA_PROTOCOL_VERSION "1"

/* Errors. Zero is success; every failure is a distinct negative value so a
 * shim can log exactly what went wrong. */
enum jcmfa_err {
	JCMFA_OK = 0,
	JCMFA_E_TOOLONG = -1,   /* line longer than JCMFA_LINE_MAX, or no room */
	JCMFA_E_SYNTAX = -2,    /* framing: spaces, verb, key, control byte */
	JCMFA_E_ESCAPE = -3,    /* bad %XX escape */
	JCMFA_E_TEXT = -4,      /* decoded value is not UTF-8 text (or has NUL) */
	JCMFA_E_DUPKEY = -5,    /* a key repeated on one line */
	JCMFA_E_FIELDS = -6,    /* more than JCMFA_FIELDS_MAX fields */
	JCMFA_E_PROTOCOL = -7,  /* well-formed line that is wrong here */
	JCMFA_E_VERSION = -8,   /* daemon answered HELLO with another version */
	JCMFA_E_CLOSED = -9,    /* peer closed before a complete line/VERDICT */
	JCMFA_E_TIMEOUT = -10,  /* a read or write missed its deadline */
	JCMFA_E_IO = -11,       /* read/write/socket error (see errno) */
	JCMFA_E_CONNECT = -12,  /* could not connect to the daemon */
	JCMFA_E_REQUEST = -13,  /* our own LOGIN request is invalid (bad user) */
	JCMFA_E_CONV = -14,     /* the host could not talk to the person */
	JCMFA_E_CANCELLED = -15,/* the person cancelled a prompt */
	JCMFA_E_CHATTY = -16    /* more than JCMFA_MESSAGES_MAX daemon lines */
};

const char *jcmfa_strerror(int err);

/* ---- codec ---------------------------------------------------------------- */

/*
 * Percent-encodes src[0..len) into dst as protocol.md requires (every byte
 * outside 0x21-0x7E, '%', and also '=' so positional words stay unambiguous)
 * and NUL-terminates it. Returns the encoded length, or JCMFA_E_TOOLONG if
 * dst (cap bytes, including the NUL) is too small; dst is then "".
 */
long jcmfa_encode(char *dst, size_t cap, const char *src, size_t len);

/*
 * Decodes %XX escapes in src[0..len) into dst (cap bytes; dst may equal src:
 * decoding never grows) and NUL-terminates it. Rejects raw bytes that must
 * have been encoded (outside 0x21-0x7E), bad escapes, a decoded NUL and
 * decoded bytes that are not valid UTF-8. On success stores the decoded
 * length in *out_len (may be NULL) and returns JCMFA_OK.
 */
int jcmfa_decode(char *dst, size_t cap, const char *src, size_t len, size_t *out_len);

/* True if s[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int jcmfa_utf8_valid(const char *s, size_t len);

/*
 * True if s[0..len) may be sent as a LOGIN value (user, service, surface,
 * rhost, tty): valid UTF-8 with no control characters, 1..JCMFA_VALUE_MAX bytes.
 */
int jcmfa_login_value_ok(const char *s, size_t len);

/* One field of a parsed line: key is NULL for a positional word. Both point
 * into the owning jcmfa_msg and are NUL-terminated. */
struct jcmfa_field {
	const char *key;
	const char *val;
	size_t val_len;
};

struct jcmfa_msg {
	char verb[JCMFA_VERB_MAX + 1];
	size_t nfields;
	struct jcmfa_field f[JCMFA_FIELDS_MAX];
	char buf[JCMFA_LINE_MAX]; /* decoded keys and values live here */
};

/*
 * Parses one complete line (len bytes, the last of which must be '\n') into
 * m, decoding every value. Strict per protocol.md "Framing": at most
 * JCMFA_LINE_MAX bytes, exactly one '\n' at the end, no CR or other control
 * byte, verb of 1-16 A-Z, single spaces, keys of 1-32 [a-z0-9_], no repeated
 * key. A token with '=' is key=value; one without is a positional word, and
 * positional words must all come before the first key=value.
 * Returns JCMFA_OK or a negative jcmfa_err; m is unusable after a failure.
 */
int jcmfa_parse(struct jcmfa_msg *m, const char *line, size_t len);

/* The decoded value of key in m, or NULL if absent. *len may be NULL. */
const char *jcmfa_msg_get(const struct jcmfa_msg *m, const char *key, size_t *len);
/* Number of positional words in m, and the i-th one (NULL if out of range). */
size_t jcmfa_msg_npos(const struct jcmfa_msg *m);
const char *jcmfa_msg_pos(const struct jcmfa_msg *m, size_t i);

/* Builds one outgoing line. Each call appends; the first error sticks and
 * jcmfa_line_end() reports it, so callers check once. */
struct jcmfa_line {
	char b[JCMFA_LINE_MAX + 1];
	size_t n;
	int err;
};
void jcmfa_line_begin(struct jcmfa_line *l, const char *verb);
void jcmfa_line_word(struct jcmfa_line *l, const char *word, size_t len);
void jcmfa_line_field(struct jcmfa_line *l, const char *key, const char *val, size_t len);
/* Appends '\n'. Returns JCMFA_OK or the first error; the line is l->b[0..l->n). */
int jcmfa_line_end(struct jcmfa_line *l);

/* Overwrites n bytes at p in a way the compiler may not elide. */
void jcmfa_wipe(void *p, size_t n);

/* ---- dialogue ------------------------------------------------------------- */

/*
 * A byte transport. read() returns the number of bytes read (> 0), 0 when
 * the peer closed, or a negative jcmfa_err (JCMFA_E_TIMEOUT, JCMFA_E_IO).
 * arm() (may be NULL) is called before each daemon line is read: the
 * transport starts that line's deadline, so a daemon that trickles bytes
 * cannot stretch one read timeout into many. write_all() writes every byte
 * or returns a negative jcmfa_err.
 */
struct jcmfa_io {
	void *ctx;
	void (*arm)(void *ctx);
	long (*read)(void *ctx, char *buf, size_t cap);
	int (*write_all)(void *ctx, const char *buf, size_t len);
};

/* Return values of jcmfa_ui.ask(). */
enum { JCMFA_ASK_OK = 0, JCMFA_ASK_CANCEL = 1, JCMFA_ASK_FAIL = 2 };

/*
 * The host's side of the conversation with the person.
 * info()/error() show text (may contain '\n'); a non-zero return is logged by
 * the host but does not end the dialogue: a host that cannot show a message
 * may still be able to prompt, and the prompt is what decides.
 * ask() prompts with text, echoing input if echo is non-zero, and copies the
 * answer NUL-terminated into answer (cap bytes). It returns JCMFA_ASK_OK,
 * JCMFA_ASK_CANCEL (the person cancelled, or the answer does not fit) or
 * JCMFA_ASK_FAIL (the host's conversation broke). The caller wipes answer.
 */
struct jcmfa_ui {
	void *ctx;
	int (*info)(void *ctx, const char *text);
	int (*error)(void *ctx, const char *text);
	int (*ask)(void *ctx, int echo, const char *text, char *answer, size_t cap);
	/* Optional trace of each line's verb, for a host's debug log. It never
	 * sees values: INFO lines carry the TOTP secret during enrollment. */
	void (*trace)(void *ctx, int from_daemon, const char *verb);
};

struct jcmfa_request {
	const char *client;   /* HELLO client kind, e.g. "pam" */
	const char *user;     /* required */
	const char *service;  /* optional (NULL or "" to omit), as the rest */
	const char *surface;
	const char *rhost;
	const char *tty;
	int interactive;
};

enum jcmfa_verdict {
	JCMFA_ALLOW = 0,  /* second factor satisfied */
	JCMFA_SKIP = 1,   /* no second factor needed for this login */
	JCMFA_DENY = 2,   /* refuse: the daemon said so, or the person cancelled */
	JCMFA_BROKEN = 3  /* no decision: apply the host's fail mode */
};

struct jcmfa_result {
	enum jcmfa_verdict verdict;
	/* The daemon's reason word for ALLOW/SKIP/DENY, printable ASCII only
	 * (anything else becomes '?'), "" if it gave none or none was reached. */
	char reason[JCMFA_REASON_MAX];
	/* Why the outcome is local: JCMFA_OK when the daemon gave a VERDICT;
	 * otherwise the error (BROKEN), or E_CANCELLED / E_CONV / E_REQUEST (DENY). */
	int err;
	/* Non-zero once the daemon has sent an ASK: it had decided a second
	 * factor is needed, so a host should not fail open after this point. */
	int challenged;
	/* Non-zero when the transport found no daemon at all: no socket or
	 * pipe by that name, or (Linux) nothing listening on it. Set by the
	 * transport's connect (jcmfa_unix_login, the Windows pipe client);
	 * jcmfa_login leaves it 0. A daemon that is there but slow or full is
	 * never absent. */
	int absent;
};

/*
 * Runs one login dialogue over io. Fills *res and returns res->verdict.
 * Invalid optional request values are omitted (the host may check them first
 * with jcmfa_login_value_ok() to log it); an invalid user is JCMFA_DENY with
 * err JCMFA_E_REQUEST, nothing being sent. Does not close the transport.
 */
enum jcmfa_verdict jcmfa_login(const struct jcmfa_io *io, const struct jcmfa_ui *ui,
                               const struct jcmfa_request *req, struct jcmfa_result *res);

/*
 * protocol.md's fail-mode rule, for a result with no verdict (BROKEN): a
 * host lets the login through without a second factor only if its fail
 * mode is safe AND the daemon is absent (res->absent: no socket, nothing
 * listening). A daemon that is there but slow, full or garbled is never a
 * reason to fail open: any local user can make it so (a connection flood),
 * and failing open would then be a way around the code. challenged implies
 * not absent, and is checked as well so no transport can get it wrong.
 */
int jcmfa_fail_open(int failmode_safe, const struct jcmfa_result *res);

/* ---- POSIX transport ------------------------------------------------------ */

#if !defined(JCMFA_NO_POSIX) && !defined(_WIN32)
/* Transport state for a connected Unix socket; fill with jcmfa_unix_connect. */
struct jcmfa_unix {
	int fd;
	int timeout_ms;
	long long deadline_ms; /* monotonic; set by arm() */
};

/*
 * Connects to the Unix stream socket at path within timeout_ms, non-blocking
 * and close-on-exec, and sets up io to use it with timeout_ms per line read
 * and per write. Returns JCMFA_OK, JCMFA_E_TOOLONG (path does not fit
 * sun_path), JCMFA_E_CONNECT or JCMFA_E_TIMEOUT (errno says more).
 */
int jcmfa_unix_connect(struct jcmfa_unix *u, struct jcmfa_io *io, const char *path, int timeout_ms);
void jcmfa_unix_close(struct jcmfa_unix *u);

/*
 * One whole login over the Unix socket at path, as the PAM module and the
 * macOS plugin make it: connect, jcmfa_login, close. A failed connect is a
 * BROKEN result with its error. *saved_errno gets errno of a failed
 * connect or of a transport error mid-dialogue (for the host's log), else 0.
 */
enum jcmfa_verdict jcmfa_unix_login(const char *path, int timeout_ms, const struct jcmfa_ui *ui,
                                    const struct jcmfa_request *req, struct jcmfa_result *res,
                                    int *saved_errno);
#endif

#ifdef __cplusplus
}
#endif

#endif /* JCMFA_WIRE_H */
