package columns

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// BenchmarkWriterFortiGate appends the samples' FortiGate events, parsed
// beforehand, to a new columnar store: the writer alone, which a firewall
// log's ingest waits on (bench/README, stop 43).
func BenchmarkWriterFortiGate(b *testing.B) {
	in, err := parsers.Open(filepath.Join("..", "samples", "incident", "firewall", "fortigate.log"))
	if err != nil {
		b.Fatal(err)
	}
	var evs []*event.Event
	if _, err := parsers.Parse(in, &parsers.Options{TZ: time.UTC}, func(ev *event.Event) { evs = append(evs, ev) }); err != nil {
		b.Fatal(err)
	}
	in.Close()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		c, err := index.OpenCase(dir, true)
		if err != nil {
			b.Fatal(err)
		}
		w, err := NewWriter(c)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for round := 0; round < 10; round++ {
			for i, ev := range evs {
				if err := w.Add(ev, strconv.Itoa(round*len(evs)+i)); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10*len(evs)), "ns/event")
}
