/* macOS ABI stand-in, see README. */
#ifndef JCMFA_DARWIN_STDIO_H
#define JCMFA_DARWIN_STDIO_H
#include <stdarg.h>
#include <stddef.h>
int snprintf(char *buf, size_t cap, const char *fmt, ...);
int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
#endif
