// Package memlimit sets how the Go collector trades memory for time: a soft
// heap limit so that memory stays bounded on large cases (the collector
// otherwise lets the heap grow to twice what is live, which is what a
// million distinct destinations cost), and a collection target of 400 %
// below it, because parsing allocates a lot of short-lived memory and
// collecting it at every doubling cost a third of the EVTX reader's time.
package memlimit

import (
	"os"
	"runtime/debug"
)

// Default is the soft limit when GOMEMLIMIT is not set: it keeps the peak
// resident size of the firewall stages under 500 MB on the benchmarks
// (bench/README.md). It was 400 MiB until decoding ran on every core:
// `analyze --case` of 1 M lines then peaked at 507 MiB, and 475 at 360 MiB.
const Default = 360 << 20

// GCPercent is the collection target when GOGC is not set.
const GCPercent = 400

// Apply sets the defaults unless the user set GOMEMLIMIT or GOGC.
func Apply() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(Default)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}
