// Package scratch makes the temporary directories exfiltrace writes beside
// evidence (copies of archive members, analyze's temporary case), named
// for the process that made them, and removes those of processes gone.
package scratch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// A run removes its own directories when done; a run killed before that
// (kill -9, a crash, a power cut) cannot, and copies of a collection of
// many GB, or a temporary case, left in $TMPDIR at every retry fill the
// disk. The first directory a run makes sweeps those of processes that no
// longer exist.

var sweepOnce sync.Once

// Dir makes a directory in $TMPDIR for kind ("tar", "7z", "zip", "nested",
// "case"): exfiltrace-KIND-PID-….
func Dir(kind string) (string, error) {
	sweepOnce.Do(func() { sweepStale(os.TempDir()) })
	return os.MkdirTemp("", fmt.Sprintf("exfiltrace-%s-%d-*", kind, os.Getpid()))
}

// sweepStale removes, under dir, the directories of processes that are
// gone. A name without a process id (made by an older version) or
// whose process still runs is left alone.
func sweepStale(dir string) {
	found, _ := filepath.Glob(filepath.Join(dir, "exfiltrace-*-*-*"))
	for _, p := range found {
		parts := strings.Split(filepath.Base(p), "-")
		if len(parts) != 4 {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			os.RemoveAll(p)
		}
	}
}
