/* macOS ABI stand-in, see README. Values from xnu bsd/sys/errno.h. */
#ifndef JCMFA_DARWIN_ERRNO_H
#define JCMFA_DARWIN_ERRNO_H
extern int *__error(void);
#define errno (*__error())
#define ENOENT 2
#define EINTR 4
#define ENOMEM 12
#define ERANGE 34
#define EAGAIN 35
#define EWOULDBLOCK EAGAIN
#define EINPROGRESS 36
#define ETIMEDOUT 60
#define ECONNREFUSED 61
#define ENAMETOOLONG 63
#endif
