package doctor

import (
	"errors"

	"golang.org/x/sys/windows/registry"
)

// Where Windows keeps what the logon checks read. The class IDs are
// credprovider/guid.h's.
const (
	policySystemKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System`
	providerKey     = `SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\Credential Providers\{6408080a-0f71-4bb3-a8b2-2b84cb503b9b}`
	filterKey       = `SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\Credential Provider Filters\{c23403af-35e6-4158-b448-0d57e115c6ba}`
	settingsKey     = `SOFTWARE\jcmfa`
)

// LogonState is what the Windows logon checks depend on, read apart from
// the rules so they can be tested on values.
type LogonState struct {
	ProviderRegistered, FilterRegistered bool
	// SafeModeBlockNonAdmins: Windows loads no third-party credential
	// provider in safe mode, so there the password alone logs in.
	SafeModeBlockNonAdmins bool
	// DisableAutomaticRestartSignOn: without it, ARSO signs the last user
	// back in after an update restart with no credential provider at all.
	DisableARSO bool
	FailMode    string // HKLM\SOFTWARE\jcmfa FailMode, "" if unset
	Excluded    []string
}

// ReadLogonState reads LogonState from this machine's registry.
func ReadLogonState() LogonState {
	var s LogonState
	s.ProviderRegistered = keyExists(providerKey)
	s.FilterRegistered = keyExists(filterKey)
	s.SafeModeBlockNonAdmins = dword(policySystemKey, "SafeModeBlockNonAdmins") == 1
	s.DisableARSO = dword(policySystemKey, "DisableAutomaticRestartSignOn") == 1
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, settingsKey, registry.QUERY_VALUE|registry.WOW64_64KEY); err == nil {
		s.FailMode, _, _ = k.GetStringValue("FailMode")
		s.Excluded, _, _ = k.GetStringsValue("ExcludedAccounts")
		k.Close()
	}
	return s
}

func keyExists(path string) bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return false
	}
	k.Close()
	return true
}

func dword(path, name string) uint64 {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return 0
	}
	defer k.Close()
	v, _, err := k.GetIntegerValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return 0
	}
	return v
}

// WindowsLogon judges the Windows logon: is the credential provider in
// place, and which Windows features would log someone in around it.
func WindowsLogon(s LogonState) Report {
	const area = "logon"
	var r Report
	if s.ProviderRegistered && s.FilterRegistered {
		r = append(r, ok(area, "credential provider and filter are registered"))
	} else {
		r = append(r, Finding{Fail, area, "the jcmfa credential provider or its filter is not registered: Windows logons are not asking for a code",
			`reinstall the MSI, or run: regsvr32 "C:\Program Files\jcmfa\jcmfa_credprov.dll"`})
	}
	if s.SafeModeBlockNonAdmins {
		r = append(r, ok(area, "safe mode admits administrators only (SafeModeBlockNonAdmins=1)"))
	} else {
		r = append(r, Finding{Warn, area, "in safe mode Windows loads no third-party credential provider, so any user logs in with the password alone",
			"run `jcmfa-agent setup windows` (elevated; --undo puts the old value back), or: " +
				`reg add HKLM\` + policySystemKey + ` /v SafeModeBlockNonAdmins /t REG_DWORD /d 1 /f`})
	}
	if s.DisableARSO {
		r = append(r, ok(area, "automatic restart sign-on is off (DisableAutomaticRestartSignOn=1)"))
	} else {
		r = append(r, Finding{Warn, area, "automatic restart sign-on (ARSO) signs the last user back in after updates without any credential provider",
			"run `jcmfa-agent setup windows` (elevated; --undo puts the old value back), or: " +
				`reg add HKLM\` + policySystemKey + ` /v DisableAutomaticRestartSignOn /t REG_DWORD /d 1 /f`})
	}
	switch {
	case s.FailMode == "safe" || s.FailMode == "Safe" || s.FailMode == "SAFE":
		r = append(r, Finding{Warn, area, "FailMode=safe: while the jcmfa-agent service is down, logons need only the password",
			`reg delete HKLM\SOFTWARE\jcmfa /v FailMode /f   (secure is the default)`})
	case len(s.Excluded) == 0:
		r = append(r, Finding{Warn, area, "FailMode is secure and no break-glass account is excluded: if the service is down, nobody can log in",
			`reg add HKLM\SOFTWARE\jcmfa /v ExcludedAccounts /t REG_MULTI_SZ /d ".\breakglass" /f`})
	default:
		r = append(r, ok(area, "FailMode is secure; excluded (break-glass) accounts: "+joinNames(s.Excluded)))
	}
	return r
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
