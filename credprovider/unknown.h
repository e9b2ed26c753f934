/*
 * IUnknown for the DLL's objects, each of which implements one COM
 * interface: the provider, the filter, the credential and the class
 * factory call these instead of each writing out the same QueryInterface,
 * AddRef and Release.
 */
#ifndef JCMFA_UNKNOWN_H
#define JCMFA_UNKNOWN_H

#include "cp.h"

/* QueryInterface for self, which answers to IUnknown and to iid only. */
template <class Iface> HRESULT QueryOne(Iface *self, REFIID iid, REFIID riid, void **ppv)
{
	if (ppv == NULL)
		return E_POINTER;
	if (IsEqualIID(riid, IID_IUnknown) || IsEqualIID(riid, iid)) {
		*ppv = self;
		self->AddRef();
		return S_OK;
	}
	*ppv = NULL;
	return E_NOINTERFACE;
}

inline ULONG AddRefCount(LONG *ref) { return (ULONG)InterlockedIncrement(ref); }

/* The count after a Release; the object deletes itself at 0 (its
 * destructor is private, so that only Release ends it). */
inline ULONG ReleaseCount(LONG *ref) { return (ULONG)InterlockedDecrement(ref); }

#endif
