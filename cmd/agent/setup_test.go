package main

import (
	"testing"

	"github.com/jcmfa/jcmfa/internal/winsetup"
)

// What `setup windows` prints names the key, the value and what --undo
// will put back, and says "would" in a dry run.
func TestSetupWindowsLinesSayWhatChanged(t *testing.T) {
	const key = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\`
	zero := winsetup.Value{Present: true}
	one := winsetup.Value{Present: true, DWord: 1}
	tests := []struct {
		ch           winsetup.Change
		undo, dryRun bool
		want         string
	}{
		{winsetup.Change{Name: "SafeModeBlockNonAdmins", After: one}, false, false,
			"set " + key + `SafeModeBlockNonAdmins = 1 (was absent; recorded in HKLM\SOFTWARE\jcmfa\Setup)`},
		{winsetup.Change{Name: "SafeModeBlockNonAdmins", Before: zero, After: one}, false, true,
			"would set " + key + `SafeModeBlockNonAdmins = 1 (was 0; recorded in HKLM\SOFTWARE\jcmfa\Setup)`},
		{winsetup.Change{Name: "DisableAutomaticRestartSignOn", Before: one}, true, false,
			"deleted " + key + "DisableAutomaticRestartSignOn (absent before setup windows)"},
		{winsetup.Change{Name: "DisableAutomaticRestartSignOn", Before: one, After: zero}, true, true,
			"would set " + key + "DisableAutomaticRestartSignOn = 0 (its value before setup windows)"},
		{winsetup.Change{Name: "DisableAutomaticRestartSignOn", Before: zero, After: zero, Kept: true}, true, false,
			"left " + key + "DisableAutomaticRestartSignOn = 0 as it is: changed since setup windows set it to 1; its record is dropped"},
	}
	for _, tt := range tests {
		if got := describeWinChange(tt.ch, tt.undo, tt.dryRun); got != tt.want {
			t.Errorf("describeWinChange(%+v, undo=%v, dry=%v):\n got %s\nwant %s", tt.ch, tt.undo, tt.dryRun, got, tt.want)
		}
	}
}
