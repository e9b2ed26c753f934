/*
 * jcmfa_pipe_win: the Windows named-pipe transport for jcmfa_wire's
 * dialogue (struct jcmfa_io), used by the credential provider.
 *
 * The pipe is opened overlapped so every read and write has a deadline
 * (docs/protocol.md "Timeouts"), and the server end is checked before a
 * byte is sent: any user can create a pipe of a free name, so a squatter
 * that got there while the service was stopped could otherwise answer
 * "VERDICT allow" to every login.
 *
 * Where the pipe is: the service listens on a fresh random name at each
 * start and publishes it, with its process id and creation time, under
 * HKLM\SOFTWARE\jcmfa\Agent (internal/ipc/pipename_windows.go says why and
 * cites Microsoft's rules it relies on). jcmfa_pipe_open reads that, or
 * takes a fixed name an admin configured.
 */
#ifndef JCMFA_PIPE_WIN_H
#define JCMFA_PIPE_WIN_H

#include <windows.h>

#include "jcmfa_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

struct jcmfa_pipe {
	HANDLE h;
	HANDLE ev;           /* manual-reset event for overlapped I/O */
	DWORD timeout_ms;
	ULONGLONG deadline;  /* GetTickCount64; set by arm() */
	DWORD last_error;    /* GetLastError() of the failure, for the host's log */
	/* Non-zero when there is no daemon at all: no pipe of that name
	 * (ERROR_FILE_NOT_FOUND), or no published name. Never for a busy
	 * pipe, a timeout, a server that fails the identity check or a
	 * garbled reply (jcmfa_wire.h, jcmfa_fail_open). */
	int absent;
};

/* The process the service published as serving its pipe. */
struct jcmfa_pipe_server {
	DWORD pid;
	ULONGLONG start; /* FILETIME of its creation (GetProcessTimes) */
};

/* HKLM key and values the service publishes; internal/ipc/pipename_windows.go
 * writes the same names. */
#define JCMFA_AGENT_KEY L"SOFTWARE\\jcmfa\\Agent"

/*
 * Reads the published pipe name (into path, cap wide chars) and the
 * process serving it. Returns JCMFA_OK, or JCMFA_E_CONNECT when nothing
 * usable is published (no key, no name, a name outside \\.\pipe\, or no
 * process identity next to it).
 */
int jcmfa_pipe_published(wchar_t *path, size_t cap, struct jcmfa_pipe_server *server);

/*
 * Opens the pipe at path within timeout_ms, checks the process serving it
 * (it runs as SYSTEM or as a member of the Administrators group, and, if
 * expect is not NULL, it is that very process), and sets up io. Returns
 * JCMFA_OK, JCMFA_E_CONNECT (no such pipe: p->absent; access denied;
 * untrusted server) or JCMFA_E_TIMEOUT (every instance stayed busy);
 * p->last_error says more.
 */
int jcmfa_pipe_connect(struct jcmfa_pipe *p, struct jcmfa_io *io, const wchar_t *path,
                       const struct jcmfa_pipe_server *expect, DWORD timeout_ms);

/*
 * jcmfa_pipe_connect to the daemon: to fixed (an admin's configured name)
 * if it is not NULL or empty, else to the published name and process. No
 * published name sets p->absent: the service stopped cleanly or never ran.
 */
int jcmfa_pipe_open(struct jcmfa_pipe *p, struct jcmfa_io *io, const wchar_t *fixed, DWORD timeout_ms);
void jcmfa_pipe_close(struct jcmfa_pipe *p);

#ifdef __cplusplus
}
#endif

#endif /* JCMFA_PIPE_WIN_H */
