/*
 * Named-pipe transport for the jcmfa dialogue; see jcmfa_pipe_win.h.
 */
#include "jcmfa_pipe_win.h"

#include <string.h>

static DWORD remaining(ULONGLONG deadline)
{
	ULONGLONG now = GetTickCount64();
	return now >= deadline ? 0 : (DWORD)(deadline - now);
}

/* Waits for an overlapped operation until the line's deadline; a miss
 * cancels it, because the OVERLAPPED lives on our stack. */
static long finish_io(struct jcmfa_pipe *p, OVERLAPPED *ov, BOOL ok, DWORD *n)
{
	if (!ok) {
		DWORD e = GetLastError();
		if (e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED)
			return 0;
		if (e != ERROR_IO_PENDING) {
			p->last_error = e;
			return JCMFA_E_IO;
		}
		if (WaitForSingleObject(p->ev, remaining(p->deadline)) != WAIT_OBJECT_0) {
			CancelIoEx(p->h, ov);
			GetOverlappedResult(p->h, ov, n, TRUE);
			p->last_error = WAIT_TIMEOUT;
			return JCMFA_E_TIMEOUT;
		}
	}
	if (!GetOverlappedResult(p->h, ov, n, FALSE)) {
		DWORD e = GetLastError();
		if (e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED)
			return 0;
		/* A message-mode pipe says "more data" for a partial read: the
		 * bytes are there, the rest comes with the next read. */
		if (e != ERROR_MORE_DATA) {
			p->last_error = e;
			return JCMFA_E_IO;
		}
	}
	return 1;
}

static void pipe_arm(void *ctx)
{
	struct jcmfa_pipe *p = (struct jcmfa_pipe *)ctx;
	p->deadline = GetTickCount64() + p->timeout_ms;
}

static long pipe_read(void *ctx, char *buf, size_t cap)
{
	struct jcmfa_pipe *p = (struct jcmfa_pipe *)ctx;
	OVERLAPPED ov;
	DWORD n = 0;
	long rc;

	if (cap > 0x10000)
		cap = 0x10000;
	memset(&ov, 0, sizeof ov);
	ov.hEvent = p->ev;
	ResetEvent(p->ev);
	rc = finish_io(p, &ov, ReadFile(p->h, buf, (DWORD)cap, NULL, &ov), &n);
	if (rc <= 0)
		return rc;
	return n == 0 ? 0 : (long)n;
}

static int pipe_write_all(void *ctx, const char *buf, size_t len)
{
	struct jcmfa_pipe *p = (struct jcmfa_pipe *)ctx;
	/* Writes get their own deadline: the dialogue arms only before reads. */
	ULONGLONG deadline = GetTickCount64() + p->timeout_ms, saved = p->deadline;

	p->deadline = deadline;
	while (len > 0) {
		OVERLAPPED ov;
		DWORD n = 0;
		long rc;

		memset(&ov, 0, sizeof ov);
		ov.hEvent = p->ev;
		ResetEvent(p->ev);
		rc = finish_io(p, &ov, WriteFile(p->h, buf, (DWORD)len, NULL, &ov), &n);
		if (rc == 0) {
			p->deadline = saved;
			return JCMFA_E_CLOSED;
		}
		if (rc < 0) {
			p->deadline = saved;
			return (int)rc;
		}
		buf += n;
		len -= n;
	}
	p->deadline = saved;
	return JCMFA_OK;
}

/* The server is trusted if its token is SYSTEM or in BUILTIN\Administrators:
 * only those can be the service (the pipe's DACL admits no one else, and
 * creating it first is the only way another user could be at this end). */
static int server_trusted(struct jcmfa_pipe *p)
{
	ULONG pid = 0;
	HANDLE proc = NULL, tok = NULL, dup = NULL;
	SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
	PSID admins = NULL, system = NULL;
	BOOL member = FALSE, is_system = FALSE;
	int ok = 0;

	if (!GetNamedPipeServerProcessId(p->h, &pid))
		goto out;
	proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	if (proc == NULL || !OpenProcessToken(proc, TOKEN_QUERY | TOKEN_DUPLICATE, &tok))
		goto out;
	if (!DuplicateToken(tok, SecurityIdentification, &dup))
		goto out;
	if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS,
	                              0, 0, 0, 0, 0, 0, &admins) ||
	    !AllocateAndInitializeSid(&nt, 1, SECURITY_LOCAL_SYSTEM_RID, 0, 0, 0, 0, 0, 0, 0, &system))
		goto out;
	if (CheckTokenMembership(dup, system, &is_system) && is_system)
		ok = 1;
	else if (CheckTokenMembership(dup, admins, &member) && member)
		ok = 1;
out:
	if (!ok)
		p->last_error = GetLastError() ? GetLastError() : ERROR_ACCESS_DENIED;
	if (admins)
		FreeSid(admins);
	if (system)
		FreeSid(system);
	if (dup)
		CloseHandle(dup);
	if (tok)
		CloseHandle(tok);
	if (proc)
		CloseHandle(proc);
	return ok;
}

int jcmfa_pipe_connect(struct jcmfa_pipe *p, struct jcmfa_io *io, const wchar_t *path, DWORD timeout_ms)
{
	ULONGLONG deadline = GetTickCount64() + timeout_ms;

	memset(p, 0, sizeof *p);
	p->h = INVALID_HANDLE_VALUE;
	p->timeout_ms = timeout_ms;
	for (;;) {
		/* SECURITY_IDENTIFICATION: the server may learn who we are but
		 * can never act as us (we are SYSTEM inside LogonUI). */
		p->h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
		                   FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
		if (p->h != INVALID_HANDLE_VALUE)
			break;
		p->last_error = GetLastError();
		if (p->last_error != ERROR_PIPE_BUSY)
			return JCMFA_E_CONNECT;
		if (remaining(deadline) == 0 || !WaitNamedPipeW(path, remaining(deadline))) {
			p->last_error = GetLastError();
			return JCMFA_E_TIMEOUT;
		}
	}
	if (!server_trusted(p)) {
		jcmfa_pipe_close(p);
		return JCMFA_E_CONNECT;
	}
	p->ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (p->ev == NULL) {
		p->last_error = GetLastError();
		jcmfa_pipe_close(p);
		return JCMFA_E_CONNECT;
	}
	p->deadline = GetTickCount64() + timeout_ms;
	io->ctx = p;
	io->arm = pipe_arm;
	io->read = pipe_read;
	io->write_all = pipe_write_all;
	return JCMFA_OK;
}

void jcmfa_pipe_close(struct jcmfa_pipe *p)
{
	if (p->h != INVALID_HANDLE_VALUE && p->h != NULL)
		CloseHandle(p->h);
	if (p->ev != NULL)
		CloseHandle(p->ev);
	p->h = INVALID_HANDLE_VALUE;
	p->ev = NULL;
}
