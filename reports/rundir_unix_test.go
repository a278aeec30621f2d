//go:build unix

package reports

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestStaleRunDirsRemoved: a report removes the runs that killed reports of
// this host left beside it, and nothing else: not the runs of a report still
// running, of another host, a file, or a directory named otherwise.
func TestStaleRunDirsRemoved(t *testing.T) {
	parent := t.TempDir()
	dead := 0
	for try := 0; try < 5 && dead == 0; try++ { // a pid reused at once is tried again
		gone := exec.Command("true")
		if err := gone.Run(); err != nil {
			t.Fatal(err)
		}
		if processGone(gone.Process.Pid) {
			dead = gone.Process.Pid
		}
	}
	if dead == 0 {
		t.Fatal("no process id stayed free after its process ended")
	}
	mk := func(name string, dir bool) {
		p := filepath.Join(parent, name)
		var err error
		if dir {
			err = os.MkdirAll(filepath.Join(p, "sub"), 0o755)
		} else {
			err = os.WriteFile(p, []byte("x"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	killed := runDirPrefix + runDirOwner(dead) + "-123456"
	running := runDirPrefix + runDirOwner(os.Getpid()) + "-654321"
	parentProc := runDirPrefix + runDirOwner(os.Getppid()) + "-1"
	otherHost := runDirPrefix + "another_host-" + strconv.Itoa(dead) + "-42"
	oldName := runDirPrefix + "987654321"
	aFile := runDirPrefix + runDirOwner(dead) + "-7"
	other := "evidence-" + runDirOwner(dead) + "-1"
	for _, n := range []string{killed, running, parentProc, otherHost, oldName, other} {
		mk(n, true)
	}
	mk(aFile, false)

	dir, err := makeRunDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(dir), runDirPrefix+runDirOwner(os.Getpid())+"-") {
		t.Errorf("new runs directory %s does not name this host and process", dir)
	}
	entries, _ := os.ReadDir(parent)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if slices.Contains(left, killed) {
		t.Errorf("the killed report's runs %s were kept", killed)
	}
	for _, n := range []string{running, parentProc, otherHost, oldName, aFile, other, filepath.Base(dir)} {
		if !slices.Contains(left, n) {
			t.Errorf("%s was removed", n)
		}
	}
}
