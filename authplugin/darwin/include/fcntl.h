/* macOS ABI stand-in, see README. Values from xnu bsd/sys/fcntl.h. */
#ifndef JCMFA_DARWIN_FCNTL_H
#define JCMFA_DARWIN_FCNTL_H
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define FD_CLOEXEC 1
#define O_NONBLOCK 0x00000004
int fcntl(int fd, int cmd, ...);
#endif
