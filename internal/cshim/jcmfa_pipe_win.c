/*
 * Named-pipe transport for the jcmfa dialogue; see jcmfa_pipe_win.h.
 */
#include "jcmfa_pipe_win.h"

#include <string.h>
#include <wchar.h>

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

/*
 * What this check proves. GetNamedPipeServerProcessId names the process
 * that created the pipe instance we are connected to ("Retrieves the
 * server process identifier for the specified named pipe",
 * learn.microsoft.com/en-us/windows/win32/api/winbase/
 * nf-winbase-getnamedpipeserverprocessid). We accept it only if:
 *   - its token is SYSTEM or in BUILTIN\Administrators: only those can be
 *     the service, and the pipe's DACL (SYSTEM and Administrators only)
 *     keeps anyone else from adding an instance to the service's pipe,
 *     since that needs FILE_CREATE_PIPE_INSTANCE under the first
 *     instance's DACL (Named Pipe Security and Access Rights,
 *     learn.microsoft.com/en-us/windows/win32/ipc/
 *     named-pipe-security-and-access-rights). So a user who created the
 *     name first (a squatter) fails here;
 *   - when expect is given (the published name), it is the very process
 *     that published the name, by id and creation time (GetProcessTimes),
 *     so a stale name after a crash, taken by any other process (even an
 *     administrator's, or one that got the old process id), fails too.
 * Failing it is never "absent": the daemon may be there and someone is
 * in the way, so fail mode safe must not let the password alone through.
 */
static int server_trusted(struct jcmfa_pipe *p, const struct jcmfa_pipe_server *expect)
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
	if (proc == NULL)
		goto out;
	if (expect != NULL) {
		FILETIME created, exited, kernel, user;
		ULONGLONG start;
		if (!GetProcessTimes(proc, &created, &exited, &kernel, &user))
			goto out;
		start = ((ULONGLONG)created.dwHighDateTime << 32) | created.dwLowDateTime;
		if (pid != expect->pid || start != expect->start) {
			SetLastError(ERROR_ACCESS_DENIED);
			goto out;
		}
	}
	if (!OpenProcessToken(proc, TOKEN_QUERY | TOKEN_DUPLICATE, &tok))
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

int jcmfa_pipe_connect(struct jcmfa_pipe *p, struct jcmfa_io *io, const wchar_t *path,
                       const struct jcmfa_pipe_server *expect, DWORD timeout_ms)
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
		if (p->last_error != ERROR_PIPE_BUSY) {
			/* No pipe of that name: nobody is serving it. Any other
			 * failure (access denied, ...) means something is there. */
			p->absent = p->last_error == ERROR_FILE_NOT_FOUND;
			return JCMFA_E_CONNECT;
		}
		/* Busy is a daemon that is there but full (or flooded): never
		 * absent, whatever happens while we wait. */
		if (remaining(deadline) == 0 || !WaitNamedPipeW(path, remaining(deadline))) {
			p->last_error = GetLastError();
			return JCMFA_E_TIMEOUT;
		}
	}
	if (!server_trusted(p, expect)) {
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

int jcmfa_pipe_published(wchar_t *path, size_t cap, struct jcmfa_pipe_server *server)
{
	DWORD size = (DWORD)(cap * sizeof(wchar_t)), pid = 0, n = sizeof pid;
	ULONGLONG start = 0;
	DWORD m = sizeof start;

	if (cap == 0)
		return JCMFA_E_CONNECT;
	path[0] = L'\0';
	/* RRF_RT_REG_SZ: RegGetValueW also NUL-terminates, or fails if the
	 * value does not fit. 64-bit view, as the service (a 64-bit
	 * process) writes it. */
	if (RegGetValueW(HKEY_LOCAL_MACHINE, JCMFA_AGENT_KEY, L"PipeName", RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, NULL,
	                 path, &size) != ERROR_SUCCESS ||
	    wcsncmp(path, L"\\\\.\\pipe\\", 9) != 0 || wcslen(path) <= 9) {
		path[0] = L'\0';
		return JCMFA_E_CONNECT;
	}
	if (RegGetValueW(HKEY_LOCAL_MACHINE, JCMFA_AGENT_KEY, L"ServerPid", RRF_RT_REG_DWORD | RRF_SUBKEY_WOW6464KEY, NULL,
	                 &pid, &n) != ERROR_SUCCESS ||
	    RegGetValueW(HKEY_LOCAL_MACHINE, JCMFA_AGENT_KEY, L"ServerStart", RRF_RT_REG_QWORD | RRF_SUBKEY_WOW6464KEY,
	                 NULL, &start, &m) != ERROR_SUCCESS) {
		path[0] = L'\0';
		return JCMFA_E_CONNECT;
	}
	server->pid = pid;
	server->start = start;
	return JCMFA_OK;
}

int jcmfa_pipe_open(struct jcmfa_pipe *p, struct jcmfa_io *io, const wchar_t *fixed, DWORD timeout_ms)
{
	wchar_t name[256];
	struct jcmfa_pipe_server server;

	if (fixed != NULL && fixed[0] != L'\0')
		return jcmfa_pipe_connect(p, io, fixed, NULL, timeout_ms);
	if (jcmfa_pipe_published(name, sizeof name / sizeof name[0], &server) != JCMFA_OK) {
		/* The service removes its name when it stops cleanly and writes
		 * it only once it listens; only an administrator can write the
		 * key, so no one else can make us see "absent" this way. */
		memset(p, 0, sizeof *p);
		p->h = INVALID_HANDLE_VALUE;
		p->last_error = ERROR_FILE_NOT_FOUND;
		p->absent = 1;
		return JCMFA_E_CONNECT;
	}
	return jcmfa_pipe_connect(p, io, name, &server, timeout_ms);
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
