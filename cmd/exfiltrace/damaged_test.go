package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// TestAnalyzeSaysRecordsLost: a Security log with a chunk wiped (zeroed
// whole) loses the records numbered between its neighbours; the verdict
// names the file and how many, since what they held escapes the answer.
func TestAnalyzeSaysRecordsLost(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(corpus.Dir(t, "evtx/omerbenamram-evtx"), "security.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 10
	clear(b[4096+chunk*65536 : 4096+(chunk+1)*65536])
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Security.evtx"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "analyze", dir, "--quiet", "--format", "json", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Verdict struct{ Reasons []string } `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	reasons := strings.Join(r.Verdict.Reasons, "\n")
	if !strings.Contains(reasons, "Security.evtx: 88 record(s) lost") {
		t.Errorf("the verdict does not say the 88 records of chunk %d are lost:\n%s", chunk, reasons)
	}
	// The report's evidence table counts them beside the file.
	md := filepath.Join(t.TempDir(), "report.md")
	if _, err := run(t, "analyze", dir, "--quiet", "--lang", "en", "-o", md); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "| evtx | 2173 | 0 | 88 |") {
		t.Errorf("the evidence table does not count the 88 records lost (%v):\n%s", err, b)
	}
	// When, from the records numbered just before and after them.
	if !strings.Contains(reasons, "Written: 88 between 2016-07-16 00:29:34Z and 2016-07-16 00:44:06Z.") {
		t.Errorf("the verdict does not say when the 88 records were written:\n%s", reasons)
	}
}
