package doctor

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows/registry"

	"github.com/jcmfa/jcmfa/internal/credprovs"
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
	// KeepProviders as the DLL reads it (credprovider/settings.cpp): the
	// strings of a REG_MULTI_SZ, or a REG_SZ's one string (KeepSplit: its
	// entries are separated by ";" or ","). KeepBadType: the value exists
	// with another type, which the DLL ignores.
	KeepProviders []string
	KeepSplit     bool
	KeepBadType   bool
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
		s.KeepProviders, s.KeepSplit, s.KeepBadType = readKeep(k)
		k.Close()
	}
	return s
}

func readKeep(k registry.Key) (values []string, split, badType bool) {
	v, _, err := k.GetStringsValue("KeepProviders")
	switch {
	case err == nil:
		return v, false, false
	case errors.Is(err, registry.ErrNotExist):
		return nil, false, false
	case errors.Is(err, registry.ErrUnexpectedType):
		if sz, _, err := k.GetStringValue("KeepProviders"); err == nil {
			return []string{sz}, true, false
		}
	}
	return nil, false, true
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
	return append(r, keepFindings(s)...)
}

// keepFindings: every provider KeepProviders leaves visible while MFA is
// on is a way to sign in without the code, so each is a warning of its
// own; entries the DLL ignores are warnings too (the admin meant
// something by them).
func keepFindings(s LogonState) Report {
	const area = "logon"
	const fix = "keep only what people need: jcmfa-agent setup keep-providers NAME... (or --clear)"
	var r Report
	if s.KeepBadType {
		r = append(r, Finding{Warn, area, `HKLM\SOFTWARE\jcmfa KeepProviders is neither REG_MULTI_SZ nor REG_SZ: the credential provider ignores it and keeps no other provider`,
			`reg delete HKLM\SOFTWARE\jcmfa /v KeepProviders /f, then: jcmfa-agent setup keep-providers NAME...`})
	}
	kept, ignored := credprovs.Parse(s.KeepProviders, s.KeepSplit)
	for _, k := range kept {
		what := k.What
		if what == "" {
			what = "a credential provider"
		}
		r = append(r, Finding{Warn, area, fmt.Sprintf("KeepProviders keeps %q (%s, %s) visible while MFA is on: whoever can sign in with it skips the verification code",
			strings.Trim(k.Entry, " \t"), what, strings.Join(k.CLSIDs, " ")), fix})
	}
	for _, e := range ignored {
		r = append(r, Finding{Warn, area, fmt.Sprintf("KeepProviders entry %q is neither a class ID ({8-4-4-4-12}) nor a known name (%s): the credential provider ignores it",
			e, credprovs.Names()), fix})
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
