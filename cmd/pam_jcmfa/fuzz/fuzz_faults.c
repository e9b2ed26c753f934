/*
 * Fault-injecting libFuzzer harness for the whole PAM module, after
 * Yubico/pam-u2f's fuzz/wrap.c: pam_jcmfa.c and jcmfa_wire.c are linked with
 * -Wl,--wrap around the socket calls, the clock and libpam, so every one of
 * them can fail, return short, or return odd values, as chosen by the input.
 *
 * Input: 8 bytes of fault seed, 1 byte of fault rate, 1 byte of module
 * options, then the byte stream the "daemon" sends. The daemon end is the
 * other half of a real socketpair, preloaded and shut for writing, so the
 * module's poll/recv run for real; what the module sends is discarded.
 *
 * Checked on every run (abort on violation):
 *   - the return code is one the module documents;
 *   - PAM_SUCCESS only with failmode=safe, or when the daemon's stream holds
 *     "VERDICT allow" (or "VERDICT skip" with skip=success): injected faults
 *     must never open the door in failmode=secure;
 *   - PAM_IGNORE only when the stream holds "VERDICT skip";
 *   - the socket is closed on return (no fd leak), every conversation
 *     response is freed (LeakSanitizer) and wiped before it is freed.
 *
 * Build and run: make -C cmd/pam_jcmfa fuzz-faults FUZZ_SECONDS=60
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

int __real_socket(int, int, int);
int __real_connect(int, const struct sockaddr *, socklen_t);
int __real_fcntl(int, int, ...);
int __real_poll(struct pollfd *, nfds_t, int);
ssize_t __real_recv(int, void *, size_t, int);
int __real_close(int);
int __real_getsockopt(int, int, int, void *, socklen_t *);
int __real_clock_gettime(clockid_t, struct timespec *);
void __real_free(void *);

/* One run's state. The wrappers are only "armed" inside pam_sm_authenticate,
 * so libFuzzer's and the sanitizers' own calls pass straight through. */
static struct {
	int armed;
	uint64_t rng;
	unsigned rate; /* out of 256 */
	int module_fd, peer_fd;
	long long clock_ms;
	struct {
		void *p;
		size_t n;
		int freed;
	} resp[64];
	size_t nresp;
	struct pam_conv conv;
	const uint8_t *stream; /* what the daemon end holds */
	size_t stream_len;
} S;

static uint32_t next(void)
{
	/* xorshift64*: deterministic per input, so crashes reproduce. */
	S.rng ^= S.rng >> 12;
	S.rng ^= S.rng << 25;
	S.rng ^= S.rng >> 27;
	return (uint32_t)((S.rng * 2685821657736338717ULL) >> 32);
}

static int fault(void) { return S.armed && (next() & 255) < S.rate; }
static unsigned pick(unsigned n) { return next() % n; }

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_faults: violated: %s\n", what);
		abort();
	}
}

/* ---- libc ------------------------------------------------------------------ */

int __wrap_socket(int domain, int type, int proto)
{
	int sv[2];

	if (!S.armed)
		return __real_socket(domain, type, proto);
	if (fault()) {
		errno = EMFILE;
		return -1;
	}
	check(S.module_fd < 0, "one socket per login");
	if (socketpair(AF_UNIX, type, 0, sv) < 0)
		abort();
	S.module_fd = sv[0];
	S.peer_fd = sv[1];
	/* The daemon has already said everything it will say, then hangs up. */
	if (S.stream_len && write(sv[1], S.stream, S.stream_len) != (ssize_t)S.stream_len)
		abort();
	shutdown(sv[1], SHUT_WR);
	return sv[0];
}

int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static const int errs[] = { ECONNREFUSED, ENOENT, EACCES, EAGAIN, EINPROGRESS, EINTR };

	if (!S.armed)
		return __real_connect(fd, sa, len);
	check(fd == S.module_fd, "connect on our socket");
	if (fault()) {
		errno = errs[pick(sizeof errs / sizeof errs[0])];
		return -1;
	}
	return 0;
}

int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	if (fault()) {
		errno = EBADF;
		return -1;
	}
	return __real_fcntl(fd, cmd, arg);
}

int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (S.armed && fault()) {
		if (pick(2)) {
			errno = ENOTSOCK;
			return -1;
		}
		if (val && len && *len >= sizeof(int)) {
			*(int *)val = ECONNREFUSED; /* the connect finished, badly */
			return 0;
		}
	}
	return __real_getsockopt(fd, level, name, val, len);
}

