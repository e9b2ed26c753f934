/*
 * Unit tests for jcmfa_wire: the codec against protocol.md "Framing", the
 * dialogue driver against a scripted daemon over an in-memory transport,
 * and the Unix-socket connect's reading of a missing, dead or full daemon.
 * Run: make -C internal/cshim test (it also builds this file with
 * -DJCMFA_CONNREFUSED_MAY_BE_FULL=1: the macOS rule, on Linux sockets).
 */
#define _POSIX_C_SOURCE 200809L

#include "jcmfa_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef JCMFA_CONNREFUSED_MAY_BE_FULL
#define JCMFA_CONNREFUSED_MAY_BE_FULL 0
#endif

static int failures;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			failures++;                                         \
			fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
		}                                                           \
	} while (0)

static int parse_str(struct jcmfa_msg *m, const char *s)
{
	return jcmfa_parse(m, s, strlen(s));
}

static void test_parse_valid(void)
{
	struct jcmfa_msg m;
	size_t n;
	const char *v;

	CHECK(parse_str(&m, "HELLO 1\n") == JCMFA_OK, "hello");
	CHECK(strcmp(m.verb, "HELLO") == 0, "verb %s", m.verb);
	CHECK(jcmfa_msg_npos(&m) == 1 && strcmp(jcmfa_msg_pos(&m, 0), "1") == 0, "pos");

	CHECK(parse_str(&m, "OK\n") == JCMFA_OK, "bare verb");
	CHECK(m.nfields == 0, "no fields");

	CHECK(parse_str(&m, "VERDICT allow reason=totp\n") == JCMFA_OK, "verdict");
	CHECK(strcmp(jcmfa_msg_pos(&m, 0), "allow") == 0, "word");
	CHECK(strcmp(jcmfa_msg_get(&m, "reason", NULL), "totp") == 0, "reason");
	CHECK(jcmfa_msg_get(&m, "nope", NULL) == NULL, "absent key");

	CHECK(parse_str(&m, "INFO text=a%20b%0Ac%3d%25 x_1=\n") == JCMFA_OK, "escapes");
	v = jcmfa_msg_get(&m, "text", &n);
	CHECK(v && n == 7 && memcmp(v, "a b\nc=%", 7) == 0, "decoded '%s'", v ? v : "(null)");
	v = jcmfa_msg_get(&m, "x_1", &n);
	CHECK(v && n == 0, "empty value");

	CHECK(parse_str(&m, "INFO text=%E2%96%88%e2%96%80 a=b=c\n") == JCMFA_OK, "utf8 lower hex");
	CHECK(strcmp(jcmfa_msg_get(&m, "text", NULL), "\xe2\x96\x88\xe2\x96\x80") == 0, "blocks");
	CHECK(strcmp(jcmfa_msg_get(&m, "a", NULL), "b=c") == 0, "value after first =");

	{
		/* exactly 4096 bytes including '\n' is allowed */
		char line[JCMFA_LINE_MAX];
		memset(line, 'x', sizeof line);
		memcpy(line, "INFO text=", 10);
		line[sizeof line - 1] = '\n';
		CHECK(jcmfa_parse(&m, line, sizeof line) == JCMFA_OK, "4096-byte line");
		CHECK(jcmfa_msg_get(&m, "text", &n) && n == JCMFA_LINE_MAX - 11, "len %zu", n);
	}
	{
		char key[64];
		memset(key, 'k', 32);
		strcpy(key + 32, "=1\n");
		char line[80] = "INFO ";
		strcat(line, key);
		CHECK(parse_str(&m, line) == JCMFA_OK, "32-char key");
	}
}

