// Package corpus locates the shared test corpus (../shared/corpus beside the
// project root) for tests. The corpus is read in place, never copied.
package corpus

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root returns the project root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Dir returns shared/corpus/<sub>. When the corpus is absent the test is
// skipped with a message saying so: the project must build and test without it.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(Root(t), "..", "shared", "corpus", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared corpus not present at %s (tests against it skipped): %v", p, err)
	}
	return p
}

// SampleTruth reads the ground truth of a bundled sample incident
// (samples/NAME.truth.json) into v.
func SampleTruth(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "samples", name+".truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// Tool returns the path of a peer program a cross-check runs (evtxexport,
// evtx_dump.py, chromium). Without it the test is skipped, saying so —
// except under CI=true, where .ci/run installs the Debian package pkg and
// its absence fails the test.
func Tool(t testing.TB, name, pkg, check string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed; .ci/run installs %s", name, pkg)
		}
		t.Skipf("%s (Debian %s) not installed: %s skipped", name, pkg, check)
	}
	return bin
}
