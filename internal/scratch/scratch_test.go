//go:build unix

// Only built where processes are checked (alive_unix.go): elsewhere
// nothing is swept (alive_other.go).

package scratch

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestSweepStale: the copies a killed run left are removed by the next
// run; those of a live process (this one), of an older version's naming,
// and anything not a directory are left.
func TestSweepStale(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead, own := strconv.Itoa(cmd.Process.Pid), strconv.Itoa(os.Getpid())
	dir := t.TempDir()
	for _, d := range []string{"exfiltrace-tar-" + dead + "-1", "exfiltrace-7z-" + own + "-2", "exfiltrace-zip-3", "exfiltrace-nested-" + dead + "-4/member"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "exfiltrace-7z-"+dead+"-5"), []byte("a file"), 0o600)
	// A process killed but not yet reaped (a zombie) is gone too.
	zombie := exec.Command("true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer zombie.Wait()
	zpid := strconv.Itoa(zombie.Process.Pid)
	if runtime.GOOS == "linux" {
		for i := 0; i < 200 && processAlive(zombie.Process.Pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		os.MkdirAll(filepath.Join(dir, "exfiltrace-zip-"+zpid+"-6"), 0o700)
	}
	sweepStale(dir)
	for d, kept := range map[string]bool{
		"exfiltrace-tar-" + dead + "-1":    false,
		"exfiltrace-nested-" + dead + "-4": false,
		"exfiltrace-7z-" + own + "-2":      true,
		"exfiltrace-zip-3":                 true,
		"exfiltrace-7z-" + dead + "-5":     true,
		"exfiltrace-zip-" + zpid + "-6":    false,
	} {
		if _, err := os.Stat(filepath.Join(dir, d)); (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v", d, err == nil, kept)
		}
	}
}
