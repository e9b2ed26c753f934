package store

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFile is this process's resident file-backed memory (RssFile), bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "RssFile:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// A walk over every user reads the whole file through bbolt's mapping;
// without releasing, all of it would stay in the resident set.
func TestWalkReleasesMappedPages(t *testing.T) {
	s, path, _ := openTemp(t)
	const n = 30000
	err := s.Update(func(tx *Tx) error {
		for i := range n {
			if err := tx.PutUser(User{Name: fmt.Sprintf("user%05d", i), Required: true,
				TOTP: &Secret{Key: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", Algorithm: "SHA1", Digits: 6, Period: 30}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	s.ReleasePages()
	before := rssFile(t)
	seen := 0
	if err := s.View(func(tx *Tx) error { return tx.ForEachUser(func(User) error { seen++; return nil }) }); err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if seen != n {
		t.Fatalf("walked %d users, want %d", seen, n)
	}
	// At most the pages read since the last release (releaseEvery
	// records) and the branch pages may remain.
	if grew := after - before; grew > fi.Size()/3 {
		t.Fatalf("file-backed RSS grew by %d KiB over a walk of a %d KiB store", grew>>10, fi.Size()>>10)
	}
	t.Logf("store %d KiB; RssFile %d -> %d KiB", fi.Size()>>10, before>>10, after>>10)
}
