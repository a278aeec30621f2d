package parsers

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExpandLinksAndUnreadable: in an evidence tree, a link to a file is
// read as the file, a link to a directory is not followed (it may lead
// back up) and is said so, a link to nothing and a directory that cannot
// be read are each that entry's error when opened — the rest is read.
func TestExpandLinksAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	os.MkdirAll(filepath.Join(ev, "a"), 0o755)
	os.WriteFile(filepath.Join(ev, "a", "maillog"), []byte(postfixLine(1)), 0o644)
	os.Symlink("..", filepath.Join(ev, "a", "up"))
	os.Symlink(filepath.Join(ev, "a", "maillog"), filepath.Join(ev, "link.log"))
	os.Symlink("/nonexistent/x.log", filepath.Join(ev, "dangling.log"))
	locked := filepath.Join(ev, "locked")
	os.MkdirAll(locked, 0o755)
	os.WriteFile(filepath.Join(locked, "fw.log"), []byte("x\n"), 0o644)
	asRoot := os.Geteuid() == 0
	if !asRoot {
		os.Chmod(locked, 0o000)
		defer os.Chmod(locked, 0o755)
	}
	files, skipped, err := Expand([]string{ev})
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	want := []string{filepath.Join(ev, "a", "maillog"), filepath.Join(ev, "dangling.log"), filepath.Join(ev, "link.log"), locked}
	if asRoot {
		want[3] = filepath.Join(locked, "fw.log")
		t.Log("as root every directory is readable: the unreadable directory is not tried here (checked by hand as nobody)")
	}
	if !slices.Equal(files, want) {
		t.Fatalf("files %q, want %q", files, want)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "a link to the directory .., not followed") {
		t.Fatalf("skipped %q", skipped)
	}
	_, hosts := readMember(t, filepath.Join(ev, "link.log"))
	if len(hosts) != 1 || hosts[0] != "mx1" {
		t.Fatalf("link.log read as %v", hosts)
	}
	if _, err := Open(filepath.Join(ev, "dangling.log")); err == nil || !strings.Contains(err.Error(), "a symbolic link to /nonexistent/x.log, which cannot be read") {
		t.Fatalf("dangling link: %v", err)
	}
	if !asRoot {
		if _, err := Open(locked); err == nil || !strings.Contains(err.Error(), "cannot be read") || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("unreadable directory: %v", err)
		}
	}
}
