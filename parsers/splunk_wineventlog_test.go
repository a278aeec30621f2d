package parsers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestSplunkWinEventLog: Windows events in Splunk exports (CSV and JSON),
// kept as Splunk's Windows inputs write them as text (local time, then
// LogName=, EventCode=, SourceName=…, Message=), give the events Snare's
// records of the same events give, in English and French, Sysmon's too;
// dated by the export's _time, or without one by the first line's local
// time in --tz (said so). A syslog line without its header in a Splunk
// export takes its host from the host column, not from the input's name.
func TestSplunkWinEventLog(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	cases := []struct {
		name, provider, source, channel, id, audit, msg string
		want                                            map[string]any
	}{
		{"4624", "Microsoft-Windows-Security-Auditing", "Microsoft Windows security auditing.", "Security", "4624", "Audit Success", msg4624,
			map[string]any{"user.name": "j.martin", "source.ip": "10.212.134.200"}},
		{"4625 fr", "Microsoft-Windows-Security-Auditing", "Microsoft Windows security auditing.", "Security", "4625", "Échec de l'audit", msg4625fr,
			map[string]any{"user.name": "administrateur", "event.outcome": "failure"}},
		{"5145", "Microsoft-Windows-Security-Auditing", "Microsoft Windows security auditing.", "Security", "5145", "Audit Success", msg5145,
			map[string]any{"file.path": `D:\Partages\Finances\Paie 2024\salaires mars.xlsx`}},
		{"sysmon 3", "Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon", sysmonChannel, "3", "", "Network connection detected:\r\nRuleName: -\r\nUtcTime: 2025-03-14 22:05:12.031\r\nImage: C:\\Tools\\rclone.exe\r\nUser: AGGLO\\j.martin\r\nProtocol: tcp\r\nSourceIp: 10.10.1.50\r\nSourcePort: 49733\r\nDestinationIp: 51.15.20.30\r\nDestinationPort: 443",
			map[string]any{"destination.ip": "51.15.20.30", "process.executable": `C:\Tools\rclone.exe`}},
	}
	for _, c := range cases {
		snareType := map[string]string{"Audit Success": "Success Audit", "Échec de l'audit": "Failure Audit"}[c.audit]
		snare := "Mar 14 23:05:12 FS01.agglo.local MSWinEventLog\t1\t" + c.channel + "\t881234\tFri Mar 14 23:05:12 2025\t" + c.id + "\t" + c.provider +
			"\tN/A\tN/A\t" + snareType + "\tFS01.agglo.local\tLogon\t\t" + flatten(c.msg) + "\t881234\n"
		_, want := parseText(t, "snare.log", snare)
		raw := "03/14/2025 11:05:12 PM\nLogName=" + c.channel + "\nEventCode=" + c.id + "\nEventType=0\nComputerName=FS01.agglo.local\nSourceName=" + c.source +
			"\nType=Information\nRecordNumber=881234\nKeywords=" + c.audit + "\nTaskCategory=Logon\nOpCode=Info\nMessage=" + strings.ReplaceAll(c.msg, "\r\n", "\n") + "\n"
		var csvb bytes.Buffer
		w := csv.NewWriter(&csvb)
		w.Write([]string{"_time", "host", "source", "sourcetype", "_raw"})
		w.Write([]string{"2025-03-14T23:05:12.000+01:00", "FS01", "WinEventLog:" + c.channel, "WinEventLog", raw})
		w.Flush()
		j, _ := json.Marshal(map[string]any{"preview": false, "offset": 0, "result": map[string]any{"_time": "2025-03-14T23:05:12.000+01:00", "_raw": raw, "host": "FS01"}})
		var local bytes.Buffer
		w = csv.NewWriter(&local)
		w.Write([]string{"host", "source", "_raw"})
		w.Write([]string{"FS01", "WinEventLog:" + c.channel, raw})
		w.Flush()
		for form, text := range map[string]string{"csv": csvb.String(), "json": string(j) + "\n", "csv without _time": local.String()} {
			p := filepath.Join(t.TempDir(), "splunk.export")
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, st := parseFile(t, p, &Options{TZ: paris})
			if st.Raw != 0 || len(got) != 1 || len(want) != 1 {
				t.Fatalf("%s %s: %+v", c.name, form, st)
			}
			g := got[0]
			a, b := windowsComparable(want[0].Fields), windowsComparable(g.Fields)
			delete(b, "log.offset") // where the row is in the export
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s %s:\nSnare  %v\nSplunk %v", c.name, form, a, b)
			}
			for k, v := range c.want {
				if g.Fields[k] != v {
					t.Errorf("%s %s: %s = %#v, want %#v", c.name, form, k, g.Fields[k], v)
				}
			}
			if g.Str("event.code") != c.id || g.Str("winlog.provider_name") != c.provider || g.Timestamp.Format(time.RFC3339) != "2025-03-14T22:05:12Z" {
				t.Errorf("%s %s: %s of %s at %v", c.name, form, g.Str("event.code"), g.Str("winlog.provider_name"), g.Timestamp)
			}
			if zoneless := g.Str("event.timezone") == "Europe/Paris"; zoneless != (form == "csv without _time") || zoneless != st.ZoneAssumed {
				t.Errorf("%s %s: event.timezone %q, file zone assumed %v", c.name, form, g.Str("event.timezone"), st.ZoneAssumed)
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"_time", "host", "source", "sourcetype", "_raw"})
	w.Write([]string{"2025-03-14T23:05:12.000+01:00", "mail01", "/var/log/maillog", "syslog", "sshd[77]: Accepted password for root from 10.0.0.9 port 51000 ssh2"})
	w.Flush()
	st, evs := parseText(t, "splunk.csv", b.String())
	if len(evs) != 1 || evs[0].Str("host.name") != "mail01" || evs[0].Str("user.name") != "root" {
		t.Errorf("%+v %v", st, evs[0].Fields)
	}
}