int __wrap_poll(struct pollfd *p, nfds_t n, int timeout)
{
	if (!S.armed)
		return __real_poll(p, n, timeout);
	check(timeout >= 0, "every poll has a deadline");
	if (fault()) {
		switch (pick(3)) {
		case 0:
			errno = EINTR;
			return -1;
		case 1:
			S.clock_ms += timeout; /* the wait ran out */
			return 0;
		default:
			errno = ENOMEM;
			return -1;
		}
	}
	return __real_poll(p, n, 0); /* the peer is preloaded: never wait */
}

ssize_t __wrap_recv(int fd, void *buf, size_t cap, int flags)
{
	if (!S.armed)
		return __real_recv(fd, buf, cap, flags);
	check(cap > 0, "recv with room");
	if (fault()) {
		static const int errs[] = { EINTR, EAGAIN, ECONNRESET };
		errno = errs[pick(3)];
		return -1;
	}
	if (pick(4) == 0 && cap > 1)
		cap = 1 + pick((unsigned)(cap < 64 ? cap : 64)); /* short reads */
	return __real_recv(fd, buf, cap, flags);
}

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags)
{
	(void)buf;
	check(!S.armed || fd == S.module_fd, "send on our socket");
	check(flags & MSG_NOSIGNAL, "send never raises SIGPIPE");
	if (fault()) {
		static const int errs[] = { EINTR, EAGAIN, EPIPE };
		errno = errs[pick(3)];
		return -1;
	}
	if (len > 1 && pick(4) == 0)
		return (ssize_t)(1 + pick((unsigned)len - 1)); /* partial write */
	return (ssize_t)len;
}

int __wrap_close(int fd)
{
	if (S.armed && fd == S.module_fd)
		S.module_fd = -2; /* closed by the module */
	return __real_close(fd);
}

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (!S.armed || id != CLOCK_MONOTONIC)
		return __real_clock_gettime(id, ts);
	/* Virtual time: each look moves it on, and poll "timeouts" jump it,
	 * so deadlines expire without the fuzzer ever sleeping. */
	S.clock_ms += 1 + pick(50);
	ts->tv_sec = S.clock_ms / 1000;
	ts->tv_nsec = (S.clock_ms % 1000) * 1000000;
	return 0;
}

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)rem;
	S.clock_ms += req->tv_sec * 1000 + req->tv_nsec / 1000000;
	return 0;
}

void __wrap_free(void *p)
{
	size_t i, k;

	for (i = 0; p && i < S.nresp; i++) {
		if (S.resp[i].p == p) {
			for (k = 0; k < S.resp[i].n; k++)
				check(((unsigned char *)p)[k] == 0, "answer wiped before free");
			S.resp[i].freed = 1;
		}
	}
	__real_free(p);
}

/* ---- libpam ----------------------------------------------------------------- */

/* def, unless this call is one to go wrong: then one of a set of odd values. */
static const char *odd_string(const char *def)
{
	static char big[400];
	static const char *const s[] = { "alice", "sshd", "ssh", "", "10.0.0.5", "a\tb", "\xff\xfe",
		                         "j\xc3\xbcrgen", "pts/0", "x y%z=" };
	unsigned k;

	if (!fault())
		return def;
	k = pick(sizeof s / sizeof s[0] + 1);
	if (k == sizeof s / sizeof s[0]) {
		memset(big, 'h', sizeof big - 1);
		return big;
	}
	return s[k];
}

int __wrap_pam_get_item(const pam_handle_t *pamh, int type, const void **item)
{
	(void)pamh;
	if (fault())
		return PAM_BAD_ITEM;
	switch (type) {
	case PAM_CONV:
		*item = fault() ? NULL : (const void *)&S.conv;
		return PAM_SUCCESS;
	case PAM_SERVICE:
		*item = odd_string("sshd");
		return PAM_SUCCESS;
	case PAM_RHOST:
		*item = fault() ? NULL : odd_string("192.0.2.1");
		return PAM_SUCCESS;
	case PAM_TTY:
		*item = fault() ? NULL : odd_string("ssh");
		return PAM_SUCCESS;
	}
	*item = NULL;
	return PAM_SUCCESS;
}

int __wrap_pam_get_user(pam_handle_t *pamh, const char **user, const char *prompt)
{
	(void)pamh;
	(void)prompt;
	if (fault())
		return pick(2) ? PAM_CONV_ERR : PAM_SYSTEM_ERR;
	*user = fault() ? NULL : odd_string("alice");
	return PAM_SUCCESS;
}

void __wrap_pam_syslog(const pam_handle_t *pamh, int prio, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	(void)pamh;
	(void)prio;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap); /* the arguments are really read */
	va_end(ap);
}

