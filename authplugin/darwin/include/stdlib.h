/* macOS ABI stand-in, see README. */
#ifndef JCMFA_DARWIN_STDLIB_H
#define JCMFA_DARWIN_STDLIB_H
#include <stddef.h>
void *calloc(size_t n, size_t size);
void *malloc(size_t size);
void free(void *p);
long strtol(const char *s, char **end, int base);
#endif
