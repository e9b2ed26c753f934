/* macOS ABI stand-in, see README. Values from xnu bsd/sys/syslog.h.
 * Since macOS 10.13 the SDK binds syslog() to _syslog$DARWIN_EXTSN
 * (bsd/sys/syslog.h: __DARWIN_ALIAS_STARTING(__MAC_10_13, ...,
 * __DARWIN_EXTSN(syslog))); plain _syslog is the legacy entry point.
 * check_macho.sh checks the built bundle imports the former. */
#ifndef JCMFA_DARWIN_SYSLOG_H
#define JCMFA_DARWIN_SYSLOG_H
#define LOG_ERR 3
#define LOG_NOTICE 5
#define LOG_DEBUG 7
#define LOG_AUTH (4 << 3)
void syslog(int priority, const char *fmt, ...) __asm("_syslog$DARWIN_EXTSN");
#endif
