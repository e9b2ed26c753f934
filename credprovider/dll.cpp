/*
 * The DLL's COM surface: the class factory for the provider and the filter,
 * the module's reference count, and self-registration. Only the four COM
 * entry points are exported (jcmfa_credprov.def).
 */
#include "filter.h"
#include "guid.h"
#include "provider.h"
#include "unknown.h"

#include <new>
#include <wchar.h>

static HINSTANCE g_module;
static LONG g_refs;

void DllAddRef() { InterlockedIncrement(&g_refs); }
void DllRelease() { InterlockedDecrement(&g_refs); }

namespace {

class ClassFactory final : public IClassFactory {
public:
	explicit ClassFactory(HRESULT (*create)(REFIID, void **)) : ref_(1), create_(create) { DllAddRef(); }

	STDMETHODIMP QueryInterface(REFIID riid, void **ppv) override
	{
		return QueryOne<IClassFactory>(this, IID_IClassFactory, riid, ppv);
	}
	STDMETHODIMP_(ULONG) AddRef() override { return AddRefCount(&ref_); }
	STDMETHODIMP_(ULONG) Release() override
	{
		ULONG n = ReleaseCount(&ref_);
		if (n == 0)
			delete this;
		return n;
	}
	STDMETHODIMP CreateInstance(IUnknown *outer, REFIID riid, void **ppv) override
	{
		if (ppv == NULL)
			return E_POINTER;
		*ppv = NULL;
		if (outer != NULL)
			return CLASS_E_NOAGGREGATION;
		return create_(riid, ppv);
	}
	STDMETHODIMP LockServer(BOOL lock) override
	{
		if (lock)
			DllAddRef();
		else
			DllRelease();
		return S_OK;
	}

private:
	~ClassFactory() { DllRelease(); }
	LONG ref_;
	HRESULT (*create_)(REFIID, void **);
};

struct RegEntry {
	HKEY root;
	const wchar_t *key;
	const wchar_t *name; /* NULL: the key's default value */
	const wchar_t *value; /* NULL: this DLL's path */
};

#define CP_KEY L"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Authentication\\Credential Providers\\"
#define FILTER_KEY L"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Authentication\\Credential Provider Filters\\"
#define CLSID_KEY L"SOFTWARE\\Classes\\CLSID\\"

/* What LogonUI needs to find us: the two COM classes (in-process, apartment
 * threaded as LogonUI's STA expects) and one key each naming them as a
 * provider and as a filter. packaging/windows/jcmfa.wxs writes the same. */
const RegEntry kEntries[] = {
	{HKEY_LOCAL_MACHINE, CLSID_KEY JCMFA_PROVIDER_CLSID_STR, NULL, L"jcmfa credential provider"},
	{HKEY_LOCAL_MACHINE, CLSID_KEY JCMFA_PROVIDER_CLSID_STR L"\\InprocServer32", NULL, NULL},
	{HKEY_LOCAL_MACHINE, CLSID_KEY JCMFA_PROVIDER_CLSID_STR L"\\InprocServer32", L"ThreadingModel", L"Apartment"},
	{HKEY_LOCAL_MACHINE, CLSID_KEY JCMFA_FILTER_CLSID_STR, NULL, L"jcmfa credential provider filter"},
	{HKEY_LOCAL_MACHINE, CLSID_KEY JCMFA_FILTER_CLSID_STR L"\\InprocServer32", NULL, NULL},
	{HKEY_LOCAL_MACHINE, CLSID_KEY JCMFA_FILTER_CLSID_STR L"\\InprocServer32", L"ThreadingModel", L"Apartment"},
	{HKEY_LOCAL_MACHINE, CP_KEY JCMFA_PROVIDER_CLSID_STR, NULL, L"jcmfa"},
	{HKEY_LOCAL_MACHINE, FILTER_KEY JCMFA_FILTER_CLSID_STR, NULL, L"jcmfa"},
};

/* Deleted leaf first, so each delete finds an empty key. */
const wchar_t *const kKeys[] = {
	CP_KEY JCMFA_PROVIDER_CLSID_STR,
	FILTER_KEY JCMFA_FILTER_CLSID_STR,
	CLSID_KEY JCMFA_PROVIDER_CLSID_STR L"\\InprocServer32",
	CLSID_KEY JCMFA_PROVIDER_CLSID_STR,
	CLSID_KEY JCMFA_FILTER_CLSID_STR L"\\InprocServer32",
	CLSID_KEY JCMFA_FILTER_CLSID_STR,
};

} // namespace

extern "C" BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID)
{
	if (reason == DLL_PROCESS_ATTACH) {
		g_module = inst;
		DisableThreadLibraryCalls(inst);
	}
	return TRUE;
}

extern "C" HRESULT __stdcall DllCanUnloadNow()
{
	return g_refs > 0 ? S_FALSE : S_OK;
}

extern "C" HRESULT __stdcall DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv)
{
	if (ppv == NULL)
		return E_POINTER;
	*ppv = NULL;
	HRESULT (*create)(REFIID, void **);
	if (IsEqualCLSID(rclsid, CLSID_JcmfaProvider))
		create = Provider::Create;
	else if (IsEqualCLSID(rclsid, CLSID_JcmfaFilter))
		create = JcmfaFilter::Create;
	else
		return CLASS_E_CLASSNOTAVAILABLE;
	ClassFactory *f = new (std::nothrow) ClassFactory(create);
	if (f == NULL)
		return E_OUTOFMEMORY;
	HRESULT hr = f->QueryInterface(riid, ppv);
	f->Release();
	return hr;
}

extern "C" HRESULT __stdcall DllUnregisterServer()
{
	HRESULT hr = S_OK;
	for (const wchar_t *k : kKeys) {
		LONG rc = RegDeleteKeyExW(HKEY_LOCAL_MACHINE, k, KEY_WOW64_64KEY, 0);
		if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND)
			hr = HRESULT_FROM_WIN32(rc);
	}
	return hr;
}

extern "C" HRESULT __stdcall DllRegisterServer()
{
	wchar_t path[MAX_PATH];
	DWORD n = GetModuleFileNameW(g_module, path, MAX_PATH);
	if (n == 0 || n >= MAX_PATH)
		return HRESULT_FROM_WIN32(GetLastError() ? GetLastError() : ERROR_FILENAME_EXCED_RANGE);
	for (const RegEntry &e : kEntries) {
		HKEY k;
		LONG rc = RegCreateKeyExW(e.root, e.key, 0, NULL, 0, KEY_WRITE | KEY_WOW64_64KEY, NULL, &k, NULL);
		if (rc == ERROR_SUCCESS) {
			const wchar_t *v = e.value ? e.value : path;
			rc = RegSetValueExW(k, e.name, 0, REG_SZ, (const BYTE *)v, (DWORD)((wcslen(v) + 1) * sizeof(wchar_t)));
			RegCloseKey(k);
		}
		if (rc != ERROR_SUCCESS) {
			DllUnregisterServer(); /* all or nothing: half a registration confuses LogonUI */
			return HRESULT_FROM_WIN32(rc);
		}
	}
	return S_OK;
}
