/*
 * jcmfa_pipe_win: the Windows named-pipe transport for jcmfa_wire's
 * dialogue (struct jcmfa_io), used by the credential provider.
 *
 * The pipe is opened overlapped so every read and write has a deadline
 * (docs/protocol.md "Timeouts"), and the server end is checked before a
 * byte is sent: any user can create a pipe of a free name, so a squatter
 * that got there while the service was stopped could otherwise answer
 * "VERDICT allow" to every login.
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
};

/*
 * Opens the pipe at path (e.g. L"\\\\.\\pipe\\jcmfa-agent") within
 * timeout_ms, checks that the process serving it runs as SYSTEM or as a
 * member of the Administrators group, and sets up io. Returns JCMFA_OK,
 * JCMFA_E_CONNECT (no such pipe, access denied, untrusted server) or
 * JCMFA_E_TIMEOUT (every instance stayed busy); p->last_error says more.
 */
int jcmfa_pipe_connect(struct jcmfa_pipe *p, struct jcmfa_io *io, const wchar_t *path, DWORD timeout_ms);
void jcmfa_pipe_close(struct jcmfa_pipe *p);

#ifdef __cplusplus
}
#endif

#endif /* JCMFA_PIPE_WIN_H */
