/*
 * jcmfa's own class IDs. They are part of the installed contract (the MSI
 * and DllRegisterServer write them into the registry, and admins may
 * reference them in group policy): never change them.
 */
#ifndef JCMFA_GUID_H
#define JCMFA_GUID_H

#include <windows.h>

/* {6408080a-0f71-4bb3-a8b2-2b84cb503b9b} */
static const CLSID CLSID_JcmfaProvider =
	{0x6408080a, 0x0f71, 0x4bb3, {0xa8, 0xb2, 0x2b, 0x84, 0xcb, 0x50, 0x3b, 0x9b}};
#define JCMFA_PROVIDER_CLSID_STR L"{6408080a-0f71-4bb3-a8b2-2b84cb503b9b}"

/* {c23403af-35e6-4158-b448-0d57e115c6ba} */
static const CLSID CLSID_JcmfaFilter =
	{0xc23403af, 0x35e6, 0x4158, {0xb4, 0x48, 0x0d, 0x57, 0xe1, 0x15, 0xc6, 0xba}};
#define JCMFA_FILTER_CLSID_STR L"{c23403af-35e6-4158-b448-0d57e115c6ba}"

#endif /* JCMFA_GUID_H */
