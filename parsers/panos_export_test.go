package parsers

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

const panExportHeaderLine = "Domain,Receive Time,Serial #,Type,Threat/Content Type,Config Version,Generate Time,Source address,Destination address,NAT Source IP,NAT Destination IP,Rule,Source User,Destination User,Application,Virtual System,Source Zone,Destination Zone,Inbound Interface,Outbound Interface,Log Action,Time Logged,Session ID,Repeat Count,Source Port,Destination Port,NAT Source Port,NAT Destination Port,Flags,IP Protocol,Action,Bytes,Bytes Sent,Bytes Received,Packets,Start Time,Elapsed Time (sec),Category,Padding,Sequence Number,Action Flags,Source Country,Destination Country,cpadding,pkts_sent,pkts_received,session_end_reason"

// TestPanOSExport: the web interface's "Export to CSV" of a traffic view —
// a header, then the syslog format's columns — is detected and each row
// reads as the same log sent by syslog (but the time, there the syslog
// header's, and the device name, only there); a header in another order
// makes every row raw with the reason, never read by the wrong column.
func TestPanOSExport(t *testing.T) {
	src, err := os.ReadFile("testdata/panos_traffic.log")
	if err != nil {
		t.Fatal(err)
	}
	syslogLine := strings.TrimSpace(string(src))
	body := syslogLine[strings.Index(syslogLine, " 1,")+1:]
	rows := []string{body,
		strings.Replace(strings.Replace(strings.Replace(body, ",230929700,228392011,2537689,", ",9000,1000,8000,", 1), ",end,", ",start,", 1), ",203.0.113.10,31.216.145.5,", ",203.0.113.10,0.0.0.0,", 1),
		strings.Replace(body, "agglo\\j.martin", "", 1)}
	p := filepath.Join(t.TempDir(), "traffic-export.csv")
	if err := os.WriteFile(p, []byte(panExportHeaderLine+"\r\n"+strings.Join(rows, "\r\n")+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Format != "panos" || st.Parsed != 3 || st.Raw != 0 {
		t.Fatalf("stats %+v", st)
	}
	dec := PanOS{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
	for i, row := range rows {
		var want *event.Event
		line := syslogLine[:strings.Index(syslogLine, " 1,")+1] + row
		if err := dec.Line(1, []byte(line), func(ev *event.Event, _ string) { want = ev }); err != nil {
			t.Fatal(err)
		}
		got := evs[i]
		for _, k := range []string{event.FieldOriginal, event.FieldLine, "observer.name"} {
			delete(want.Fields, k)
		}
		for k := range got.Fields {
			if strings.HasPrefix(k, "evidence.") || strings.HasPrefix(k, "log.file") || k == event.FieldOriginal || k == event.FieldLine || k == "event.id" || k == "event.kind" {
				delete(got.Fields, k)
			}
		}
		delete(want.Fields, "event.kind")
		if !reflect.DeepEqual(got.Fields, want.Fields) {
			t.Errorf("row %d:\n got %v\nwant %v", i+1, got.Fields, want.Fields)
		}
	}
	if n, _ := evs[0].Int("source.bytes"); n != 228392011 || !evs[0].Timestamp.Equal(time.Date(2025, 3, 14, 23, 50, 40, 0, time.UTC)) {
		t.Errorf("first row: source.bytes %d at %v", n, evs[0].Timestamp)
	}
	if evs[0].Str("destination.nat.ip") != "31.216.145.5" || evs[1].Str("destination.nat.ip") != "" || evs[1].Str("source.nat.ip") != "203.0.113.10" {
		t.Errorf("NAT: %q, %q (0.0.0.0: none), %q", evs[0].Str("destination.nat.ip"), evs[1].Str("destination.nat.ip"), evs[1].Str("source.nat.ip"))
	}

	// Bytes Sent and Bytes Received swapped in the header: refused.
	swapped := strings.Replace(panExportHeaderLine, "Bytes Sent,Bytes Received", "Bytes Received,Bytes Sent", 1)
	p2 := filepath.Join(t.TempDir(), "other-order.csv")
	os.WriteFile(p2, []byte(swapped+"\n"+strings.Join(rows, "\n")+"\n"), 0o644)
	_, st2 := parseFile(t, p2, &Options{TZ: time.UTC})
	if st2.Format != "panos" || st2.Parsed != 0 || st2.Raw != 3 || st2.RawReasons[`panos: an exported table whose column "Bytes Sent" is at place 34, not 33 as in the syslog format: not read`] != 3 {
		t.Errorf("other order: %+v", st2)
	}
}
