package winsetup

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"

	"github.com/jcmfa/jcmfa/internal/doctor"
)

// These run under wine (make test-wine-go), against wine's own registry in
// the throwaway prefix: the very keys doctor reads. Each test starts from
// the state it names and puts back whatever the machine had.

// snapshot saves both policy values and the record key, clears them, and
// restores the saved state when the test ends.
func snapshot(t *testing.T) {
	t.Helper()
	saved := map[string]Value{}
	for _, s := range Settings {
		saved[s.Name] = get(t, s.Name)
	}
	var rec map[string]string
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, RecordKey, registry.QUERY_VALUE|view); err == nil {
		rec = map[string]string{}
		names, _ := k.ReadValueNames(0)
		for _, n := range names {
			rec[n], _, _ = k.GetStringValue(n)
		}
		k.Close()
	}
	clear := func() {
		for _, s := range Settings {
			put(t, s.Name, Value{})
		}
		registry.DeleteKey(registry.LOCAL_MACHINE, RecordKey)
	}
	clear()
	t.Cleanup(func() {
		clear()
		for n, v := range saved {
			put(t, n, v)
		}
		if rec != nil {
			k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, RecordKey, registry.SET_VALUE|view)
			if err != nil {
				t.Errorf("restore HKLM\\%s: %v", RecordKey, err)
				return
			}
			for n, v := range rec {
				k.SetStringValue(n, v)
			}
			k.Close()
		}
	})
}

// get reads a policy value the way Windows (and doctor) does, apart from
// the code under test.
func get(t *testing.T, name string) Value {
	t.Helper()
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, PolicyKey, registry.QUERY_VALUE|view)
	if errors.Is(err, registry.ErrNotExist) {
		return Value{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	d, typ, err := k.GetIntegerValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return Value{}
	}
	if err != nil || typ != registry.DWORD {
		t.Fatalf("HKLM\\%s\\%s: type %d, %v", PolicyKey, name, typ, err)
	}
	return Value{Present: true, DWord: uint32(d)}
}

func put(t *testing.T, name string, v Value) {
	t.Helper()
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, PolicyKey, registry.SET_VALUE|view)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if !v.Present {
		if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
			t.Fatal(err)
		}
		return
	}
	if err := k.SetDWordValue(name, v.DWord); err != nil {
		t.Fatal(err)
	}
}

// record is HKLM\SOFTWARE\jcmfa\Setup as name → data; nil if the key is
// absent.
func record(t *testing.T) map[string]string {
	t.Helper()
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, RecordKey, registry.QUERY_VALUE|view)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, n := range names {
		m[n], _, err = k.GetStringValue(n)
		if err != nil {
			t.Fatalf("record %s: %v", n, err)
		}
	}
	return m
}

func state(t *testing.T) map[string]Value {
	m := map[string]Value{}
	for _, s := range Settings {
		m[s.Name] = get(t, s.Name)
	}
	return m
}