// TestExportedEventXML: Windows events whose XML a SIEM kept whole
// (Splunk's XmlWinEventLog in _raw, an ECS document's event.original) give
// the events the XML export itself gives, field for field, every one of a
// file server's Security and System logs.
func TestExportedEventXML(t *testing.T) {
	for _, path := range []string{"../samples/incident/windows/FS01-Security.xml", "../samples/incident/windows/FS01-System.xml"} {
		want, _ := parseFile(t, path, &Options{TZ: time.UTC})
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, part := range strings.Split(string(raw), "<Event ")[1:] {
			e, _, found := strings.Cut(part, "</Event>")
			if !found {
				t.Fatalf("%s: an event without its end", path)
			}
			events = append(events, "<Event "+e+"</Event>")
		}
		if len(events) != len(want) || len(events) < 5 {
			t.Fatalf("%s: %d events cut, %d parsed", path, len(events), len(want))
		}
		var splunk, ecs bytes.Buffer
		sw, ew := csv.NewWriter(&splunk), csv.NewWriter(&ecs)
		sw.Write([]string{"_time", "host", "source", "sourcetype", "_raw"})
		ew.Write([]string{"@timestamp", "host.name", "event.original"})
		for _, e := range events {
			sw.Write([]string{"2025-03-14T23:05:12.000+01:00", "FS01", "XmlWinEventLog:Security", "XmlWinEventLog", e})
			ew.Write([]string{"2025-03-14T22:05:12.000Z", "FS01", e})
		}
		sw.Flush()
		ew.Flush()
		for form, text := range map[string]string{"splunk": splunk.String(), "ecs": ecs.String()} {
			p := filepath.Join(t.TempDir(), form+".csv")
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, st := parseFile(t, p, &Options{TZ: time.UTC})
			if st.Raw != 0 || len(got) != len(want) {
				t.Fatalf("%s %s: %d events, %d raw %v, want %d", path, form, len(got), st.Raw, st.RawReasons, len(want))
			}
			for i := range got {
				if a, b := comparable(want[i]), comparable(got[i]); a != b {
					t.Fatalf("%s %s event %d:\n got %s\nwant %s", path, form, i, b, a)
				}
			}
		}
	}
}

