/* macOS ABI stand-in, see ../README. Values from xnu bsd/sys/socket.h.
 * macOS has no SOCK_CLOEXEC and no public MSG_NOSIGNAL: jcmfa_wire.c then
 * uses fcntl(FD_CLOEXEC) and SO_NOSIGPIPE, as it does with the real SDK. */
#ifndef JCMFA_DARWIN_SYS_SOCKET_H
#define JCMFA_DARWIN_SYS_SOCKET_H
#include <sys/types.h>
struct sockaddr {
	uint8_t sa_len;
	sa_family_t sa_family;
	char sa_data[14];
};
#define AF_UNIX 1
#define SOCK_STREAM 1
#define SOL_SOCKET 0xffff
#define SO_ERROR 0x1007
#define SO_NOSIGPIPE 0x1022
int socket(int domain, int type, int protocol);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
int getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int setsockopt(int fd, int level, int name, const void *val, socklen_t len);
ssize_t send(int fd, const void *buf, size_t len, int flags);
ssize_t recv(int fd, void *buf, size_t len, int flags);
#endif
