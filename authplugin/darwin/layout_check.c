/*
 * Compiled (never linked) by darwin/check_headers.sh for arm64 and x86_64
 * macOS, against darwin/include as the bundle is: the struct layouts the
 * hand-written headers spell out must be Darwin's. The constants are
 * checked from darwin/apple_values.txt by the same script.
 */
#include <poll.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#define CHECK(cond) _Static_assert(cond, #cond)

/* Libc include/pwd.h: ten members, ends at pw_expire, 72 bytes (LP64). */
CHECK(offsetof(struct passwd, pw_name) == 0);
CHECK(offsetof(struct passwd, pw_passwd) == 8);
CHECK(offsetof(struct passwd, pw_uid) == 16);
CHECK(offsetof(struct passwd, pw_gid) == 20);
CHECK(offsetof(struct passwd, pw_change) == 24);
CHECK(offsetof(struct passwd, pw_class) == 32);
CHECK(offsetof(struct passwd, pw_gecos) == 40);
CHECK(offsetof(struct passwd, pw_dir) == 48);
CHECK(offsetof(struct passwd, pw_shell) == 56);
CHECK(offsetof(struct passwd, pw_expire) == 64);
CHECK(sizeof(struct passwd) == 72);

/* xnu bsd/sys/un.h: length byte, one-byte family, 104-byte path. */
CHECK(offsetof(struct sockaddr_un, sun_len) == 0);
CHECK(offsetof(struct sockaddr_un, sun_family) == 1);
CHECK(offsetof(struct sockaddr_un, sun_path) == 2);
CHECK(sizeof(struct sockaddr_un) == 106);

/* xnu bsd/sys/socket.h */
CHECK(sizeof(struct sockaddr) == 16);
CHECK(sizeof(socklen_t) == 4);

/* xnu bsd/sys/poll.h */
CHECK(sizeof(struct pollfd) == 8);
CHECK(offsetof(struct pollfd, revents) == 6);

/* Libc time.h / xnu bsd/sys/_types/_timespec.h */
CHECK(sizeof(struct timespec) == 16);
CHECK(sizeof(time_t) == 8);
CHECK(sizeof(uid_t) == 4);