// TestWinlogColumns: Winlogbeat documents exported as a table — Kibana's
// CSV (a column per winlog.* field, the time in Kibana's display form),
// Graylog's (dots made underscores, the beat's name first or not, its own
// timestamp and source) — give the events the documents give, field for
// field, but for the original line the table no longer has.
func TestWinlogColumns(t *testing.T) {
	var docs []string
	for seed := uint64(1); seed <= 40 && len(docs) == 0; seed++ {
		inc := scenario.Generate(scenario.VPNTheft, seed)
		for name, b := range inc.Files {
			if strings.HasSuffix(name, ".ndjson") && strings.Contains(name, "winlogbeat") {
				docs = append(docs, strings.Split(strings.TrimSpace(string(b)), "\n")...)
			}
		}
	}
	if len(docs) < 100 {
		t.Fatalf("%d Winlogbeat documents generated", len(docs))
	}
	p := filepath.Join(t.TempDir(), "wlb.ndjson")
	if err := os.WriteFile(p, []byte(strings.Join(docs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := parseFile(t, p, &Options{TZ: time.UTC})
	for _, form := range []struct {
		name, sep, prefix, timeCol, timeLayout string
	}{
		{"kibana", ".", "", "@timestamp", "Jan 2, 2006 @ 15:04:05.000"},
		{"graylog", "_", "winlogbeat_", "timestamp", "2006-01-02T15:04:05.000Z07:00"},
		{"graylog without the beat's name", "_", "", "timestamp", "2006-01-02T15:04:05.000Z07:00"},
	} {
		var rows []map[string]string
		columns := map[string]bool{}
		for _, d := range docs {
			var doc map[string]any
			if err := json.Unmarshal([]byte(d), &doc); err != nil {
				t.Fatal(err)
			}
			row := map[string]string{}
			var flat func(prefix string, v any)
			flat = func(prefix string, v any) {
				switch x := v.(type) {
				case map[string]any:
					for k, y := range x {
						flat(prefix+k+form.sep, y)
					}
				case string:
					row[form.prefix+strings.TrimSuffix(prefix, form.sep)] = x
				case float64:
					row[form.prefix+strings.TrimSuffix(prefix, form.sep)] = strconv.FormatFloat(x, 'f', -1, 64)
				}
			}
			stamp, _ := doc["@timestamp"].(string)
			delete(doc, "@timestamp")
			message, _ := doc["message"].(string)
			delete(doc, "message")
			flat("", doc)
			at, err := time.Parse(time.RFC3339Nano, stamp)
			if err != nil {
				t.Fatal(err)
			}
			row[form.timeCol] = at.Format(form.timeLayout)
			row["message"] = message
			if form.sep == "_" {
				row["source"] = "graylog-sidecar" // Graylog's sender, not the event's computer
			}
			for k := range row {
				columns[k] = true
			}
			rows = append(rows, row)
		}
		var header []string
		for k := range columns {
			header = append(header, k)
		}
		sort.Strings(header)
		exports := map[string][]byte{"csv-export": csvTable(header, rows, ',', false)}
		if form.sep == "_" {
			// Graylog's API: {"messages": [{"message": {…}}, …]}.
			var msgs []map[string]any
			for _, row := range rows {
				msgs = append(msgs, map[string]any{"message": row, "index": "graylog_0"})
			}
			j, _ := json.Marshal(map[string]any{"messages": msgs})
			exports["json-export"] = j
		}
		for format, text := range exports {
			q := filepath.Join(t.TempDir(), "export")
			if err := os.WriteFile(q, text, 0o644); err != nil {
				t.Fatal(err)
			}
			got, st := parseFile(t, q, &Options{TZ: time.UTC})
			if st.Format != format || st.Raw != 0 || len(got) != len(want) {
				t.Fatalf("%s: %s, %d events, %d raw %v, want %d", form.name, st.Format, len(got), st.Raw, st.RawReasons, len(want))
			}
			checkWinlogRows(t, form.name+" "+format, got, want, form.name == "kibana")
		}
	}
}

// checkWinlogRows compares the events of a table's rows with the
// documents', field for field but for the original line.
func checkWinlogRows(t *testing.T, name string, got, want []*event.Event, dashEmpty bool) {
	t.Helper()
	for i := range got {
		wi := map[string]any{}
		for k, v := range want[i].Fields {
			if v != "-" || !dashEmpty { // Kibana writes "-" for an empty cell
				wi[k] = v
			}
		}
		we := *want[i]
		we.Fields = wi
		if a, b := comparable(&we), comparable(got[i]); a != b {
			t.Fatalf("%s event %d:\n got %s\nwant %s", name, i, b, a)
		}
	}
}