static void test_parse_invalid(void)
{
	static const struct {
		const char *line;
		int want;
	} cases[] = {
		{ "", JCMFA_E_SYNTAX },
		{ "HELLO 1", JCMFA_E_SYNTAX },              /* no newline */
		{ "\n", JCMFA_E_SYNTAX },                   /* empty verb */
		{ "hello 1\n", JCMFA_E_SYNTAX },
		{ "HELL0 1\n", JCMFA_E_SYNTAX },
		{ "HELLO  1\n", JCMFA_E_SYNTAX },           /* doubled space */
		{ "HELLO 1 \n", JCMFA_E_SYNTAX },           /* trailing space */
		{ " HELLO 1\n", JCMFA_E_SYNTAX },           /* leading space */
		{ "HELLO 1\r\n", JCMFA_E_SYNTAX },
		{ "HELLO\t1\n", JCMFA_E_SYNTAX },
		{ "HELLO 1\n\n", JCMFA_E_SYNTAX },          /* a second newline */
		{ "INFO text=a\nb\n", JCMFA_E_SYNTAX },
		{ "INFO text=\x7f\n", JCMFA_E_SYNTAX },
		{ "INFO text=\xc3\xa9\n", JCMFA_E_SYNTAX }, /* raw UTF-8 must be encoded */
		{ "ABCDEFGHIJKLMNOPQ\n", JCMFA_E_SYNTAX },  /* 17-letter verb */
		{ "INFO =x\n", JCMFA_E_SYNTAX },
		{ "INFO Text=x\n", JCMFA_E_SYNTAX },
		{ "INFO te-xt=x\n", JCMFA_E_SYNTAX },
		{ "INFO kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk=1\n", JCMFA_E_SYNTAX }, /* 33 */
		{ "INFO text=%zz\n", JCMFA_E_ESCAPE },
		{ "INFO text=%0\n", JCMFA_E_ESCAPE },
		{ "INFO text=%\n", JCMFA_E_ESCAPE },
		{ "INFO text=%00\n", JCMFA_E_TEXT },
		{ "INFO text=%FF\n", JCMFA_E_TEXT },
		{ "INFO text=%C0%AF\n", JCMFA_E_TEXT },     /* overlong '/' */
		{ "INFO text=%ED%A0%80\n", JCMFA_E_TEXT },  /* surrogate */
		{ "INFO text=%F4%90%80%80\n", JCMFA_E_TEXT }, /* > U+10FFFF */
		{ "INFO text=%E2%96\n", JCMFA_E_TEXT },     /* truncated sequence */
		{ "INFO a=1 a=2\n", JCMFA_E_DUPKEY },
		{ "VERDICT reason=totp allow\n", JCMFA_E_SYNTAX }, /* positional after a key */
	};
	struct jcmfa_msg m;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = parse_str(&m, cases[i].line);
		CHECK(rc == cases[i].want, "case %zu %s: got %d want %d", i, cases[i].line, rc,
		      cases[i].want);
	}
	{
		char line[JCMFA_LINE_MAX + 1];
		memset(line, 'x', sizeof line);
		memcpy(line, "INFO text=", 10);
		line[sizeof line - 1] = '\n';
		CHECK(jcmfa_parse(&m, line, sizeof line) == JCMFA_E_TOOLONG, "4097-byte line");
	}
	{
		char line[JCMFA_LINE_MAX];
		size_t n = 0, k;
		memcpy(line, "DATA", 4);
		n = 4;
		for (k = 0; k <= JCMFA_FIELDS_MAX; k++) {
			line[n++] = ' ';
			line[n++] = 'w';
		}
		line[n++] = '\n';
		CHECK(jcmfa_parse(&m, line, n) == JCMFA_E_FIELDS, "too many fields");
	}
}

