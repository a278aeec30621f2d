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
	"sync"
)

var (
	mu       sync.Mutex
	applied  bool  // the soft limit is this package's, not the user's
	reserved int64 // memory held outside Go's heap, taken from the limit
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
		mu.Lock()
		applied = true
		debug.SetMemoryLimit(max(Default-reserved, Default/4))
		mu.Unlock()
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}

// Beside reserves n bytes of the process's memory for a library that
// allocates outside Go's heap (DuckDB's appender holds a row group of every
// column, ~250 MiB, out of the collector's sight): the soft limit drops by
// n until release is called. It does nothing when the user set GOMEMLIMIT
// or nothing applied the default.
func Beside(n int64) (release func()) {
	mu.Lock()
	defer mu.Unlock()
	if !applied {
		return func() {}
	}
	reserved += n
	debug.SetMemoryLimit(max(Default-reserved, Default/4))
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			reserved -= n
			debug.SetMemoryLimit(max(Default-reserved, Default/4))
		})
	}
}
