/* macOS ABI stand-in, see README. Values from xnu bsd/sys/syslog.h. */
#ifndef JCMFA_DARWIN_SYSLOG_H
#define JCMFA_DARWIN_SYSLOG_H
#define LOG_ERR 3
#define LOG_NOTICE 5
#define LOG_DEBUG 7
#define LOG_AUTH (4 << 3)
void syslog(int priority, const char *fmt, ...);
#endif