const char *__wrap_pam_strerror(pam_handle_t *pamh, int err)
{
	(void)pamh;
	(void)err;
	return "pam error";
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r;
	size_t len;
	char *s;

	(void)data;
	check(n == 1 && msg && msg[0] && msg[0]->msg, "one well-formed message per call");
	(void)strlen(msg[0]->msg);
	if (fault())
		return PAM_CONV_ERR;
	if (msg[0]->msg_style == PAM_TEXT_INFO || msg[0]->msg_style == PAM_ERROR_MSG) {
		*resp = NULL; /* allowed for messages that need no answer */
		return PAM_SUCCESS;
	}
	check(msg[0]->msg_style == PAM_PROMPT_ECHO_OFF || msg[0]->msg_style == PAM_PROMPT_ECHO_ON,
	      "known style");
	r = calloc(1, sizeof *r);
	if (r == NULL)
		abort();
	switch (fault() ? pick(4) : 3) {
	case 0:
		len = (size_t)-1; /* NULL answer: end of input */
		break;
	case 1:
		len = 1500; /* longer than the module accepts */
		break;
	case 2:
		len = 0;
		break;
	default:
		len = 6;
		break;
	}
	if (len != (size_t)-1) {
		s = malloc(len + 1);
		if (s == NULL)
			abort();
		memset(s, '7', len);
		s[len] = '\0';
		r->resp = s;
		if (S.nresp < sizeof S.resp / sizeof S.resp[0]) {
			S.resp[S.nresp].p = s;
			S.resp[S.nresp].n = len;
			S.resp[S.nresp].freed = 0;
			S.nresp++;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* ---- the run ------------------------------------------------------------------ */

/* True if some line of d starts with the verdict, e.g. "VERDICT allow". */
static int contains(const uint8_t *d, size_t n, const char *verdict)
{
	size_t k = strlen(verdict), i;

	for (i = 0; i + k < n; i++)
		if ((i == 0 || d[i - 1] == '\n') && memcmp(d + i, verdict, k) == 0 &&
		    (d[i + k] == ' ' || d[i + k] == '\n'))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *argv[8];
	int argc = 0, rc, safe, skip_success;
	const uint8_t *stream;
	size_t slen, i;
	uint8_t opts;

	if (size < 10)
		return 0;
	memset(&S, 0, sizeof S);
	memcpy(&S.rng, data, 8);
	S.rng |= 1;
	S.rate = data[8] & 63; /* up to 1 in 4 calls fails */
	opts = data[9];
	stream = data + 10;
	slen = size - 10;
	S.module_fd = S.peer_fd = -1;
	S.clock_ms = 1000000;
	S.conv.conv = conv;

	safe = opts & 1;
	skip_success = (opts >> 1) & 1;
	argv[argc++] = "socket=/run/jcmfa-fuzz/agent.sock";
	argv[argc++] = safe ? "failmode=safe" : "failmode=secure";
	argv[argc++] = skip_success ? "skip=success" : "skip=ignore";
	argv[argc++] = "timeout=1";
	if (opts & 4)
		argv[argc++] = "debug";
	if (opts & 8)
		argv[argc++] = "surface=console";
	if (opts & 16)
		argv[argc++] = "bogus=1";

	S.stream = stream;
	S.stream_len = slen;
	S.armed = 1;
	rc = pam_sm_authenticate((pam_handle_t *)&S, 0, argc, argv);
	S.armed = 0;
	if (getenv("FUZZ_FAULTS_TRACE")) /* to see what a seed exercises */
		fprintf(stderr, "pam_sm_authenticate = %d, %zu answers\n", rc, S.nresp);

	switch (rc) {
	case PAM_SUCCESS:
		check(safe || contains(stream, slen, "VERDICT allow") ||
		              (skip_success && contains(stream, slen, "VERDICT skip")),
		      "success only from the daemon's allow/skip, or failmode=safe");
		break;
	case PAM_IGNORE:
		check(!skip_success && contains(stream, slen, "VERDICT skip"), "ignore only from skip");
		break;
	case PAM_AUTH_ERR:
	case PAM_MAXTRIES:
	case PAM_CONV_ERR:
	case PAM_SYSTEM_ERR: /* passed through from pam_get_user */
		break;
	default:
		check(0, "documented return code");
	}
	check(S.module_fd == -1 || S.module_fd == -2, "socket closed on return");
	if (S.peer_fd >= 0)
		__real_close(S.peer_fd);
	for (i = 0; i < S.nresp; i++)
		check(S.resp[i].freed, "every answer freed");
	return 0;
}