static void test_codec(void)
{
	char buf[64], back[64];
	size_t n;
	long r;

	r = jcmfa_encode(buf, sizeof buf, "a b%=\n\xc3\xa9~", 9);
	CHECK(r == 21 && strcmp(buf, "a%20b%25%3D%0A%C3%A9~") == 0, "encode '%s' %ld", buf, r);
	CHECK(jcmfa_decode(back, sizeof back, buf, (size_t)r, &n) == JCMFA_OK, "decode");
	CHECK(n == 9 && memcmp(back, "a b%=\n\xc3\xa9~", 9) == 0, "roundtrip");

	CHECK(jcmfa_encode(buf, 4, "   ", 3) == JCMFA_E_TOOLONG && buf[0] == '\0', "encode overflow");
	CHECK(jcmfa_encode(buf, 4, "abc", 3) == 3, "exact fit");
	CHECK(jcmfa_decode(back, 3, "abc", 3, &n) == JCMFA_E_TOOLONG, "decode overflow");

	CHECK(jcmfa_login_value_ok("alice", 5), "alice");
	CHECK(!jcmfa_login_value_ok("", 0), "empty user");
	CHECK(!jcmfa_login_value_ok("a\tb", 3), "tab");
	CHECK(!jcmfa_login_value_ok("a\x7f", 2), "DEL");
	CHECK(!jcmfa_login_value_ok("\xff", 1), "not utf8");
	CHECK(jcmfa_login_value_ok("j\xc3\xbcrgen", 7), "utf8 user");
	{
		char big[JCMFA_VALUE_MAX + 1];
		memset(big, 'a', sizeof big);
		CHECK(jcmfa_login_value_ok(big, JCMFA_VALUE_MAX), "256 bytes");
		CHECK(!jcmfa_login_value_ok(big, JCMFA_VALUE_MAX + 1), "257 bytes");
	}
}

static void test_line_builder(void)
{
	struct jcmfa_line l;
	static char big[JCMFA_LINE_MAX];

	jcmfa_line_begin(&l, "LOGIN");
	jcmfa_line_field(&l, "user", "al ice", 6);
	jcmfa_line_word(&l, "x=y", 3);
	CHECK(jcmfa_line_end(&l) == JCMFA_OK, "end");
	CHECK(strcmp(l.b, "LOGIN user=al%20ice x%3Dy\n") == 0, "built '%s'", l.b);

	jcmfa_line_begin(&l, "login");
	CHECK(jcmfa_line_end(&l) == JCMFA_E_SYNTAX, "lower-case verb");
	jcmfa_line_begin(&l, "LOGIN");
	jcmfa_line_field(&l, "User", "x", 1);
	CHECK(jcmfa_line_end(&l) == JCMFA_E_SYNTAX, "bad key");

	/* The longest value that fits leaves exactly 4096 bytes with '\n'. */
	memset(big, 'a', sizeof big);
	jcmfa_line_begin(&l, "ANSWER");
	jcmfa_line_field(&l, "text", big, JCMFA_LINE_MAX - 1 - 12);
	CHECK(jcmfa_line_end(&l) == JCMFA_OK && l.n == JCMFA_LINE_MAX, "full line n=%zu", l.n);
	jcmfa_line_begin(&l, "ANSWER");
	jcmfa_line_field(&l, "text", big, JCMFA_LINE_MAX - 12);
	CHECK(jcmfa_line_end(&l) == JCMFA_E_TOOLONG, "one byte over");
}

/* ---- dialogue over memory --------------------------------------------------- */

struct mem {
	const char *in;
	size_t in_len, pos, chunk;
	char out[16384];
	size_t out_len;
	int arms;
	/* ui */
	char shown[4096];
	int ask_mode;
	const char *answer;
};

static long mem_read(void *ctx, char *buf, size_t cap)
{
	struct mem *mm = ctx;
	size_t n = mm->in_len - mm->pos;

	if (n > cap)
		n = cap;
	if (mm->chunk && n > mm->chunk)
		n = mm->chunk;
	memcpy(buf, mm->in + mm->pos, n);
	mm->pos += n;
	return (long)n;
}

static int mem_write(void *ctx, const char *buf, size_t len)
{
	struct mem *mm = ctx;

	if (len > sizeof mm->out - mm->out_len)
		return JCMFA_E_IO;
	memcpy(mm->out + mm->out_len, buf, len);
	mm->out_len += len;
	return JCMFA_OK;
}

static void mem_arm(void *ctx) { ((struct mem *)ctx)->arms++; }

