package reports

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestOpenSessionsWithoutClose: sessions seen only through FortiGate's
// interim records, whose closing record never comes (lost, filtered), are
// counted up to their last counters once silent for a day — the ledger
// holds a day of them, not a month's — and flagged; a session that closes
// is counted by its closing record alone.
func TestOpenSessionsWithoutClose(t *testing.T) {
	l := newFlowLedger(t.TempDir())
	defer l.close()
	day0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	src := netip.MustParseAddr("10.10.1.20")
	record := func(at time.Time, id, dst string, sent int64, closing bool) {
		ev := event.New()
		ev.Timestamp = at
		ev.Fields[event.FieldDataset] = "fortinet.firewall"
		ev.Fields["observer.serial_number"] = "FG100"
		ev.Fields["fortinet.firewall.sessionid"] = id
		ev.Fields["source.ip"] = src.String()
		ev.Fields["destination.ip"] = dst
		ev.SetInt("destination.port", 443)
		ev.SetInt("source.port", 50000)
		if closing {
			ev.SetInt("source.bytes", sent)
		} else {
			ev.Fields["event.type"] = []string{"info"}
			ev.SetInt("fortinet.firewall.sentbyte", sent)
		}
		l.observe(ev, src, netip.MustParseAddr(dst))
	}
	const days, perDay = 30, 200
	most := 0
	for d := 0; d < days; d++ {
		for i := 0; i < perDay; i++ {
			at := day0.AddDate(0, 0, d).Add(time.Duration(i) * 7 * time.Minute)
			id := strconv.Itoa(d*perDay + i)
			dst := "93.184." + strconv.Itoa(d) + "." + strconv.Itoa(1+i%250)
			record(at, id, dst, 1000, false)
			record(at.Add(5*time.Minute), id, dst, 3000, false)
			most = max(most, len(l.open))
		}
	}
	// One session closes after its interim records: its closing record's
	// counters count, once.
	end := day0.AddDate(0, 0, days)
	record(end, "closed", "203.0.113.9", 500, false)
	record(end.Add(time.Minute), "closed", "203.0.113.9", 7000, true)
	if err := l.finish(); err != nil {
		t.Fatal(err)
	}
	// A day's sessions and the hour before the sweep: never the month's.
	if most > 2*perDay+perDay/24+1 {
		t.Errorf("%d sessions held open at most, want a day's (%d)", most, perDay)
	}
	var bytes, flagged int64
	var open int32
	l.each(func(_ pairKey, p *pairFlow) {
		for _, b := range p.buckets {
			bytes += b.bytes
		}
		open += p.openEnd
		flagged += p.openSent
	})
	if want := int64(days*perDay*3000 + 7000); bytes != want || open != days*perDay || flagged != days*perDay*3000 {
		t.Errorf("%d bytes, %d sessions without a closing record (%d bytes); want %d, %d (%d)", bytes, open, flagged, int64(days*perDay*3000+7000), days*perDay, days*perDay*3000)
	}
}
