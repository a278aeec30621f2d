package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestProxyLogsSaid: a case holding only a web proxy's requests is covered
// as "proxy", and the verdict says those uploads are not in the ledger
// instead of leaving the analyst to think they were weighed.
func TestProxyLogsSaid(t *testing.T) {
	var evs []*event.Event
	start := time.Date(2025, 3, 14, 21, 0, 0, 0, time.UTC)
	for i, ds := range []string{"w3c_proxy.access", "squid", "w3c_proxy.access"} {
		ev := event.New()
		ev.Timestamp = start.Add(time.Duration(i) * time.Hour)
		ev.Fields[event.FieldDataset] = ds
		ev.Fields["source.ip"] = "10.20.1.15"
		ev.Fields["destination.domain"] = "gfs270n102.userstorage.mega.co.nz"
		ev.SetInt("source.bytes", 228392011)
		evs = append(evs, ev)
	}
	r := analyzeEvents(t, evs, CaseMeta{ID: "proxy"}, "en", nil)
	c := findCoverage(r.Coverage, "proxy")
	if c == nil || c.Range == nil || !c.Range.Start.Equal(start) || !c.Range.End.Equal(start.Add(2*time.Hour)) {
		t.Fatalf("coverage %+v", r.Coverage)
	}
	reasons := strings.Join(r.Verdict.Reasons, " ")
	if r.Verdict.DataTaken != InsufficientData || len(r.Exfiltration) != 0 ||
		!strings.Contains(reasons, "Web proxy logs present from 2025-03-14 21:00") || !strings.Contains(reasons, "not yet counted in the byte ledger") {
		t.Errorf("verdict %+v", r.Verdict)
	}
}
