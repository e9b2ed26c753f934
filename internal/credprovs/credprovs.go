// Package credprovs names Windows' credential providers for the
// KeepProviders setting: which entries the credential provider's filter
// accepts (credprovider/settings.cpp, ParseKeepEntry) and what each keeps
// visible. It is the Go half of that one rule, so `setup keep-providers`
// refuses exactly what the DLL would ignore, and doctor can say which
// providers are a way around the code. Pure Go: it runs and is tested on
// every system.
package credprovs

import (
	"regexp"
	"strings"
)

// Known is one well-known name and one class ID it stands for; a name may
// have several rows. The rows, and where each class ID comes from, are
// credprovider/settings.cpp's kKnownProviders; TestTableMatchesTheDLL
// compares the two.
type Known struct {
	Name  string
	CLSID string // lower case, in braces
	What  string // what it is, for people
}

// Table is every well-known name, in the DLL's order.
var Table = []Known{
	{"PasswordProvider", "{60b78e88-ead8-445c-9cfd-0b87f74ea6cd}", "Windows' password tile"},
	{"SmartCardProvider", "{8fd7e19c-3bf7-489b-a72c-846ab3678c96}", "smart card"},
	{"SmartCardProvider", "{94596c7e-3744-41ce-893e-bbf09122f76a}", "smart card PIN"},
	{"SmartCardProvider", "{1b283861-754f-4022-ad47-a5eaaa618894}", "smart card reader selection"},
	{"SmartCardProvider", "{1ee7337f-85ac-45e2-a23c-37c753209769}", "smart card (WinRT)"},
	{"NGC", "{d6886603-9d2f-4eb2-b667-1971041fa96b}", "Windows Hello PIN (NGC)"},
	{"PINProvider", "{d6886603-9d2f-4eb2-b667-1971041fa96b}", "Windows Hello PIN (NGC)"},
	{"WindowsHello", "{d6886603-9d2f-4eb2-b667-1971041fa96b}", "Windows Hello PIN (NGC)"},
	{"WinBio", "{bec09223-b018-416d-a0ac-523971b639f5}", "Windows Hello biometrics (WinBio)"},
	{"FIDO", "{f8a1793b-7873-4046-b2a7-1f318747f427}", "FIDO security key"},
}

// Kept is one accepted entry and the class IDs it keeps visible.
type Kept struct {
	Entry  string   // as written
	CLSIDs []string // lower case, in braces
	What   string   // for a name, what it is; "" for a bare class ID
}

var clsidRE = regexp.MustCompile(`^(\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$`)

// ParseEntry is the DLL's ParseKeepEntry: a class ID ({8-4-4-4-12} or the
// same without braces, either case) or a well-known name (any case);
// spaces and tabs around it are dropped, as the DLL does. ok is false for
// anything else.
func ParseEntry(entry string) (k Kept, ok bool) {
	e := strings.Trim(entry, " \t")
	k.Entry = entry
	if clsidRE.MatchString(e) {
		id := strings.ToLower(strings.Trim(e, "{}"))
		k.CLSIDs = []string{"{" + id + "}"}
		for _, t := range Table {
			if t.CLSID == k.CLSIDs[0] {
				k.What = t.What
				break
			}
		}
		return k, true
	}
	for _, t := range Table {
		if strings.EqualFold(e, t.Name) {
			k.CLSIDs = append(k.CLSIDs, t.CLSID)
			k.What = t.What
		}
	}
	if strings.EqualFold(e, "SmartCardProvider") {
		k.What = "smart card (all four of Windows' smart card providers)"
	}
	return k, len(k.CLSIDs) > 0
}

// Parse sorts a KeepProviders value's entries into those the DLL keeps and
// those it ignores, as the DLL reads them: a REG_MULTI_SZ value is one
// entry a string (pass its strings, split false); a REG_SZ value is one
// string with entries separated by ";" or "," (pass it alone, split
// true). Empty entries are skipped.
func Parse(values []string, split bool) (kept []Kept, ignored []string) {
	for _, v := range values {
		entries := []string{v}
		if split {
			entries = strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' })
		}
		for _, e := range entries {
			if strings.Trim(e, " \t") == "" {
				continue
			}
			if k, ok := ParseEntry(e); ok {
				kept = append(kept, k)
			} else {
				ignored = append(ignored, strings.Trim(e, " \t"))
			}
		}
	}
	return kept, ignored
}

// Names lists the well-known names, each once, for messages.
func Names() string {
	var names []string
	for _, t := range Table {
		if len(names) == 0 || names[len(names)-1] != t.Name {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ", ")
}
