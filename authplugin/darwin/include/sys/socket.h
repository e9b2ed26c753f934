/* macOS ABI stand-in, see ../README. Values from xnu bsd/sys/socket.h.
 * macOS has no SOCK_CLOEXEC, so jcmfa_wire.c sets FD_CLOEXEC with fcntl.
 * MSG_NOSIGNAL exists since macOS 11 (xnu-7195, bsd/sys/socket.h, for
 * __DARWIN_C_LEVEL >= 200809L): jcmfa_wire.c sends with it and, as it does
 * wherever the platform has SO_NOSIGPIPE, also sets that on the socket, so
 * no write to a daemon that hung up raises SIGPIPE in SecurityAgent. */
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
#define MSG_NOSIGNAL 0x80000
int socket(int domain, int type, int protocol);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
int getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int setsockopt(int fd, int level, int name, const void *val, socklen_t len);
ssize_t send(int fd, const void *buf, size_t len, int flags);
ssize_t recv(int fd, void *buf, size_t len, int flags);
#endif
