package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/parsers"
)

// TestVerdictUnjudgedFirstDay: large transfers there from the firewall
// log's first day cannot be judged routine or not; a "no evidence" resting
// on them says so and trusts itself less (0.4, not 0.7), while one whose
// large transfers recur from the start keeps 0.7 and says nothing of it.
func TestVerdictUnjudgedFirstDay(t *testing.T) {
	line := func(at time.Time, id int, dst string, sent int64) string {
		return fmt.Sprintf(`date=%s time=%s devname="FGT-TEST" devid="FG100FTEST000001" tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.10.1.20 srcport=%d srcintf="port1" dstip=%s dstport=443 dstintf="wan1" sessionid=%d proto=6 action="close" policyid=4 service="HTTPS" duration=300 sentbyte=%d rcvdbyte=120000 sentpkt=1000 rcvdpkt=900`,
			at.Format("2006-01-02"), at.Format("15:04:05"), 50000+id, dst, id, sent)
	}
	start := time.Date(2025, 3, 14, 22, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		lines      []string
		confidence float64
		said       string
	}{
		{"eight minutes of log", []string{
			line(start.Add(32*time.Minute), 1, "31.216.145.5", 734_003_200),
			line(start.Add(40*time.Minute), 2, "31.216.145.5", 834_003_200),
		}, 0.4, "1 large transfer(s) (1.6 GB in all) are there from the first day of the firewall logs"},
		{"a nightly backup from the start", func() []string {
			var out []string
			for d := range 6 {
				out = append(out, line(start.Add(time.Duration(d)*24*time.Hour), 10+d, "51.91.120.15", 2_000_000_000))
			}
			return out
		}(), 0.7, ""},
	} {
		dir := filepath.Join(t.TempDir(), "firewall")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fortigate.log"), []byte(strings.Join(c.lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		events, meta, _ := loadDir(t, filepath.Dir(dir), parsers.Options{TZ: time.UTC})
		v := analyzeEvents(t, events, meta, "en", nil).Verdict
		reasons := strings.Join(v.Reasons, "\n")
		if v.DataTaken != NoEvidence || v.Confidence != c.confidence {
			t.Errorf("%s: %s at %.2f, want no_evidence at %.2f\n%s", c.name, v.DataTaken, v.Confidence, c.confidence, reasons)
		}
		if said := strings.Contains(reasons, "from the first day of the firewall logs"); c.said == "" && said || c.said != "" && !strings.Contains(reasons, c.said) {
			t.Errorf("%s: reasons\n%s\nwant %q", c.name, reasons, c.said)
		}
	}
}

// TestLostRecordsDuringTheIncident: records lost from a log are dated by
// the records around them; a stretch that may fall in the incident window
// is pointed out (a Security log wiped during an intrusion), one before it
// is not.
func TestLostRecordsDuringTheIncident(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	window := &Range{Start: at("2025-03-14T22:00:00Z"), End: at("2025-03-15T01:00:00Z")}
	for _, c := range []struct {
		name   string
		lost   parsers.LostStretch
		during bool
	}{
		{"inside", parsers.LostStretch{Records: 88, After: at("2025-03-14T22:30:00Z"), Before: at("2025-03-14T22:45:00Z")}, true},
		{"across the start", parsers.LostStretch{Records: 88, After: at("2025-03-14T21:30:00Z"), Before: at("2025-03-14T22:10:00Z")}, true},
		{"cut off after a time in it", parsers.LostStretch{Records: 1423, After: at("2025-03-14T23:00:00Z")}, true},
		{"the day before", parsers.LostStretch{Records: 88, After: at("2025-03-13T10:00:00Z"), Before: at("2025-03-13T11:00:00Z")}, false},
		{"cut off after the window", parsers.LostStretch{Records: 5, After: at("2025-03-15T02:00:00Z")}, false},
	} {
		got := lostRecordsReasons([]EvidenceFile{{Path: "Security.evtx", Lost: c.lost.Records, LostWhen: []parsers.LostStretch{c.lost}}}, window, "en")
		if len(got) != 1 {
			t.Fatalf("%s: %q", c.name, got)
		}
		if during := strings.Contains(got[0], "Some may date from the incident window"); during != c.during {
			t.Errorf("%s: %q; during the window %v, want %v", c.name, got[0], during, c.during)
		}
	}
	if got := lostRecordsReasons([]EvidenceFile{{Path: "fw.log"}}, window, "en"); len(got) != 0 {
		t.Errorf("a file with nothing lost is named: %q", got)
	}
}