func eqState(a, b map[string]Value) bool {
	for n, v := range a {
		if b[n] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func eqRecord(a, b map[string]string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for n, v := range a {
		if w, ok := b[n]; !ok || w != v {
			return false
		}
	}
	return true
}

var (
	absent = Value{}
	zero   = Value{Present: true, DWord: 0}
	one    = Value{Present: true, DWord: 1}
	all1   = map[string]Value{"SafeModeBlockNonAdmins": one, "DisableAutomaticRestartSignOn": one}
)

// TestSetupAndUndoRoundTripEachStartingState: whatever the machine had
// (absent, 0, already 1, other numbers, a mix), setup leaves both values 1
// and records exactly what it changed, a second setup changes and records
// nothing, and --undo brings back the starting state and removes the
// record.
func TestSetupAndUndoRoundTripEachStartingState(t *testing.T) {
	tests := []struct {
		name       string
		start      map[string]Value
		wantRecord map[string]string // after setup; nil: no record key at all
	}{
		{"both absent", map[string]Value{"SafeModeBlockNonAdmins": absent, "DisableAutomaticRestartSignOn": absent},
			map[string]string{"SafeModeBlockNonAdmins": "absent", "DisableAutomaticRestartSignOn": "absent"}},
		{"both 0", map[string]Value{"SafeModeBlockNonAdmins": zero, "DisableAutomaticRestartSignOn": zero},
			map[string]string{"SafeModeBlockNonAdmins": "0", "DisableAutomaticRestartSignOn": "0"}},
		{"both already 1", all1, nil},
		{"mixed: absent, 1", map[string]Value{"SafeModeBlockNonAdmins": absent, "DisableAutomaticRestartSignOn": one},
			map[string]string{"SafeModeBlockNonAdmins": "absent"}},
		{"mixed: 1, 0", map[string]Value{"SafeModeBlockNonAdmins": one, "DisableAutomaticRestartSignOn": zero},
			map[string]string{"DisableAutomaticRestartSignOn": "0"}},
		{"another number", map[string]Value{"SafeModeBlockNonAdmins": {Present: true, DWord: 2}, "DisableAutomaticRestartSignOn": absent},
			map[string]string{"SafeModeBlockNonAdmins": "2", "DisableAutomaticRestartSignOn": "absent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snapshot(t)
			for n, v := range tt.start {
				put(t, n, v)
			}
			changes, err := Apply(Options{})
			if err != nil {
				t.Fatalf("setup: %v", err)
			}
			if len(changes) != len(tt.wantRecord) {
				t.Errorf("setup reported %d changes %+v, want %d", len(changes), changes, len(tt.wantRecord))
			}
			for _, ch := range changes {
				if ch.Before != tt.start[ch.Name] || ch.After != one {
					t.Errorf("setup change %+v, want %s from %v to 1", ch, ch.Name, tt.start[ch.Name])
				}
			}
			if got := state(t); !eqState(got, all1) {
				t.Fatalf("after setup: %v, want both 1", got)
			}
			if got := record(t); !eqRecord(got, tt.wantRecord) {
				t.Fatalf("record after setup: %v, want %v", got, tt.wantRecord)
			}

			again, err := Apply(Options{})
			if err != nil || len(again) != 0 {
				t.Fatalf("second setup: %+v %v, want no change", again, err)
			}
			if got := record(t); !eqRecord(got, tt.wantRecord) {
				t.Fatalf("record after a second setup: %v, want unchanged %v", got, tt.wantRecord)
			}

			undone, err := Undo(Options{})
			if err != nil {
				t.Fatalf("undo: %v", err)
			}
			if len(undone) != len(tt.wantRecord) {
				t.Errorf("undo reported %+v, want %d changes", undone, len(tt.wantRecord))
			}
			if got := state(t); !eqState(got, tt.start) {
				t.Fatalf("after undo: %v, want the starting state %v", got, tt.start)
			}
			if got := record(t); got != nil {
				t.Fatalf("record after undo: %v, want the key gone", got)
			}
			if again, err := Undo(Options{}); err != nil || len(again) != 0 {
				t.Fatalf("second undo: %+v %v, want nothing to do", again, err)
			}
			if got := state(t); !eqState(got, tt.start) {
				t.Fatalf("after a second undo: %v, want the starting state %v", got, tt.start)
			}
		})
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	snapshot(t)
	put(t, "SafeModeBlockNonAdmins", zero)
	start := state(t)
	changes, err := Apply(Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0] != (Change{Name: "SafeModeBlockNonAdmins", Before: zero, After: one}) ||
		changes[1] != (Change{Name: "DisableAutomaticRestartSignOn", Before: absent, After: one}) {
		t.Errorf("dry-run setup planned %+v", changes)
	}
	if got := state(t); !eqState(got, start) {
		t.Fatalf("dry-run setup changed the values: %v, was %v", got, start)
	}
	if got := record(t); got != nil {
		t.Fatalf("dry-run setup wrote a record: %v", got)
	}

	if _, err := Apply(Options{}); err != nil {
		t.Fatal(err)
	}
	rec := record(t)
	undo, err := Undo(Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(undo) != 2 || undo[0].After != zero || undo[1].After != absent {
		t.Errorf("dry-run undo planned %+v, want 0 and absent back", undo)
	}
	if got := state(t); !eqState(got, all1) {
		t.Fatalf("dry-run undo changed the values: %v", got)
	}
	if got := record(t); !eqRecord(got, rec) {
		t.Fatalf("dry-run undo changed the record: %v, was %v", got, rec)
	}
}

// A value someone changed after setup set it is theirs: undo leaves it and
// only drops its record; the other value is still restored.
func TestUndoLeavesAValueChangedSinceSetup(t *testing.T) {
	snapshot(t)
	if _, err := Apply(Options{}); err != nil {
		t.Fatal(err)
	}
	put(t, "DisableAutomaticRestartSignOn", zero)
	changes, err := Undo(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Kept || !changes[1].Kept {
		t.Errorf("undo: %+v, want SafeModeBlockNonAdmins restored and DisableAutomaticRestartSignOn kept", changes)
	}
	if got := get(t, "SafeModeBlockNonAdmins"); got != absent {
		t.Errorf("SafeModeBlockNonAdmins after undo: %v, want absent", got)
	}
	if got := get(t, "DisableAutomaticRestartSignOn"); got != zero {
		t.Errorf("DisableAutomaticRestartSignOn after undo: %v, want the 0 set after setup", got)
	}
	if got := record(t); got != nil {
		t.Errorf("record after undo: %v, want gone", got)
	}
}

// A value of another type (REG_SZ "1", REG_QWORD 1: Windows reads these
// policies as REG_DWORD) is refused before anything is written: setup
// cannot know what it meant, and --undo could not put it back.
func TestSetupRefusesAValueOfAnotherType(t *testing.T) {
	for _, typ := range []string{"REG_SZ", "REG_QWORD"} {
		t.Run(typ, func(t *testing.T) {
			snapshot(t)
			k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, PolicyKey, registry.SET_VALUE|view)
			if err != nil {
				t.Fatal(err)
			}
			if typ == "REG_SZ" {
				err = k.SetStringValue("DisableAutomaticRestartSignOn", "1")
			} else {
				err = k.SetQWordValue("DisableAutomaticRestartSignOn", 1)
			}
			k.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { put(t, "DisableAutomaticRestartSignOn", absent) })
			changes, err := Apply(Options{})
			if err == nil || !strings.Contains(err.Error(), "reg delete") {
				t.Fatalf("setup over a %s: %+v %v, want an error saying what to delete", typ, changes, err)
			}
			if got := get(t, "SafeModeBlockNonAdmins"); got != absent {
				t.Errorf("SafeModeBlockNonAdmins: %v, want untouched (absent)", got)
			}
			if got := record(t); got != nil {
				t.Errorf("record: %v, want none", got)
			}
		})
	}
}

// doctor is the judge: its safe-mode and ARSO checks warn before setup,
// pass after it, and warn again after --undo.
func TestDoctorPassesAfterSetup(t *testing.T) {
	snapshot(t)
	check := func(when string, wantOK bool) {
		t.Helper()
		seen := 0
		for _, f := range doctor.WindowsLogon(doctor.ReadLogonState()) {
			text := f.Problem + " " + f.Fix
			if !strings.Contains(text, "SafeModeBlockNonAdmins") && !strings.Contains(text, "DisableAutomaticRestartSignOn") {
				continue
			}
			seen++
			if (f.Severity == doctor.OK) != wantOK {
				t.Errorf("%s: doctor says %s: %s", when, f.Severity, f.Problem)
			}
		}
		if seen != 2 {
			t.Errorf("%s: doctor has %d safe-mode/ARSO findings, want 2", when, seen)
		}
	}
	check("before setup", false)
	if _, err := Apply(Options{}); err != nil {
		t.Fatal(err)
	}
	check("after setup", true)
	if _, err := Undo(Options{}); err != nil {
		t.Fatal(err)
	}
	check("after undo", false)
}

// A value reset after setup and set again by a second setup keeps its
// first record: --undo goes back to the state before setup ever ran.
func TestSecondSetupKeepsTheFirstRecord(t *testing.T) {
	snapshot(t)
	if _, err := Apply(Options{}); err != nil {
		t.Fatal(err)
	}
	put(t, "SafeModeBlockNonAdmins", zero)
	changes, err := Apply(Options{})
	if err != nil || len(changes) != 1 || changes[0].Before != zero {
		t.Fatalf("setup after a reset to 0: %+v %v, want one change from 0", changes, err)
	}
	want := map[string]string{"SafeModeBlockNonAdmins": "absent", "DisableAutomaticRestartSignOn": "absent"}
	if got := record(t); !eqRecord(got, want) {
		t.Fatalf("record: %v, want the first run's %v", got, want)
	}
	if _, err := Undo(Options{}); err != nil {
		t.Fatal(err)
	}
	if got := state(t); got["SafeModeBlockNonAdmins"] != absent || got["DisableAutomaticRestartSignOn"] != absent {
		t.Fatalf("after undo: %v, want both absent as before the first setup", got)
	}
}

// keepSnapshot saves HKLM\SOFTWARE\jcmfa KeepProviders, clears it, and
// puts it back when the test ends.
func keepSnapshot(t *testing.T) {
	t.Helper()
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, SettingsKey, registry.QUERY_VALUE|registry.SET_VALUE|view)
	if err != nil {
		t.Fatal(err)
	}
	saved, _, serr := k.GetStringsValue(KeepValue)
	k.DeleteValue(KeepValue)
	k.Close()
	t.Cleanup(func() {
		k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, SettingsKey, registry.SET_VALUE|view)
		if err != nil {
			t.Error(err)
			return
		}
		defer k.Close()
		k.DeleteValue(KeepValue)
		if serr == nil {
			k.SetStringsValue(KeepValue, saved)
		}
	})
}

// setup keep-providers writes exactly the list the DLL reads, refuses a
// list with any entry the DLL would ignore (writing nothing), and doctor
// then warns once for each provider kept.
func TestKeepProvidersWritesWhatTheDLLReads(t *testing.T) {
	keepSnapshot(t)
	if _, err := KeepProviders([]string{"NGC", " {F8A1793B-7873-4046-B2A7-1F318747F427} "}, true); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := ReadKeepProviders(); v != nil {
		t.Fatalf("dry run wrote %q", v)
	}
	if _, err := KeepProviders([]string{"NGC", " {F8A1793B-7873-4046-B2A7-1F318747F427} "}, false); err != nil {
		t.Fatal(err)
	}
	v, split, err := ReadKeepProviders()
	if err != nil || split || strings.Join(v, "|") != "NGC|{F8A1793B-7873-4046-B2A7-1F318747F427}" {
		t.Fatalf("KeepProviders = %q split=%v %v", v, split, err)
	}
	warns := 0
	for _, f := range doctor.WindowsLogon(doctor.ReadLogonState()) {
		if f.Severity == doctor.Warn && strings.Contains(f.Problem, "KeepProviders keeps") {
			warns++
		}
	}
	if warns != 2 {
		t.Errorf("doctor: %d KeepProviders warnings, want 2", warns)
	}

	before, err := KeepProviders([]string{"FIDO", "Password", "{zz}"}, false)
	if !errors.Is(err, ErrBadKeepEntry) || !strings.Contains(err.Error(), `"Password", "{zz}"`) || before != nil {
		t.Fatalf("a list with bad entries: %v (before %q), want ErrBadKeepEntry naming both", err, before)
	}
	if v, _, _ := ReadKeepProviders(); len(v) != 2 {
		t.Fatalf("a refused list changed the value to %q", v)
	}
	if before, err := KeepProviders(nil, false); err != nil || len(before) != 2 {
		t.Fatalf("clear: before %q, %v", before, err)
	}
	if v, _, err := ReadKeepProviders(); v != nil || err != nil {
		t.Fatalf("after clear: %q %v", v, err)
	}
}
