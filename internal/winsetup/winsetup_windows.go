package winsetup

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/jcmfa/jcmfa/internal/credprovs"
)

// The agent is a 64-bit program, so these name the 64-bit view that
// LogonUI and Winlogon read; the flag only says so explicitly, as doctor
// does.
const view = registry.WOW64_64KEY

// Apply sets every Setting to 1. The first time it changes a value it
// records the value's previous state under RecordKey, before writing the
// value, so that nothing is ever set without a way back; a value already 1
// is neither written nor recorded, so a second run changes nothing.
func Apply(o Options) ([]Change, error) {
	policy, err := openPolicy(!o.DryRun)
	if err != nil {
		return nil, err
	}
	defer closeKey(policy)
	var plan []Change
	for _, s := range Settings {
		v, err := readValue(policy, s.Name)
		if err != nil {
			return nil, err
		}
		if v.Present && v.DWord == 1 {
			continue
		}
		plan = append(plan, Change{Name: s.Name, Before: v, After: Value{Present: true, DWord: 1}})
	}
	if o.DryRun || len(plan) == 0 {
		return plan, nil
	}
	rec, _, err := registry.CreateKey(registry.LOCAL_MACHINE, RecordKey, registry.QUERY_VALUE|registry.SET_VALUE|view)
	if err != nil {
		return nil, writeErr(`HKLM\`+RecordKey, err)
	}
	defer rec.Close()
	for i, ch := range plan {
		// An earlier run's record is kept: it holds the state before
		// setup first ran, which is what --undo must put back.
		if _, _, err := rec.GetStringValue(ch.Name); errors.Is(err, registry.ErrNotExist) {
			if err := rec.SetStringValue(ch.Name, ch.Before.String()); err != nil {
				return plan[:i], writeErr(`HKLM\`+RecordKey+`\`+ch.Name, err)
			}
		}
		if err := policy.SetDWordValue(ch.Name, 1); err != nil {
			return plan[:i], writeErr(`HKLM\`+PolicyKey+`\`+ch.Name, err)
		}
	}
	return plan, nil
}

// Undo puts back what Apply recorded: a value that was absent is deleted,
// any other gets its previous REG_DWORD. A value no longer 1 was changed
// by someone after setup set it; Undo leaves it (Kept) and drops only its
// record. Nothing recorded: nothing to do.
func Undo(o Options) ([]Change, error) {
	access := uint32(registry.QUERY_VALUE | view)
	if !o.DryRun {
		access |= registry.SET_VALUE
	}
	rec, err := registry.OpenKey(registry.LOCAL_MACHINE, RecordKey, access)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, writeErr(`HKLM\`+RecordKey, err)
	}
	defer func() {
		if rec != 0 {
			rec.Close()
		}
	}()
	policy, err := openPolicy(!o.DryRun)
	if err != nil {
		return nil, err
	}
	defer closeKey(policy)
	var plan []Change
	for _, s := range Settings {
		was, _, err := rec.GetStringValue(s.Name)
		if errors.Is(err, registry.ErrNotExist) {
			continue
		}
		before, perr := parseRecord(was)
		if err != nil || perr != nil {
			return nil, fmt.Errorf(`HKLM\%s\%s is not a record setup windows wrote (%q, %v): set HKLM\%s\%s by hand, then: reg delete HKLM\%s /v %s /f`,
				RecordKey, s.Name, was, errors.Join(err, perr), PolicyKey, s.Name, RecordKey, s.Name)
		}
		cur, err := readValue(policy, s.Name)
		if err != nil {
			return nil, err
		}
		ch := Change{Name: s.Name, Before: cur, After: before}
		if !cur.Present || cur.DWord != 1 {
			ch.After, ch.Kept = cur, true
		}
		plan = append(plan, ch)
	}
	if o.DryRun {
		return plan, nil
	}
	for i, ch := range plan {
		var err error
		switch {
		case ch.Kept:
		case !ch.After.Present:
			err = policy.DeleteValue(ch.Name)
		default:
			err = policy.SetDWordValue(ch.Name, ch.After.DWord)
		}
		if err != nil {
			return plan[:i], writeErr(`HKLM\`+PolicyKey+`\`+ch.Name, err)
		}
		if err := rec.DeleteValue(ch.Name); err != nil {
			return plan[:i+1], writeErr(`HKLM\`+RecordKey+`\`+ch.Name, err)
		}
	}
	// The record key goes once it is empty, so a machine after --undo
	// looks as it did before setup.
	if info, err := rec.Stat(); err == nil && info.ValueCount == 0 && info.SubKeyCount == 0 {
		rec.Close()
		rec = 0
		if err := registry.DeleteKey(registry.LOCAL_MACHINE, RecordKey); err != nil {
			return plan, writeErr(`HKLM\`+RecordKey, err)
		}
	}
	return plan, nil
}

// openPolicy opens PolicyKey, for writing when write is set (creating it
// if this Windows has none). Read-only, a missing key reads as every value
// absent.
func openPolicy(write bool) (registry.Key, error) {
	if write {
		k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, PolicyKey, registry.QUERY_VALUE|registry.SET_VALUE|view)
		if err != nil {
			return 0, writeErr(`HKLM\`+PolicyKey, err)
		}
		return k, nil
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, PolicyKey, registry.QUERY_VALUE|view)
	if errors.Is(err, registry.ErrNotExist) {
		return 0, nil // no key: readValue answers "absent" for every name
	}
	if err != nil {
		return 0, fmt.Errorf(`read HKLM\%s: %w`, PolicyKey, err)
	}
	return k, nil
}

// readValue reads one policy value. Windows reads these as REG_DWORD; a
// value of any other type is refused rather than overwritten, since what
// it meant to whoever wrote it cannot be known, and Undo could not put it
// back.
func readValue(k registry.Key, name string) (Value, error) {
	if k == 0 {
		return Value{}, nil
	}
	d, typ, err := k.GetIntegerValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return Value{}, nil
	}
	if err == nil && typ != registry.DWORD {
		err = registry.ErrUnexpectedType
	}
	if err != nil {
		return Value{}, fmt.Errorf(`HKLM\%s\%s cannot be read as a REG_DWORD (%v): delete it (reg delete HKLM\%s /v %s /f) and run setup windows again`,
			PolicyKey, name, err, PolicyKey, name)
	}
	return Value{Present: true, DWord: uint32(d)}, nil
}

func closeKey(k registry.Key) {
	if k != 0 {
		k.Close()
	}
}

func parseRecord(s string) (Value, error) {
	if s == Absent {
		return Value{}, nil
	}
	d, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return Value{}, err
	}
	return Value{Present: true, DWord: uint32(d)}, nil
}

func writeErr(what string, err error) error {
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return ErrNotAdmin
	}
	return fmt.Errorf("write %s: %w", what, err)
}

// KeepProviders writes HKLM\SOFTWARE\jcmfa KeepProviders (REG_MULTI_SZ)
// as entries, in the order given, after checking each against the rule
// the credential provider reads it by (credprovs.ParseEntry); any entry it
// would ignore refuses the whole list and writes nothing. No entries
// deletes the value. It returns what was there before (one string per
// entry; a REG_SZ value's one string). With dryRun it only checks and
// reads.
func KeepProviders(entries []string, dryRun bool) (before []string, err error) {
	var bad []string
	for _, e := range entries {
		if _, ok := credprovs.ParseEntry(e); !ok || strings.Trim(e, " \t") == "" {
			bad = append(bad, fmt.Sprintf("%q", e))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("KeepProviders %s: %w; known names: %s", strings.Join(bad, ", "), ErrBadKeepEntry, credprovs.Names())
	}
	before, _, err = ReadKeepProviders()
	if err != nil || dryRun {
		return before, err
	}
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, SettingsKey, registry.QUERY_VALUE|registry.SET_VALUE|view)
	if err != nil {
		return before, writeErr(`HKLM\`+SettingsKey, err)
	}
	defer k.Close()
	if len(entries) == 0 {
		if err := k.DeleteValue(KeepValue); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return before, writeErr(`HKLM\`+SettingsKey+`\`+KeepValue, err)
		}
		return before, nil
	}
	clean := make([]string, len(entries))
	for i, e := range entries {
		clean[i] = strings.Trim(e, " \t")
	}
	if err := k.SetStringsValue(KeepValue, clean); err != nil {
		return before, writeErr(`HKLM\`+SettingsKey+`\`+KeepValue, err)
	}
	return before, nil
}

// ReadKeepProviders reads KeepProviders as the credential provider does:
// a REG_MULTI_SZ's strings, or a REG_SZ's one string (split: its entries
// are separated by ";" or ","). Absent: nil.
func ReadKeepProviders() (values []string, split bool, err error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, SettingsKey, registry.QUERY_VALUE|view)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf(`read HKLM\%s: %w`, SettingsKey, err)
	}
	defer k.Close()
	v, _, err := k.GetStringsValue(KeepValue)
	switch {
	case err == nil:
		return v, false, nil
	case errors.Is(err, registry.ErrNotExist):
		return nil, false, nil
	case errors.Is(err, registry.ErrUnexpectedType):
		if sz, _, err := k.GetStringValue(KeepValue); err == nil {
			return []string{sz}, true, nil
		}
	}
	return nil, false, fmt.Errorf(`HKLM\%s\%s is neither REG_MULTI_SZ nor REG_SZ: reg delete HKLM\%s /v %s /f`, SettingsKey, KeepValue, SettingsKey, KeepValue)
}
