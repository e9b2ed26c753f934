//go:build linux && cgo

package benchtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/devicekey"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/paths"
	"github.com/jcmfa/jcmfa/internal/store"
)

// BenchmarkScale: for 1k, 10k and 100k enrolled users, the store's size,
// the time to open it (store.Open: the file, the key check and the bucket
// set-up; the median of 5), the time `users` takes over the socket for
// every user (the median of 3), and the daemon's resident memory when idle
// and its peak after the listings.
func BenchmarkScale(b *testing.B) {
	need(b)
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			sd := filepath.Join(work, "scale-"+strconv.Itoa(n))
			os.RemoveAll(sd)
			defer os.RemoveAll(sd)
			populate(b, sd, n, bigName)
			fi, err := os.Stat(paths.Store(sd))
			if err != nil {
				b.Fatal(err)
			}
			key, err := devicekey.Default(sd).Key()
			if err != nil {
				b.Fatal(err)
			}
			var opens latencies
			b.ResetTimer()
			for range 5 * b.N {
				t0 := time.Now()
				st, err := store.Open(paths.Store(sd), key, store.Options{})
				opens = append(opens, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				st.Close()
			}
			d := startDaemon(b, sd)
			defer d.stop()
			time.Sleep(200 * time.Millisecond)
			idle, _, _ := d.memory()
			c := ipc.Client{Path: d.sock, Timeout: 60 * time.Second, Kind: "bench"}
			var lists latencies
			for range 3 * b.N {
				rows := 0
				t0 := time.Now()
				err := c.Stream("users.list", nil, nil, func(json.RawMessage) error { rows++; return nil })
				lists = append(lists, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if rows != n {
					b.Fatalf("users listed %d rows, want %d", rows, n)
				}
			}
			b.StopTimer()
			rss, hwm, anon := d.memory()
			b.ReportMetric(float64(fi.Size())/1e6, "store-MB")
			b.ReportMetric(ms(opens.pct(50)), "open-ms")
			b.ReportMetric(ms(lists.pct(50)), "list-ms")
			b.ReportMetric(idle, "idle-RSS-MB")
			b.ReportMetric(hwm, "peak-RSS-MB")
			b.ReportMetric(anon, "anon-RSS-MB")
			record(secScale, strconv.Itoa(n), result{cols: []string{
				fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6), fmtMS(opens.pct(50)), fmtMS(lists.pct(50)),
				fmt.Sprintf("%.1f MB", idle), fmt.Sprintf("%.1f MB (%.1f MB)", rss, hwm), fmt.Sprintf("%.1f MB", anon)}})
		})
	}
}
