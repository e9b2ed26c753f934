/* macOS ABI stand-in, see README. struct passwd as Libc include/pwd.h has
 * it (apple-oss-distributions/Libc, Libc-320.1.3, the last Libc that held
 * the header; Libinfo's has the same members): ten members ending at
 * pw_expire, 72 bytes on arm64 and x86_64. BSD's pw_fields is not part of
 * Darwin's. darwin/layout_check.c asserts the offsets and size. */
#ifndef JCMFA_DARWIN_PWD_H
#define JCMFA_DARWIN_PWD_H
#include <sys/types.h>
struct passwd {
	char *pw_name;
	char *pw_passwd;
	uid_t pw_uid;
	gid_t pw_gid;
	time_t pw_change;
	char *pw_class;
	char *pw_gecos;
	char *pw_dir;
	char *pw_shell;
	time_t pw_expire;
};
int getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t cap, struct passwd **result);
#endif
