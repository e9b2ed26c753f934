package daemon

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/eventlog"
)

// The MSI registers the Event Log source itself (it never runs `service
// install`); its rows must be what eventlog.InstallAsEventCreate writes
// for `service install`, value for value and type for type. Runs under
// wine (make test-wine-go): the real InstallAsEventCreate, a throwaway
// source name, wine's registry.
func TestMSIRegistersTheEventSourceAsServiceInstallDoes(t *testing.T) {
	wxs, err := os.ReadFile("../../packaging/windows/jcmfa.wxs")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Key="` + regexp.QuoteMeta(eventLogKey+`\`+EventSource) + `"`).Match(wxs) {
		t.Fatalf("jcmfa.wxs has no RegistryKey %s\\%s", eventLogKey, EventSource)
	}
	msi := map[string]string{}
	for _, m := range regexp.MustCompile(`<RegistryValue Type="(\w+)" Name="(\w+)" Value="([^"]*)"/>`).FindAllSubmatch(wxs, -1) {
		msi[string(m[2])] = string(m[1]) + " " + string(m[3])
	}

	// Windows always has the Application log's key; in the test prefix
	// wine's msiexec (make test-msi) deletes it when it rolls back an
	// install that left it empty, so put it back if it is missing.
	if k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, eventLogKey, registry.QUERY_VALUE); err == nil {
		k.Close()
	}
	src := fmt.Sprintf("jcmfa-test-%d", os.Getpid())
	if err := eventlog.InstallAsEventCreate(src, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil {
		t.Fatal(err)
	}
	defer eventlog.Remove(src)
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, eventLogKey+`\`+src, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	names, _ := k.ReadValueNames(0)
	if len(names) != 3 {
		t.Errorf("InstallAsEventCreate wrote %v; the MSI writes CustomSource, EventMessageFile, TypesSupported", names)
	}
	for _, n := range names {
		var got string
		if s, typ, err := k.GetStringValue(n); err == nil {
			// The Registry table's "#%" is REG_EXPAND_SZ.
			got = map[uint32]string{registry.EXPAND_SZ: "expandable #%", registry.SZ: "string "}[typ] + s
		} else if d, _, err := k.GetIntegerValue(n); err == nil {
			got = fmt.Sprintf("integer %d", d)
		}
		if msi[n] != got {
			t.Errorf("%s: service install writes %q, the MSI %q", n, got, msi[n])
		}
	}
}
