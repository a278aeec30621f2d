package parsers

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Copies of archive members live in directories named for the process
// that made them (exfiltrace-KIND-PID-…). ReleaseArchives removes a run's
// own; a run killed before it (kill -9, a crash, a power cut) cannot, and
// a collection of many GB left in $TMPDIR at every retry fills the disk.
// The first copy a run makes sweeps the directories of processes that no
// longer exist.

var sweepOnce sync.Once

// tempDir makes a directory for copies of kind ("tar", "7z", "zip",
// "nested").
func tempDir(kind string) (string, error) {
	sweepOnce.Do(func() { sweepStale(os.TempDir()) })
	return os.MkdirTemp("", fmt.Sprintf("exfiltrace-%s-%d-*", kind, os.Getpid()))
}

// sweepStale removes, under dir, the copy directories of processes that
// are gone. A name without a process id (made by an older version) or
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
