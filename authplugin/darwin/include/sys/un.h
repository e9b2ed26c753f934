/* macOS ABI stand-in, see ../README. xnu bsd/sys/un.h: a length byte, a
 * one-byte family and 104 bytes of path (Linux: two-byte family, 108). */
#ifndef JCMFA_DARWIN_SYS_UN_H
#define JCMFA_DARWIN_SYS_UN_H
#include <sys/types.h>
struct sockaddr_un {
	unsigned char sun_len;
	sa_family_t sun_family;
	char sun_path[104];
};
#endif
