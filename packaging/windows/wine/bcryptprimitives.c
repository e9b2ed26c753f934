/*
 * Test-only stand-in for bcryptprimitives.dll, which wine 8.0 lacks: the Go
 * runtime (1.22+) takes its randomness from ProcessPrng there and aborts at
 * start without it. This forwards to RtlGenRandom (advapi32's
 * SystemFunction036), which wine implements. It goes into a throwaway wine
 * prefix only; it is never shipped, and real Windows has the real DLL.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	/* RtlGenRandom takes a ULONG; Go asks for small buffers, but a caller
	 * asking for more than 4 GiB must not get a silently short fill. */
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
