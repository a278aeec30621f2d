// Package memlimit gives the process a soft heap limit so that memory stays
// bounded on large cases: the Go collector otherwise lets the heap grow to
// twice what is live, which is what a million distinct destinations cost.
package memlimit

import (
	"os"
	"runtime/debug"
)

// Default is the soft limit when GOMEMLIMIT is not set: it keeps the peak
// resident size of every stage under 500 MB on the benchmarks (bench/README.md).
const Default = 400 << 20

// Apply sets the default soft limit unless the user set GOMEMLIMIT.
func Apply() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(Default)
	}
}
