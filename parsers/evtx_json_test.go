package parsers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// snapshotBody is an insta snapshot's content, after its YAML header.
func snapshotBody(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(b)[3:], "\n---\n")
	if !ok {
		t.Fatalf("%s: no snapshot header", p)
	}
	return strings.TrimSpace(body)
}

// parseText writes content as a file and parses it with the format found.
func parseText(t *testing.T, name, content string) (*FileStats, []*event.Event) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, st := parseFile(t, p, &Options{TZ: time.UTC})
	return st, evs
}

// TestEvtxJSONAgainstXML: evtx_dump's JSON of a record (its own test
// snapshots, in both attribute layouts, as JSON lines and as pretty "Record
// N" blocks) gives the event its XML of the same record gives, field for
// field; evtx_dump's XML output ("Record N" before each) is read as
// Windows XML.
func TestEvtxJSONAgainstXML(t *testing.T) {
	dir := filepath.Join(corpus.Dir(t, "evtx/omerbenamram-evtx"), "snapshots")
	snaps, _ := filepath.Glob(filepath.Join(dir, "*.snap"))
	var jsonl, pretty, xmlDump bytes.Buffer
	jsonSnaps, xmlSnaps := 0, 0
	for _, p := range snaps {
		body := snapshotBody(t, p)
		switch {
		case strings.Contains(p, "event_json_") && strings.HasPrefix(body, "{"):
			var b bytes.Buffer // one line, the keys in their order
			if err := json.Compact(&b, []byte(body)); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			jsonl.Write(append(b.Bytes(), '\n'))
			jsonSnaps++
			fmt.Fprintf(&pretty, "Record %d\n%s\n", jsonSnaps, body)
		case strings.Contains(p, "event_xml_"):
			xmlSnaps++
			fmt.Fprintf(&xmlDump, "Record %d\n%s\n", xmlSnaps, body)
		}
	}
	if jsonSnaps < 8 || xmlSnaps < 6 {
		t.Fatalf("%d JSON and %d XML snapshots, want the crate's 8+ and 6+", jsonSnaps, xmlSnaps)
	}
	stL, fromLines := parseText(t, "dump.jsonl", jsonl.String())
	stP, fromPretty := parseText(t, "dump.json", pretty.String())
	stX, fromXML := parseText(t, "dump.xml", xmlDump.String())
	if stL.Format != "evtx-json" || stP.Format != "evtx-json" || stX.Format != "windows-xml" {
		t.Fatalf("formats %s, %s, %s", stL.Format, stP.Format, stX.Format)
	}
	if len(fromLines) != jsonSnaps || stL.Raw != 0 || len(fromPretty) != jsonSnaps || stP.Raw != 0 || len(fromXML) != xmlSnaps || stX.Raw != 0 {
		t.Fatalf("events: %d lines (%d raw), %d pretty (%d raw) of %d JSON; %d (%d raw) of %d XML", len(fromLines), stL.Raw, len(fromPretty), stP.Raw, jsonSnaps, len(fromXML), stX.Raw, xmlSnaps)
	}
	for i := range fromLines {
		if a, b := comparable(fromLines[i]), comparable(fromPretty[i]); a != b {
			t.Errorf("record %d: as a line %s\npretty %s", i+1, a, b)
		}
	}
	// The same record in both: same time, record id and computer.
	key := func(ev *event.Event) string {
		return ev.Timestamp.String() + "|" + ev.Str("winlog.computer_name") + "|" + fmt.Sprint(ev.Fields["winlog.record_id"]) + "|" + ev.Str("winlog.event_id")
	}
	byKey := map[string]*event.Event{}
	for _, ev := range fromXML {
		byKey[key(ev)] = ev
	}
	pairs := 0
	for _, ev := range fromLines {
		x := byKey[key(ev)]
		if x == nil {
			continue
		}
		pairs++
		if a, b := comparable(ev), comparable(x); a != b {
			t.Errorf("%s:\nfrom JSON %s\nfrom XML  %s", key(ev), a, b)
		}
	}
	if pairs < 3 {
		t.Fatalf("%d records in both JSON and XML, want 3 or more", pairs)
	}
}

