package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// benchFleet makes a workspace with devices registered and users secrets,
// every user bound to every device (the worst case: "everyone everywhere").
func benchFleet(b *testing.B, users, devices int) (Workspace, string, []*identityPair) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "fleet")
	w, err := Init(dir, InitOptions{BinBits: 8})
	if err != nil {
		b.Fatal(err)
	}
	var ids []*identityPair
	ds := map[string]Device{}
	for i := 0; i < devices; i++ {
		id, _ := NewIdentity()
		ids = append(ids, &identityPair{name: "dev" + strconv.Itoa(i), id: id.String(), rcpt: id.Recipient().String()})
		ds[ids[i].name] = Device{Recipient: id.Recipient().String(), Added: time.Now()}
	}
	raw, _ := jsonMarshal(ds)
	os.WriteFile(filepath.Join(dir, devicesFile), raw, 0o644)
	secrets := map[string]store.Secret{}
	var spec strings.Builder
	spec.WriteString("version: 1\norg: {totp: true}\ndevice_groups:\n  all: {mfa: true, devices: [\"*\"]}\nusers:\n")
	for i := 0; i < users; i++ {
		name := "user" + strconv.Itoa(i)
		k, _, _ := totp.NewKey("jcmfa", name, totp.Default)
		secrets[name] = store.Secret{Key: k, Algorithm: "SHA1", Digits: 6, Period: 30, EnrolledAt: time.Now()}
		fmt.Fprintf(&spec, "  %s: {device_groups: [all]}\n", name)
	}
	if err := w.saveSecrets(secretsDoc{Users: secrets}); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(path, []byte(spec.String()), 0o644)
	return w, path, ids
}

type identityPair struct{ name, id, rcpt string }

// BenchmarkPublish10kUsers: one publish that re-seals every device's
// bundle (a change that touches all of them). FLEET_BENCH_DEVICES sets the
// device count (default 100; the figure for 1,000 in docs/benchmarks.md is
// measured or extrapolated as it says).
func BenchmarkPublish10kUsers(b *testing.B) {
	devices := 100
	if s := os.Getenv("FLEET_BENCH_DEVICES"); s != "" {
		devices, _ = strconv.Atoi(s)
	}
	w, spec, _ := benchFleet(b, 10000, devices)
	raw, _ := os.ReadFile(spec)
	b.ResetTimer()
	var res PublishResult
	for i := 0; i < b.N; i++ {
		// A different setting each time so every bundle changes.
		os.WriteFile(spec, append([]byte(fmt.Sprintf("settings: {attempts: %d}\n", i%100+1)), raw...), 0o644)
		var err error
		if res, err = w.Publish(spec, PublishOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(devices), "devices")
	b.ReportMetric(float64(res.BundleBytes)/float64(devices), "bundle-bytes")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(devices), "ms/device")
	for _, f := range []string{"timestamp.json", fmt.Sprintf("%d.snapshot.json", res.SnapshotVer)} {
		if fi, err := os.Stat(filepath.Join(w.RepositoryDir(), f)); err == nil {
			b.ReportMetric(float64(fi.Size()), strings.SplitN(strings.TrimPrefix(f, fmt.Sprint(res.SnapshotVer)+"."), ".", 2)[0]+"-bytes")
		}
	}
}

// BenchmarkApply10kUserBundle: what a device does with a new bundle:
// decrypt, decompress, decode, and replace its configuration in one
// transaction.
func BenchmarkApply10kUserBundle(b *testing.B) {
	w, spec, ids := benchFleet(b, 10000, 1)
	res, err := w.Publish(spec, PublishOptions{})
	if err != nil {
		b.Fatal(err)
	}
	st, _ := w.loadState()
	d := st.Devices[ids[0].name]
	var sealed []byte
	ents, _ := os.ReadDir(filepath.Join(w.RepositoryDir(), "targets", "devices"))
	for _, e := range ents {
		if strings.HasSuffix(d.Target, strings.SplitN(e.Name(), ".", 2)[1]) {
			sealed, _ = os.ReadFile(filepath.Join(w.RepositoryDir(), "targets", "devices", e.Name()))
		}
	}
	id, _ := loadIdentityString(ids[0].id)
	key := make([]byte, store.KeySize)
	s, err := store.Open(filepath.Join(b.TempDir(), "state", "jcmfa.db"), key, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := OpenBundle(sealed, id)
		if err != nil {
			b.Fatal(err)
		}
		p.Serial = int64(res.Serial) + int64(i)
		if err := s.ApplyBundle(store.Bundle{Record: store.FleetRecord{Managed: true, Serial: p.Serial},
			Settings: p.Settings, Users: p.Users, Policies: p.Policies}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(sealed)), "bundle-bytes")
}
