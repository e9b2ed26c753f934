// Package winsetup closes the two ways Windows logs someone in without any
// credential provider, so without jcmfa's code: safe mode and automatic
// restart sign-on (ARSO). Apply sets the two policy values doctor checks
// (internal/doctor/logon_windows.go) and records in the registry what each
// was before; Undo puts back exactly that. It is `jcmfa-agent setup
// windows`; on other systems every call returns ErrWindowsOnly.
package winsetup

import (
	"errors"
	"strconv"
)

// PolicyKey is the HKLM key both values live in: the "Policies\System" key
// that Group Policy's computer settings write.
const PolicyKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System`

// RecordKey is where Apply records what it changed, one REG_SZ per value
// name: "absent" (the value did not exist) or the previous REG_DWORD in
// decimal. It sits under the settings key, which the MSI neither owns nor
// removes, so the record survives an upgrade and a reinstall, and
// `reg query HKLM\SOFTWARE\jcmfa\Setup` shows it.
const RecordKey = `SOFTWARE\jcmfa\Setup`

// Absent is the record of a value that did not exist.
const Absent = "absent"

// Setting is one policy value Apply sets to 1.
type Setting struct {
	Name string // value name under PolicyKey
	What string // what 1 does, for the command's output
}

// Settings are the values Apply sets, in the order it sets them.
var Settings = []Setting{
	// SafeModeBlockNonAdmins=1: in safe mode only administrators may log
	// on. Windows loads no third-party credential provider in safe mode,
	// so without it anyone logs on there with the password alone.
	// Microsoft: KB 977542, "A hotfix is available to block standard users
	// from logging on to a Windows 7-based or Windows Server 2008 R2-based
	// computer in safe mode" (https://support.microsoft.com/kb/977542;
	// archived at https://mskb.pkisolutions.com/kb/977542): "lets
	// administrators block standard users from logging on in safe mode,
	// safe mode with networking, or safe mode with command prompt", a
	// REG_DWORD SafeModeBlockNonAdmins=1 under PolicyKey; part of every
	// Windows since 7 SP1.
	{Name: "SafeModeBlockNonAdmins", What: "safe mode admits administrators only"},
	// DisableAutomaticRestartSignOn=1: no automatic sign-on after a
	// restart. ARSO has LSA keep the last user's credentials and "on
	// rebooting, the user will automatically be signed in via the
	// Autologon mechanism" (Microsoft, "Winlogon Automatic Restart Sign-On
	// (ARSO)", https://learn.microsoft.com/en-us/windows-server/security/windows-authentication/winlogon-automatic-restart-sign-on-arso),
	// with no credential provider involved. The group policy "Sign-in and
	// lock last interactive user automatically after a restart" (Windows
	// Components > Windows Logon Options) writes this value, 1 for
	// Disabled.
	{Name: "DisableAutomaticRestartSignOn", What: "automatic restart sign-on is off"},
}

// Value is a policy value's state: absent, or a REG_DWORD.
type Value struct {
	Present bool
	DWord   uint32
}

func (v Value) String() string {
	if !v.Present {
		return Absent
	}
	return strconv.FormatUint(uint64(v.DWord), 10)
}

// Change is one value Apply or Undo writes (or, in a dry run, would).
type Change struct {
	Name          string // value name under PolicyKey
	Before, After Value
	// Kept: Undo left the value as it is, because something other than
	// setup changed it after setup set it to 1; only the record is dropped.
	Kept bool
}

// Options for Apply and Undo.
type Options struct {
	DryRun bool // compute and return the changes, write nothing
}

// ErrWindowsOnly is what every call returns on other systems.
var ErrWindowsOnly = errors.New("setup windows and setup keep-providers change the Windows registry: run them on the Windows machine, from an elevated prompt")

// ErrNotAdmin: writing HKLM was refused.
var ErrNotAdmin = errors.New(`setup windows writes HKLM\` + PolicyKey + ` and HKLM\` + RecordKey +
	`: access denied; run it from an elevated prompt (right-click the prompt, "Run as administrator")`)

// SettingsKey is the credential provider's settings key (docs/windows.md,
// "Settings"); KeepValue is the value KeepProviders writes there.
const (
	SettingsKey = `SOFTWARE\jcmfa`
	KeepValue   = "KeepProviders"
)

// ErrBadKeepEntry: an entry the credential provider would ignore. The
// command refuses the whole list rather than write something that keeps
// less (or other) than the admin asked for.
var ErrBadKeepEntry = errors.New("not a class ID ({8-4-4-4-12}) nor a known name")
