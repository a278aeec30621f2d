package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	dir, r := analyzeOneFile(t, "Security.evtx", b)
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

// TestAnalyzeSaysReadStopped: a gzip-compressed FortiGate log damaged in
// the middle (its checksum then fails), cut short, or with a damaged
// header. A damaged deflate stream cannot be read past its damage, so
// what follows is neither parsed nor counted: the report must say the
// reading stopped, after how many events, and keep the file in its
// evidence (hashed) — it used to be left out of the evidence when nothing
// was read, and named in neither case.
func TestAnalyzeSaysReadStopped(t *testing.T) {
	var log bytes.Buffer
	for i := range 4000 {
		fmt.Fprintf(&log, `<189>date=2025-03-01 time=01:%02d:%02d devname="FGT-MAIRIE" devid="FG100FTK20012345" tz="+0100" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.10.%d.%d srcport=%d dstip=60.%d.%d.185 dstport=443 sessionid=%d proto=6 action="close" policyid=12 service="HTTPS" duration=%d sentbyte=%d rcvdbyte=%d`+"\n",
			i/60%60, i%60, i%7, i%251, 40000+i, i%97, i*7%256, 1000000+i, i%300, 1000+i*37%9000, 5000+i*131%90000)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(log.Bytes())
	zw.Close()
	whole := gz.Bytes()
	midway := append([]byte(nil), whole...)
	for i := len(midway) / 2; i < len(midway)/2+64; i++ {
		midway[i] ^= 0x5a
	}
	header := append([]byte(nil), whole...)
	header[2] = 7 // not deflate
	for _, c := range []struct {
		name, want, table string
		b                 []byte
	}{
		{"damaged midway", "reading stopped on an error (read error after line ", "| fortigate, reading stopped on an error | ", midway},
		{"cut short", "reading stopped on an error (read error in line ", "| fortigate, reading stopped on an error | ", whole[:len(whole)/2]},
		{"header damaged", "reading stopped on an error (gzip: ", "reading stopped on an error | 0 | 0 | 0 |", header},
	} {
		dir, r := analyzeOneFile(t, "fw.log.gz", c.b)
		sum := sha256.Sum256(c.b)
		if len(r.Evidence) != 1 || r.Evidence[0].SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: evidence %+v, want the file and its hash", c.name, r.Evidence)
			continue
		}
		n := r.Evidence[0].Events
		// Damaged midway, the stream gives garbage up to its checksum:
		// lines split or merged, more or fewer than were written.
		if c.name == "header damaged" && n != 0 || c.name != "header damaged" && n == 0 {
			t.Errorf("%s: %d events read", c.name, n)
		}
		reasons := strings.Join(r.Verdict.Reasons, "\n")
		if !strings.Contains(reasons, "fw.log.gz: "+c.want) || !strings.Contains(reasons, fmt.Sprintf(") after %d event(s); the rest of the file, if any, escapes this analysis", n)) {
			t.Errorf("%s: the verdict does not say the reading stopped after %d events:\n%s", c.name, n, reasons)
		}
		md := filepath.Join(t.TempDir(), "report.md")
		if _, err := run(t, "analyze", dir, "--quiet", "--lang", "en", "-o", md); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), c.table) {
			t.Errorf("%s: the evidence table does not say the reading stopped (%v):\n%s", c.name, err, b)
		}
	}
}

// damagedReport is what these tests read of analyze's JSON.
type damagedReport struct {
	Verdict  struct{ Reasons []string } `json:"verdict"`
	Evidence []struct {
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
		Events int64  `json:"events"`
	} `json:"evidence"`
}

// analyzeOneFile analyzes a directory holding only b, named name.
func analyzeOneFile(t *testing.T, name string, b []byte) (string, damagedReport) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "analyze", dir, "--quiet", "--format", "json", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	var r damagedReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return dir, r
}
