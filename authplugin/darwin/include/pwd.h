/* macOS ABI stand-in, see README. Libc include/pwd.h (64-bit layout). */
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
	int pw_fields;
};
int getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t cap, struct passwd **result);
#endif
