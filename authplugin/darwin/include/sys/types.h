/* macOS ABI stand-in, see ../README. */
#ifndef JCMFA_DARWIN_SYS_TYPES_H
#define JCMFA_DARWIN_SYS_TYPES_H
#include <stddef.h>
#include <stdint.h>
typedef long ssize_t;
typedef uint32_t uid_t;
typedef uint32_t gid_t;
typedef uint32_t socklen_t;
typedef uint8_t sa_family_t;
typedef long time_t;
typedef int32_t pid_t;
#endif
