/* macOS ABI stand-in, see README. Libc include/time.h (macOS 10.12+). */
#ifndef JCMFA_DARWIN_TIME_H
#define JCMFA_DARWIN_TIME_H
#include <sys/types.h>
struct timespec {
	time_t tv_sec;
	long tv_nsec;
};
typedef int clockid_t; /* an enum in the SDK: passed as a 32-bit int */
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 6
int clock_gettime(clockid_t clock, struct timespec *ts);
int nanosleep(const struct timespec *req, struct timespec *rem);
#endif
