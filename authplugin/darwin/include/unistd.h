/* macOS ABI stand-in, see README. */
#ifndef JCMFA_DARWIN_UNISTD_H
#define JCMFA_DARWIN_UNISTD_H
#include <sys/types.h>
int close(int fd);
#endif
