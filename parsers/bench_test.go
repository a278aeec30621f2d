package parsers

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

func benchFile(b *testing.B, path string) {
	st, err := os.Stat(path)
	if err != nil {
		b.Skipf("%s: %v", path, err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var n int64
	for i := 0; i < b.N; i++ {
		in, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Parse(in, &Options{TZ: time.UTC, Year: 2025}, func(*event.Event) { n++ }); err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParseFortiGate(b *testing.B) {
	benchFile(b, "../samples/incident/firewall/fortigate.log")
}
func BenchmarkParsePostfix(b *testing.B) { benchFile(b, "../samples/incident/mail/mail.log") }
func BenchmarkParseWindowsXML(b *testing.B) {
	benchFile(b, "../samples/incident/windows/FS01-Security.xml")
}
func BenchmarkParseEVTX(b *testing.B) {
	benchFile(b, filepath.Join(corpus.Dir(b, "evtx/omerbenamram-evtx"), "security.evtx"))
}
