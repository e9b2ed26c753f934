package accounts

import (
	"errors"
	"testing"
	"time"
)

type countingDir struct {
	n   int
	err error
}

func (d *countingDir) Lookup(name string) (Account, bool, error) {
	d.n++
	if d.err != nil {
		return Account{}, false, d.err
	}
	return Account{Name: "alice", ID: "1000"}, name == "alice" || name == "alias", nil
}
func (d *countingDir) Groups(string) ([]string, error) { return nil, nil }

func TestCacheKeepsAnswersForTheirTTLOnly(t *testing.T) {
	d := &countingDir{}
	now := time.Unix(1000, 0)
	c := &Cache{Dir: d, TTL: 30 * time.Second, Max: 2, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if a, found, _ := c.Lookup("alias"); !found || a.Name != "alice" {
			t.Fatal(a, found)
		}
	}
	if d.n != 1 {
		t.Fatalf("asked the OS %d times for one name within the TTL", d.n)
	}
	now = now.Add(31 * time.Second)
	c.Lookup("alias")
	if d.n != 2 {
		t.Fatal("an expired answer was used")
	}
	c.Flush()
	c.Lookup("alias")
	if d.n != 3 {
		t.Fatal("Flush kept an answer")
	}
	// Bounded: a third name starts the cache again rather than grow it.
	c.Lookup("a")
	c.Lookup("b")
	if len(c.m) > c.Max {
		t.Fatalf("%d entries, max %d", len(c.m), c.Max)
	}
	// Errors are not kept: a directory that failed is asked again.
	d.err = errors.New("sssd is down")
	c.Flush()
	c.Lookup("x")
	c.Lookup("x")
	if d.n != 7 {
		t.Fatalf("asked %d times; an error was cached", d.n)
	}
}
