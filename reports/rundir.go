package reports

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// runDirPrefix names the flow ledger's directories of runs. The host and
// process are part of the name so that a later report can tell the runs of
// a report that was killed (kill -9, power cut) from those of one still
// running, and remove them.
const runDirPrefix = ".exfiltrace-flows-"

// makeRunDir creates a directory for runs under parent ("" for the
// system's temporary directory), first removing what killed reports of this
// host left there.
func makeRunDir(parent string) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	removeStaleRunDirs(parent)
	return os.MkdirTemp(parent, runDirPrefix+runDirOwner(os.Getpid())+"-")
}

// runDirOwner is the host and process part of a directory's name.
func runDirOwner(pid int) string {
	host, _ := os.Hostname()
	host = strings.NewReplacer("-", "_", "/", "_", string(filepath.Separator), "_").Replace(host)
	return host + "-" + strconv.Itoa(pid)
}

// removeStaleRunDirs removes the directories of runs left under parent by
// processes of this host that no longer exist. Directories of other hosts
// (a case on a shared disk), of running processes, or named otherwise are
// left alone.
func removeStaleRunDirs(parent string) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		pid, ok := staleOwner(e.Name())
		if !ok || !e.IsDir() || !processGone(pid) {
			continue
		}
		if os.RemoveAll(filepath.Join(parent, e.Name())) == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed
}

// staleOwner reads the process id from a runs directory's name made on
// this host.
func staleOwner(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, runDirPrefix)
	if !ok {
		return 0, false
	}
	owner, _, ok := cutLast(rest, "-") // the random suffix
	if !ok {
		return 0, false
	}
	host, pidText, ok := cutLast(owner, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || host+"-"+pidText != runDirOwner(pid) {
		return 0, false
	}
	return pid, true
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