static void show(struct mem *mm, const char *tag, const char *text)
{
	size_t have = strlen(mm->shown);
	snprintf(mm->shown + have, sizeof mm->shown - have, "%s:%s|", tag, text);
}

static int ui_info(void *ctx, const char *text) { show(ctx, "I", text); return 0; }
static int ui_error(void *ctx, const char *text) { show(ctx, "E", text); return 0; }

static int ui_ask(void *ctx, int echo, const char *text, char *answer, size_t cap)
{
	struct mem *mm = ctx;

	show(mm, echo ? "A+" : "A-", text);
	if (mm->ask_mode != JCMFA_ASK_OK)
		return mm->ask_mode;
	snprintf(answer, cap, "%s", mm->answer ? mm->answer : "123456");
	return JCMFA_ASK_OK;
}

static enum jcmfa_verdict dialogue(struct mem *mm, const char *script, const char *user,
                                   struct jcmfa_result *res)
{
	struct jcmfa_io io = { mm, mem_arm, mem_read, mem_write };
	struct jcmfa_ui ui = { mm, ui_info, ui_error, ui_ask, NULL };
	struct jcmfa_request req = { "pam", user, "sshd", "ssh", "10.0.0.5", "ssh", 1 };

	mm->in = script;
	mm->in_len = strlen(script);
	return jcmfa_login(&io, &ui, &req, res);
}