// TestEvtxJSONShapes: the same Event/System JSON as other EVTX readers
// write it — attributes as the element's own keys and EventID's text as
// "Value" (fox), everything as strings in Go's key order (golang-evtx's
// evtxdump), a System at the top with the time in seconds since 1970 and
// the keywords as a number (Velociraptor's parse_evtx) — gives the same
// fields.
func TestEvtxJSONShapes(t *testing.T) {
	lines := []string{
		`{"Event":{"EventData":{"Binary":null,"Data":["FS01","WIN-7F3K2"]},"System":{"Channel":"System","Computer":"FS01.mairie.local","EventID":{"Qualifiers":"32768","Value":"6011"},"EventRecordID":"41","Keywords":"0x80000000000000","Level":"4","Security":{},"Task":"0","TimeCreated":{"SystemTime":"2025-03-14T02:10:07Z"}}}}`,
		`{"Event":{"EventData":{"IpAddress":"203.0.113.9","LogonType":"3","TargetUserName":"svc-backup"},"System":{"Channel":"Security","Computer":"FS01.mairie.local","Correlation":{},"EventID":"4624","EventRecordID":"1202","Execution":{"ProcessID":"636","ThreadID":"2120"},"Keywords":"0x8020000000000000","Level":"0","Opcode":"0","Provider":{"Guid":"54849625-5478-4994-A5BA-3E3B0328C30D","Name":"Microsoft-Windows-Security-Auditing"},"Security":{"UserID":"S-1-5-18"},"Task":"12544","TimeCreated":{"SystemTime":"2025-03-14T02:11:00.5Z"},"Version":"2"}}}`,
		`{"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625-5478-4994-A5BA-3E3B0328C30D}"},"EventID":{"Value":4624},"Version":2,"Level":0,"Task":12544,"Opcode":0,"Keywords":9232379236109516800,"TimeCreated":{"SystemTime":1741918260.5},"EventRecordID":1202,"Execution":{"ProcessID":636,"ThreadID":2120},"Channel":"Security","Computer":"FS01.mairie.local","Security":{"UserID":"S-1-5-18"}},"EventData":{"TargetUserName":"svc-backup","LogonType":3,"IpAddress":"203.0.113.9"},"Message":"An account was successfully logged on."}`,
	}
	st, evs := parseText(t, "shapes.jsonl", strings.Join(lines, "\n")+"\n")
	if st.Format != "evtx-json" || len(evs) != 3 || st.Raw != 0 {
		t.Fatalf("format %s, %d events, %d raw", st.Format, len(evs), st.Raw)
	}
	want := []map[string]any{
		{"@timestamp": "2025-03-14T02:10:07Z", "event.code": "6011", "host.name": "FS01.mairie.local", "winlog.channel": "System",
			"winlog.record_id": int64(41), "winlog.event_data.param1": "FS01", "winlog.event_data.param2": "WIN-7F3K2"},
		{"@timestamp": "2025-03-14T02:11:00.5Z", "event.code": "4624", "user.name": "svc-backup", "source.ip": "203.0.113.9",
			"winlog.logon.type": "Network", "winlog.user.identifier": "S-1-5-18", "winlog.process.pid": int64(636), "winlog.keywords": "0x8020000000000000"},
		{"@timestamp": "2025-03-14T02:11:00.5Z", "event.code": "4624", "user.name": "svc-backup", "source.ip": "203.0.113.9",
			"winlog.logon.type": "Network", "winlog.user.identifier": "S-1-5-18", "winlog.process.pid": int64(636), "winlog.keywords": "0x8020000000000000",
			"message": "An account was successfully logged on."},
	}
	for i, ev := range evs {
		for k, v := range want[i] {
			got := ev.Fields[k]
			if k == "@timestamp" {
				got = ev.Timestamp.UTC().Format(time.RFC3339Nano)
			}
			if fmt.Sprint(got) != fmt.Sprint(v) {
				t.Errorf("line %d: %s = %v (%T), want %v", i+1, k, got, got, v)
			}
		}
	}
}
