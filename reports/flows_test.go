package reports

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
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
	record := sessionRecorder(l, src)
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

// TestSilentSessionResumes: a session counted up to its last interim
// record after a day's silence, whose records then resume (the firewall's
// logging was interrupted) and close, or resume and fall silent again, is
// counted once: its bytes as its last counters give them, one session.
func TestSilentSessionResumes(t *testing.T) {
	day0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	src := netip.MustParseAddr("10.10.1.20")
	for _, tc := range []struct {
		name     string
		closes   bool
		bytes    int64
		sessions int32
	}{
		{"closes after the silence", true, 9000, 1},
		{"silent again until the log's end", false, 8000, 1},
	} {
		l := newFlowLedger(t.TempDir())
		record := sessionRecorder(l, src)
		record(day0, "42", "203.0.113.9", 1000, false)
		record(day0.Add(time.Hour), "42", "203.0.113.9", 5000, false)
		// Other traffic for two days: the session is swept, counted at 5,000.
		for h := 2; h < 50; h++ {
			record(day0.Add(time.Duration(h)*time.Hour), strconv.Itoa(h), "198.51.100.1", 10, true)
		}
		record(day0.Add(50*time.Hour), "42", "203.0.113.9", 8000, false)
		if tc.closes {
			record(day0.Add(51*time.Hour), "42", "203.0.113.9", 9000, true)
		}
		if err := l.finish(); err != nil {
			t.Fatal(err)
		}
		var bytes int64
		var sessions int32
		l.each(func(k pairKey, p *pairFlow) {
			if k.dst.String() != "203.0.113.9" {
				return
			}
			for _, b := range p.buckets {
				bytes += b.bytes
				sessions += b.sessions
			}
		})
		if bytes != tc.bytes || sessions != tc.sessions {
			t.Errorf("%s: %d bytes in %d sessions, want %d in %d", tc.name, bytes, sessions, tc.bytes, tc.sessions)
		}
		l.close()
	}
}

// sessionRecorder observes a FortiGate session's record in l: an interim
// record (its counters so far) or its closing one.
func sessionRecorder(l *flowLedger, src netip.Addr) func(at time.Time, id, dst string, sent int64, closing bool) {
	return func(at time.Time, id, dst string, sent int64, closing bool) {
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
}

// TestComwareActiveFlowRecordsAddUp: H3C Comware logs a long session each
// time its active timer runs out ("(6)Active data flow timeout") and
// resets the session's counters after each log (H3C's command reference,
// `session log time-active`: "After outputting a session log, the device
// resets the traffic counter"). So each record's bytes are new ones: a
// session logged twice while active, then closed, sent the three records'
// bytes together, and is one session. A second session from another port
// closes without active records.
func TestComwareActiveFlowRecordsAddUp(t *testing.T) {
	record := func(at, reason string, sent int64, end string) string {
		port := "51000"
		if reason == "(2)Aged for timeout" {
			port = "51001"
		}
		return "<190>Mar 14 " + at + " 2026 FW-MAIRIE %%10SESSION/6/SESSION_IPV4_FLOW: Protocol(1001)=TCP;Application(1002)=https;" +
			"SrcIPAddr(1003)=10.10.1.30;SrcPort(1004)=" + port + ";NatSrcIPAddr(1005)=203.0.113.10;NatSrcPort(1006)=61000;" +
			"DstIPAddr(1007)=31.216.145.5;DstPort(1008)=443;NatDstIPAddr(1009)=31.216.145.5;NatDstPort(1010)=443;" +
			"InitPktCount(1044)=52000;InitByteCount(1046)=" + strconv.FormatInt(sent, 10) + ";RplyPktCount(1045)=21000;RplyByteCount(1047)=1200000;" +
			"BeginTime_e(1013)=03142026220041;EndTime_e(1014)=" + end + ";Event(1048)=" + reason + ";"
	}
	log := strings.Join([]string{
		record("22:10:41", "(6)Active data flow timeout", 300_000_000, "03142026221041"),
		record("22:20:41", "(6)Active data flow timeout", 300_000_000, "03142026222041"),
		record("22:25:41", "(1)Normal over", 50_000_000, "03142026222541"),
		record("22:26:41", "(2)Aged for timeout", 1_000_000, "03142026222641"),
	}, "\n") + "\n"
	dir := filepath.Join(t.TempDir(), "firewall")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "comware.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	events, meta, _ := loadDir(t, filepath.Dir(dir), parsers.Options{TZ: time.UTC, Year: 2026})
	rep := analyzeEvents(t, events, meta, "en", nil)
	var bytes, seen int64
	for _, r := range rep.Routine {
		bytes, seen = bytes+r.Bytes, seen+r.Events
	}
	for _, x := range rep.Exfiltration {
		bytes, seen = bytes+x.Bytes, seen+x.Events
	}
	if bytes != 651_000_000 || seen != 2 {
		t.Errorf("the sessions' records add up to %d bytes over %d sessions, want 651,000,000 over 2", bytes, seen)
	}
}

// TestNegativeCountTakesNothingAway: a closing record whose sent bytes read
// negative ("-1" for unknown) leaves the ledger as it was.
func TestNegativeCountTakesNothingAway(t *testing.T) {
	l := newFlowLedger(t.TempDir())
	defer l.close()
	record := sessionRecorder(l, netip.MustParseAddr("10.10.1.20"))
	at := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	record(at, "1", "203.0.113.9", 5000, true)
	record(at.Add(time.Minute), "2", "203.0.113.9", -1, true)
	record(at.Add(2*time.Minute), "3", "203.0.113.9", -9223372036854775808, true)
	if err := l.finish(); err != nil {
		t.Fatal(err)
	}
	var bytes int64
	var sessions int32
	l.each(func(_ pairKey, p *pairFlow) {
		for _, b := range p.buckets {
			bytes, sessions = bytes+b.bytes, sessions+b.sessions
		}
	})
	if bytes != 5000 || sessions != 1 {
		t.Errorf("%d bytes in %d sessions, want 5000 in 1", bytes, sessions)
	}
}