static void test_dialogue(void)
{
	static const char happy[] =
		"HELLO 1\n"
		"INFO text=Your%20code\n"
		"ASK echo=off text=Verification%20code%3A%20\n"
		"VERDICT allow reason=totp\n";
	struct jcmfa_result res;
	struct mem *mm = calloc(1, sizeof *mm);
	size_t chunk;

	for (chunk = 0; chunk <= 1; chunk++) { /* whole script at once, then byte by byte */
		memset(mm, 0, sizeof *mm);
		mm->chunk = chunk;
		CHECK(dialogue(mm, happy, "alice", &res) == JCMFA_ALLOW, "happy verdict %d err %d",
		      res.verdict, res.err);
		CHECK(strcmp(res.reason, "totp") == 0 && res.err == 0 && res.challenged, "reason");
		mm->out[mm->out_len] = '\0';
		CHECK(strcmp(mm->out, "HELLO 1 pam\n"
		                      "LOGIN user=alice service=sshd surface=ssh rhost=10.0.0.5 tty=ssh interactive=1\n"
		                      "ANSWER text=123456\n") == 0,
		      "sent:\n%s", mm->out);
		CHECK(strcmp(mm->shown, "I:Your code|A-:Verification code: |") == 0, "shown %s", mm->shown);
		CHECK(mm->arms == 4, "arm per line: %d", mm->arms);
	}

	memset(mm, 0, sizeof *mm);
	CHECK(dialogue(mm, "HELLO 1\nVERDICT skip reason=not-required\n", "bob", &res) == JCMFA_SKIP,
	      "skip");
	CHECK(strcmp(res.reason, "not-required") == 0 && !res.challenged, "skip reason");

	memset(mm, 0, sizeof *mm);
	CHECK(dialogue(mm, "HELLO 1\nERROR text=locked\nVERDICT deny reason=locked-out\n", "bob",
	               &res) == JCMFA_DENY, "deny");
	CHECK(strcmp(res.reason, "locked-out") == 0 && res.err == 0, "deny reason");
	CHECK(strcmp(mm->shown, "E:locked|") == 0, "error shown");

	memset(mm, 0, sizeof *mm);
	CHECK(dialogue(mm, "ERROR text=v\nVERDICT deny reason=version\n", "bob", &res) == JCMFA_DENY,
	      "version refusal before HELLO");

	memset(mm, 0, sizeof *mm);
	mm->answer = "x y\xc3\xa9";
	CHECK(dialogue(mm, "HELLO 1\nASK echo=on text=\nVERDICT deny reason=bad-code-format\n", "bob",
	               &res) == JCMFA_DENY, "odd answer");
	mm->out[mm->out_len] = '\0';
	CHECK(strstr(mm->out, "ANSWER text=x%20y%C3%A9\n") != NULL, "encoded answer: %s", mm->out);

	memset(mm, 0, sizeof *mm);
	mm->ask_mode = JCMFA_ASK_CANCEL;
	CHECK(dialogue(mm, happy, "alice", &res) == JCMFA_DENY && res.err == JCMFA_E_CANCELLED,
	      "cancel");
	memset(mm, 0, sizeof *mm);
	mm->ask_mode = JCMFA_ASK_FAIL;
	CHECK(dialogue(mm, happy, "alice", &res) == JCMFA_DENY && res.err == JCMFA_E_CONV, "conv");

	memset(mm, 0, sizeof *mm);
	CHECK(dialogue(mm, happy, "al\tice", &res) == JCMFA_DENY && res.err == JCMFA_E_REQUEST,
	      "bad user");
	CHECK(mm->out_len == 0, "nothing sent for a bad user");

	{
		static const struct {
			const char *script;
			int err;
		} broken[] = {
			{ "", JCMFA_E_CLOSED },
			{ "HELLO 1\nINFO text=x", JCMFA_E_CLOSED },
			{ "HELLO 2\n", JCMFA_E_VERSION },
			{ "HELLO\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nHELLO 1\n", JCMFA_E_PROTOCOL },
			{ "VERDICT allow reason=totp\n", JCMFA_E_PROTOCOL },
			{ "ASK echo=off text=x\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nASK text=x\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nASK echo=maybe text=x\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nVERDICT maybe\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nVERDICT\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nINFO oops text=x\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nDANCE\n", JCMFA_E_PROTOCOL },
			{ "HELLO 1\nINFO text=%G0\n", JCMFA_E_ESCAPE },
		};
		size_t i;
		for (i = 0; i < sizeof broken / sizeof broken[0]; i++) {
			memset(mm, 0, sizeof *mm);
			CHECK(dialogue(mm, broken[i].script, "alice", &res) == JCMFA_BROKEN &&
			              res.err == broken[i].err,
			      "broken case %zu: verdict %d err %d", i, res.verdict, res.err);
		}
	}
	{
		/* An endless stream of INFO lines must end the dialogue. */
		static char chatty[8 + (JCMFA_MESSAGES_MAX + 1) * 5 + 1];
		size_t n = 0, k;
		memcpy(chatty, "HELLO 1\n", 8);
		n = 8;
		for (k = 0; k <= JCMFA_MESSAGES_MAX; k++) {
			memcpy(chatty + n, "INFO\n", 5);
			n += 5;
		}
		chatty[n] = '\0';
		memset(mm, 0, sizeof *mm);
		CHECK(dialogue(mm, chatty, "alice", &res) == JCMFA_BROKEN && res.err == JCMFA_E_CHATTY,
		      "chatty: %d %d", res.verdict, res.err);
	}
	{
		/* A line that never ends fills the buffer: too long, not a hang. */
		static char endless[JCMFA_LINE_MAX + 20];
		memset(endless, 'x', sizeof endless - 1);
		memcpy(endless, "HELLO 1\nINFO text=", 18);
		endless[sizeof endless - 1] = '\0';
		memset(mm, 0, sizeof *mm);
		CHECK(dialogue(mm, endless, "alice", &res) == JCMFA_BROKEN && res.err == JCMFA_E_TOOLONG,
		      "endless: %d %d", res.verdict, res.err);
	}
	{
		/* A reason with odd bytes is kept for the log, made printable. */
		memset(mm, 0, sizeof *mm);
		CHECK(dialogue(mm, "HELLO 1\nVERDICT deny reason=a%0Ab%C3%A9\n", "alice", &res) ==
		              JCMFA_DENY, "odd reason");
		CHECK(strcmp(res.reason, "a?b??") == 0, "reason '%s'", res.reason);
	}
	free(mm);
}

/* ---- connect: absent, dead, full ---------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ui_never(void *ctx, const char *t)
{
	(void)ctx;
	(void)t;
	return 0;
}

static int ask_never(void *ctx, int echo, const char *t, char *a, size_t cap)
{
	(void)ctx, (void)echo, (void)t, (void)a, (void)cap;
	return JCMFA_ASK_FAIL;
}

/* One login against path with a 300 ms timeout: its result and duration. */
static long long try_login(const char *path, struct jcmfa_result *res)
{
	struct jcmfa_ui ui = { NULL, ui_never, ui_never, ask_never, NULL };
	struct jcmfa_request req = { "pam", "alice", NULL, NULL, NULL, NULL, 0 };
	int saved = 0;
	long long start = now_ms();

	jcmfa_unix_login(path, 300, &ui, &req, res, &saved);
	return now_ms() - start;
}

static int bound_socket(const char *path, struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof *sa) != 0)
		return -1;
	return fd;
}

/*
 * protocol.md: failmode=safe applies only to an absent daemon. No socket
 * file is absent everywhere. A socket file nobody listens on refuses with
 * ECONNREFUSED: on Linux that means the daemon died (absent, at once); on
 * Darwin a full backlog says ECONNREFUSED too (xnu bsd/kern/uipc_usrreq.c,
 * unp_connect), so there it is retried until the timeout and is never
 * absent. A full backlog on Linux (EAGAIN) is retried, never absent.
 */
static void test_connect(void)
{
	char dir[] = "/tmp/jcmfa-wire-XXXXXX", path[128];
	struct sockaddr_un sa;
	struct jcmfa_result res;
	long long ms;
	int fd, fill[64], nfill = 0, i;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof path, "%s/agent.sock", dir);

	ms = try_login(path, &res);
	CHECK(res.verdict == JCMFA_BROKEN && res.absent && ms < 250, "no socket: absent at once (%lld ms)",
	      ms);

	fd = bound_socket(path, &sa); /* bound, never listening: ECONNREFUSED */
	CHECK(fd >= 0, "bind: %s", strerror(errno));
	ms = try_login(path, &res);
	if (JCMFA_CONNREFUSED_MAY_BE_FULL)
		CHECK(res.verdict == JCMFA_BROKEN && !res.absent && res.err == JCMFA_E_TIMEOUT &&
		          ms >= 290 && ms < 2000,
		      "Darwin rule: ECONNREFUSED retried until the timeout, not absent (absent %d err %d, %lld ms)",
		      res.absent, res.err, ms);
	else
		CHECK(res.verdict == JCMFA_BROKEN && res.absent && ms < 250,
		      "Linux rule: ECONNREFUSED is a dead daemon, absent at once (absent %d, %lld ms)",
		      res.absent, ms);
	close(fd);

	/* A listener whose backlog is full: Linux answers EAGAIN. */
	fd = bound_socket(path, &sa);
	CHECK(fd >= 0 && listen(fd, 0) == 0, "listen: %s", strerror(errno));
	for (i = 0; i < 64; i++) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c < 0)
			break;
		fill[nfill++] = c;
		if (connect(c, (struct sockaddr *)&sa, sizeof sa) != 0 && errno == EAGAIN)
			break;
	}
	ms = try_login(path, &res);
	CHECK(res.verdict == JCMFA_BROKEN && !res.absent && res.err == JCMFA_E_TIMEOUT && ms >= 290 &&
	          ms < 2000,
	      "full backlog: retried until the timeout, never absent (absent %d err %d, %lld ms)",
	      res.absent, res.err, ms);
	while (nfill > 0)
		close(fill[--nfill]);
	close(fd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_parse_valid();
	test_parse_invalid();
	test_codec();
	test_line_builder();
	test_dialogue();
	test_connect();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("jcmfa_wire: all checks passed (ECONNREFUSED read as on %s)\n",
	       JCMFA_CONNREFUSED_MAY_BE_FULL ? "macOS" : "Linux");
	return 0;
}
