package parsers

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// exportSource is a log whose lines the test wraps in each collector's export.
type exportSource struct {
	path string
	// header splits a line into its syslog header (time, host, program) and
	// message, as a collector does; nil when the format has none.
	header func(l string) (t time.Time, host, prog, msg string, ok bool)
}

func isoSyslogHeader(l string) (time.Time, string, string, string, bool) {
	f := strings.SplitN(l, " ", 3)
	if len(f) < 3 {
		return time.Time{}, "", "", "", false
	}
	t, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		return time.Time{}, "", "", "", false
	}
	prog, _, _ := strings.Cut(f[2], ":")
	prog, _, _ = strings.Cut(prog, "[")
	return t, f[1], prog, f[2], true
}

// exportVariants writes the lines of src as each collector exports them.
var exportVariants = map[string]func(t *testing.T, lines []string, hdr func(string) (time.Time, string, string, string, bool)) []byte{
	// Graylog: timestamp (UTC), source, message without the syslog header.
	"graylog.csv": func(t *testing.T, lines []string, hdr func(string) (time.Time, string, string, string, bool)) []byte {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write([]string{"timestamp", "source", "message", "application_name"})
		for _, l := range lines {
			ts, host, prog, msg := "2025-03-12T00:00:00.000Z", "fw", l, ""
			if hdr != nil {
				if tt, h, p, m, ok := hdr(l); ok {
					ts, host, prog, msg = tt.UTC().Format(time.RFC3339Nano), h, p, m
				}
			}
			if msg == "" {
				msg, prog = l, ""
			}
			w.Write([]string{ts, host, msg, prog})
		}
		w.Flush()
		return b.Bytes()
	},
	// Wazuh archives.json: one document per line, the line in full_log.
	"archives.json": func(t *testing.T, lines []string, _ func(string) (time.Time, string, string, string, bool)) []byte {
		var b bytes.Buffer
		for i, l := range lines {
			d, _ := json.Marshal(map[string]any{"timestamp": "2025-03-12T09:00:00.000+0000", "agent": map[string]any{"id": "000", "name": "wazuh-manager"},
				"manager": map[string]any{"name": "wazuh-manager"}, "id": fmt.Sprintf("1741770000.%d", i), "full_log": l, "decoder": map[string]any{}, "location": "192.0.2.1"})
			b.Write(d)
			b.WriteByte('\n')
		}
		return b.Bytes()
	},
	// Elasticsearch _search response, pretty-printed, event.original kept.
	"search.json": func(t *testing.T, lines []string, _ func(string) (time.Time, string, string, string, bool)) []byte {
		var hits []any
		for i, l := range lines {
			hits = append(hits, map[string]any{"_index": ".ds-logs-2025.03.12", "_id": fmt.Sprintf("doc%d", i), "_score": nil,
				"_source": map[string]any{"@timestamp": "2025-03-12T09:00:00.000Z", "event": map[string]any{"original": l}, "ecs": map[string]any{"version": "8.11.0"}}})
		}
		d, _ := json.MarshalIndent(map[string]any{"took": 12, "timed_out": false, "_shards": map[string]any{"total": 1},
			"hits": map[string]any{"total": map[string]any{"value": len(lines), "relation": "eq"}, "max_score": nil, "hits": hits}}, "", "  ")
		return d
	},
	// The same response minified: one line.
	"search-min.json": func(t *testing.T, lines []string, _ func(string) (time.Time, string, string, string, bool)) []byte {
		var hits []any
		for i, l := range lines {
			hits = append(hits, map[string]any{"_id": fmt.Sprintf("doc%d", i), "_source": map[string]any{"@timestamp": "2025-03-12T09:00:00Z", "log": map[string]any{"original": l}}})
		}
		d, _ := json.Marshal(map[string]any{"took": 1, "hits": map[string]any{"hits": hits}})
		return d
	},
	// elasticdump: one hit per line.
	"elasticdump.ndjson": func(t *testing.T, lines []string, _ func(string) (time.Time, string, string, string, bool)) []byte {
		var b bytes.Buffer
		for i, l := range lines {
			d, _ := json.Marshal(map[string]any{"_index": "logs", "_id": fmt.Sprintf("d%d", i), "_source": map[string]any{"@timestamp": "2025-03-12T09:00:00Z", "message": l}})
			b.Write(d)
			b.WriteByte('\n')
		}
		return b.Bytes()
	},
	// Splunk CSV export, semicolon-separated as a French spreadsheet re-saves it.
	"splunk.csv": func(t *testing.T, lines []string, _ func(string) (time.Time, string, string, string, bool)) []byte {
		var b bytes.Buffer
		b.WriteString("\ufeff")
		w := csv.NewWriter(&b)
		w.Comma = ';'
		w.Write([]string{"_time", "host", "source", "sourcetype", "_raw"})
		for _, l := range lines {
			w.Write([]string{"2025-03-12T10:00:00.000+01:00", "collector", "/var/log/x", "syslog", l})
		}
		w.Flush()
		return b.Bytes()
	},
	// Splunk JSON export: {"preview":false,"result":{…}} per line.
	"splunk.json": func(t *testing.T, lines []string, _ func(string) (time.Time, string, string, string, bool)) []byte {
		var b bytes.Buffer
		for _, l := range lines {
			d, _ := json.Marshal(map[string]any{"preview": false, "offset": 0, "result": map[string]any{"_time": "2025-03-12 10:00:00.000 CET", "_raw": l, "host": "collector"}})
			b.Write(d)
			b.WriteByte('\n')
		}
		return b.Bytes()
	},
}

// comparable drops what differs by construction between a line read from
// its own file and from an export: where it was (file, line, row, offset,
// id) and the export's own annotations.
func comparable(ev *event.Event) string {
	keys := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		switch {
		case k == event.FieldFile, k == event.FieldSHA256, k == event.FieldID, k == event.FieldLine, k == "log.offset",
			k == event.FieldOriginal, k == "postfix.lines", strings.HasPrefix(k, "evidence."):
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(ev.Timestamp.UTC().Format(time.RFC3339Nano))
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, ev.Fields[k])
	}
	return b.String()
}

// TestExportsGiveTheSameEvents: a log read from a collector's export gives
// the events it gives when read from its own file, field for field, with
// every row parsed and the export's row as provenance.
func TestExportsGiveTheSameEvents(t *testing.T) {
	sources := []exportSource{
		{path: "../samples/incident/firewall/fortigate.log"},
		{path: "../samples/incident/mail/mail.log", header: isoSyslogHeader},
		{path: "testdata/cisco_asa.log"},
		{path: "testdata/dovecot.log"},
	}
	o := &Options{TZ: time.UTC, Year: 2025}
	for _, src := range sources {
		want, _ := parseFile(t, src.path, o)
		wantSet := map[string]int{}
		for _, ev := range want {
			wantSet[comparable(ev)]++
		}
		b, err := os.ReadFile(src.path)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 3000 {
			lines = lines[:3000] // a prefix is enough, and Postfix messages may straddle it: compared on both sides
			cut := filepath.Join(t.TempDir(), filepath.Base(src.path))
			os.WriteFile(cut, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
			want, _ = parseFile(t, cut, o)
			wantSet = map[string]int{}
			for _, ev := range want {
				wantSet[comparable(ev)]++
			}
		}
		for name, mk := range exportVariants {
			data := mk(t, lines, src.header)
			path := filepath.Join(t.TempDir(), name)
			if strings.HasSuffix(name, ".ndjson") {
				var gz bytes.Buffer
				zw := gzip.NewWriter(&gz)
				zw.Write(data)
				zw.Close()
				data, path = gz.Bytes(), path+".gz"
			}
			os.WriteFile(path, data, 0o644)
			got, st := parseFile(t, path, o)
			label := filepath.Base(src.path) + " in " + name
			if st.Format != "csv-export" && st.Format != "json-export" {
				t.Errorf("%s: detected as %s", label, st.Format)
				continue
			}
			if st.Raw != 0 || st.Lost != 0 {
				t.Errorf("%s: %d raw %v, %d lost %v", label, st.Raw, st.RawReasons, st.Lost, st.LostReasons)
			}
			t.Logf("%s: %d events (want %d), warnings %v", label, len(got), len(want), st.Warnings)
			gotSet := map[string]int{}
			for _, ev := range got {
				gotSet[comparable(ev)]++
				if _, ok := ev.Fields["evidence.row"].(int64); !ok || ev.Str("evidence.export") == "" {
					t.Errorf("%s: event without export provenance: %v", label, ev.Fields)
					break
				}
			}
			if !reflect.DeepEqual(gotSet, wantSet) {
				n := 0
				for k, c := range wantSet {
					if gotSet[k] != c && n < 3 {
						t.Errorf("%s: want %d× %s\n got %d", label, c, k, gotSet[k])
						n++
					}
				}
				for k, c := range gotSet {
					if wantSet[k] != c && n < 6 {
						t.Errorf("%s: unexpected %d× %s", label, c, k)
						n++
					}
				}
				t.Errorf("%s: %d events, want %d", label, len(got), len(want))
			}
		}
	}
}

// TestExportStructuredRows: rows a collector already parsed (no original
// line) keep their ECS fields, typed; a row with neither is kept raw with
// the reason; Wazuh's Windows alerts get the Windows mapping.
func TestExportStructuredRows(t *testing.T) {
	dir := t.TempDir()
	kibana := "\"@timestamp\",\"source.ip\",\"destination.ip\",\"destination.port\",\"source.bytes\",\"destination.bytes\",\"event.dataset\",\"user.name\"\n" +
		"\"Mar 12, 2025 @ 02:13:05.123\",\"10.10.2.15\",\"203.0.113.80\",443,\"5,368,709,120\",\"12,345\",\"fortinet.firewall\",\"-\"\n" +
		"\"Mar 12, 2025 @ 02:14:00.000\",\"-\",\"-\",\"-\",\"-\",\"-\",\"-\",\"-\"\n"
	os.WriteFile(filepath.Join(dir, "kibana.csv"), []byte(kibana), 0o644)
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, filepath.Join(dir, "kibana.csv"), &Options{TZ: paris})
	if st.Format != "csv-export" || len(evs) != 2 || st.Parsed != 1 || st.Raw != 1 {
		t.Fatalf("kibana csv: format %s, %d events, %d parsed, %d raw %v", st.Format, len(evs), st.Parsed, st.Raw, st.RawReasons)
	}
	want(t, "kibana row", evs[0], "2025-03-12T01:13:05.123Z", map[string]any{
		"source.ip": "10.10.2.15", "destination.ip": "203.0.113.80", "destination.port": int64(443),
		"source.bytes": int64(5368709120), "destination.bytes": int64(12345), "event.dataset": "fortinet.firewall",
		"user.name": nil, "evidence.row": int64(1), "evidence.export": "elastic-csv",
	})
	if !strings.Contains(evs[1].Str(event.FieldError), "no original line") {
		t.Errorf("empty row: reason %q", evs[1].Str(event.FieldError))
	}
	if !strings.Contains(strings.Join(st.Warnings, "\n"), "carries no zone: read in Europe/Paris") {
		t.Errorf("zone-less export times not reported: %v", st.Warnings)
	}

	alert := `{"timestamp":"2025-03-12T02:20:11.512+0000","rule":{"level":3,"description":"Windows logon success","id":"60106"},"agent":{"id":"004","name":"FS01"},"manager":{"name":"wazuh"},"id":"1741746011.123","decoder":{"name":"windows_eventchannel"},"data":{"win":{"system":{"providerName":"Microsoft-Windows-Security-Auditing","eventID":"4624","eventRecordID":"884213","channel":"Security","computer":"FS01.agglo.local","systemTime":"2025-03-12T02:20:10.9876543Z","level":"0","task":"12544","keywords":"0x8020000000000000","processID":"676","threadID":"5556"},"eventdata":{"subjectUserSid":"S-1-0-0","targetUserName":"j.martin","targetDomainName":"AGGLO","logonType":"3","ipAddress":"10.10.1.50","ipPort":"51234","workstationName":"PC-COMPTA-07","authenticationPackageName":"NTLM"}}},"location":"EventChannel"}`
	os.WriteFile(filepath.Join(dir, "alerts.json"), []byte(alert+"\n"), 0o644)
	evs, st = parseFile(t, filepath.Join(dir, "alerts.json"), &Options{})
	if st.Format != "json-export" || len(evs) != 1 || st.Parsed != 1 {
		t.Fatalf("wazuh alert: %s, %d events, %v", st.Format, len(evs), st.RawReasons)
	}
	want(t, "wazuh 4624", evs[0], "2025-03-12T02:20:10.9876543Z", map[string]any{
		"event.code": "4624", "user.name": "j.martin", "user.domain": "AGGLO", "source.ip": "10.10.1.50",
		"winlog.logon.type": "Network", "host.name": "FS01.agglo.local", "winlog.record_id": int64(884213),
		"evidence.export": "wazuh", "evidence.export_id": "1741746011.123",
	})
}

// TestExportLocalTimeWarning: year-less lines take the export's year, and
// when they sit a constant hour from the collector's UTC time the file says
// the devices wrote local time.
func TestExportLocalTimeWarning(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5; i++ {
		// Paris time in the line, UTC in the collector's column.
		fmt.Fprintf(&b, `{"timestamp":"2024-12-31T%02d:10:00.000+0000","full_log":"Dec 31 %02d:10:00 mail01 postfix/smtpd[12%d]: connect from unknown[203.0.113.%d]","id":"%d"}`+"\n", 10+i, 11+i, i, i+1, i)
	}
	p := filepath.Join(t.TempDir(), "archives.json")
	os.WriteFile(p, []byte(b.String()), 0o644)
	os.Chtimes(p, time.Now(), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	evs, st := parseFile(t, p, &Options{})
	if st.Year != 2024 || !strings.Contains(st.YearSource, "export") {
		t.Errorf("year %d from %q, want 2024 from the export", st.Year, st.YearSource)
	}
	if !strings.Contains(strings.Join(st.Warnings, "\n"), "in 5 of 5 rows the line's own time is +1h0m0s from the collector's timestamp") {
		t.Errorf("no local-time warning: %v", st.Warnings)
	}
	if len(evs) != 5 || !evs[0].Timestamp.Equal(utc("2024-12-31T11:10:00Z")) {
		t.Errorf("%d events, first at %v", len(evs), evs[0].Timestamp)
	}
}

// TestRelayFileInterleavingDevices: a syslog server's file where no device
// holds most lines is read line by line, each by its own format, with the
// same events as the devices' own files.
func TestRelayFileInterleavingDevices(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2025}
	srcs := []string{"testdata/cisco_asa.log", "testdata/fortigate.log", "testdata/postfix.log", "testdata/dovecot.log"}
	wantSet := map[string]int{}
	var all [][]string
	for _, p := range srcs {
		evs, _ := parseFile(t, p, o)
		for _, ev := range evs {
			wantSet[comparable(ev)]++
		}
		b, _ := os.ReadFile(p)
		all = append(all, strings.Split(strings.TrimRight(string(b), "\n"), "\n"))
	}
	// Round-robin: every device's lines stay in their order.
	var out []string
	for i := 0; ; i++ {
		more := false
		for _, ls := range all {
			if i < len(ls) {
				out, more = append(out, ls[i]), true
			}
		}
		if !more {
			break
		}
	}
	p := filepath.Join(t.TempDir(), "messages")
	os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o644)
	evs, st := parseFile(t, p, o)
	if st.Format != "mixed" || st.Raw != 0 {
		t.Fatalf("relay file: %s, %d raw %v", st.Format, st.Raw, st.RawReasons)
	}
	gotSet := map[string]int{}
	for _, ev := range evs {
		gotSet[comparable(ev)]++
	}
	if !reflect.DeepEqual(gotSet, wantSet) {
		for k, c := range wantSet {
			if gotSet[k] != c {
				t.Errorf("relay file: want %d× %s, got %d", c, k, gotSet[k])
			}
		}
		for k, c := range gotSet {
			if wantSet[k] != c {
				t.Errorf("relay file: unexpected %d× %s", c, k)
			}
		}
	}
	// A file mostly of one device with a few lines of others: the others are
	// read by their own formats, not kept raw.
	mostly, _ := os.ReadFile("../samples/incident/firewall/fortigate.log")
	lines := strings.Split(strings.TrimRight(string(mostly), "\n"), "\n")[:50]
	lines = append(lines, all[0][0], all[2][0])
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	evs, st = parseFile(t, p, o)
	if st.Format != "fortigate" || st.Raw != 0 || st.Parsed != 52 {
		t.Errorf("fortigate file with two foreign lines: %s, %d parsed, %d raw %v", st.Format, st.Parsed, st.Raw, st.RawReasons)
	}
	if w := strings.Join(st.Warnings, "\n"); !strings.Contains(w, "1 line read as cisco-asa within this fortigate file") {
		t.Errorf("warnings: %v", st.Warnings)
	}
}

// TestNDJSONExportWithACutLine: the last line of a collector's file cut
// while it was written is kept raw; every other row is read.
func TestNDJSONExportWithACutLine(t *testing.T) {
	doc := `{"timestamp":"2025-03-12T09:00:00.000+0000","full_log":"%ASA-6-302014: Teardown TCP connection 9 for outside:203.0.113.5/443 to inside:10.1.1.5/50000 duration 0:00:09 bytes 4096 TCP FINs","manager":{"name":"w"},"agent":{"id":"0"}}`
	data := doc + "\n" + doc + "\n" + doc[:60]
	p := filepath.Join(t.TempDir(), "archives.json")
	os.WriteFile(p, []byte(data), 0o644)
	evs, st := parseFile(t, p, &Options{TZ: time.UTC, Year: 2025})
	if st.Parsed != 2 || st.Raw != 1 || len(evs) != 3 {
		t.Fatalf("%d parsed, %d raw %v", st.Parsed, st.Raw, st.RawReasons)
	}
	want(t, "teardown", evs[0], "", map[string]any{"network.bytes": int64(4096), "evidence.row": int64(1), "evidence.export": "wazuh"})
	want(t, "cut", evs[2], "", map[string]any{"evidence.row": int64(3), event.FieldError: "json export: the line is not a complete JSON document"})
}

// TestUnknownFormatSaysWhy: a file no format takes names the closest
// formats, how many lines each recognised, and why each refused.
func TestUnknownFormatSaysWhy(t *testing.T) {
	forti, _ := os.ReadFile("../samples/incident/firewall/fortigate.log")
	fl := strings.Split(string(forti), "\n")
	var lines []string
	for i := 0; i < 15; i++ {
		lines = append(lines, fmt.Sprintf("appliance-7 event %d: something happened", i))
	}
	lines = append(lines, fl[:5]...)
	_, err := Detect([]byte(strings.Join(lines, "\n") + "\n"))
	if err == nil {
		t.Fatal("detected a format")
	}
	for _, w := range []string{"none of the first 20 lines", "closest: fortigate (5 of 20 lines look like it; first line refused: fortigate: no date= or logid= field)",
		"--format NAME", "stormshield"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	_, err = Detect([]byte(`{"ts":"x","who":"y"}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "is a JSON object with keys ts, who") {
		t.Errorf("JSON shape not described: %v", err)
	}
}

// TestJournaldExport: a mail server's journal exported with `journalctl
// -o json` (no syslog header in MESSAGE; time in microseconds since the
// epoch, host, program and pid in their own fields) gives the events of
// its syslog file, field for field, at the journal's exact times.
func TestJournaldExport(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2024}
	want, _ := parseFile(t, "testdata/postfix.log", o)
	line := regexp.MustCompile(`^(\w{3} [ \d]\d \d\d:\d\d:\d\d|\S+) (\S+) ([^\[:]+)(?:\[(\d+)\])?: (.*)$`)
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSpace(string(mustRead(t, "testdata/postfix.log"))), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("testdata/postfix.log line %d is not syslog", i+1)
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil { // a classic header: the year and zone the plain parse takes
			ts, err = time.Parse("2006 Jan _2 15:04:05", "2024 "+m[1])
		}
		if err != nil {
			t.Fatal(err)
		}
		entry := map[string]string{
			"__CURSOR": fmt.Sprintf("s=0;i=%x", i), "__REALTIME_TIMESTAMP": strconv.FormatInt(ts.UnixMicro(), 10),
			"_HOSTNAME": m[2], "SYSLOG_IDENTIFIER": m[3], "MESSAGE": m[5], "PRIORITY": "6", "_TRANSPORT": "syslog",
		}
		if m[4] != "" {
			entry["SYSLOG_PID"], entry["_PID"] = m[4], m[4]
		}
		doc, _ := json.Marshal(entry)
		b.Write(doc)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "journal.json")
	os.WriteFile(path, []byte(b.String()), 0o644)
	got, st := parseFile(t, path, &Options{TZ: time.UTC}) // no --year: the journal's times are whole
	if st.Format != "json-export" || st.Raw != 0 || st.Lost != 0 || len(got) != len(want) {
		t.Fatalf("%+v (%d events, want %d)", st, len(got), len(want))
	}
	for i := range got {
		if got[i].Str("evidence.export") != "journald" {
			t.Errorf("event %d: export %q", i, got[i].Str("evidence.export"))
		}
		if !got[i].Timestamp.Equal(want[i].Timestamp) {
			t.Errorf("event %d at %v, the log's line at %v", i, got[i].Timestamp, want[i].Timestamp)
		}
		g, w := got[i].Document(), want[i].Document()
		for _, m := range []map[string]any{g, w} {
			for k := range m {
				// event.timezone: the journal's times are exact, the
				// log's classic stamps name no zone.
				if strings.HasPrefix(k, "evidence.") || strings.HasPrefix(k, "log.") || k == event.FieldID || k == event.FieldOriginal || k == "@timestamp" || k == "event.start" || k == "event.end" || k == "event.duration" || k == "event.timezone" {
					delete(m, k)
				}
			}
		}
		gb, _ := event.AppendObject(nil, g)
		wb, _ := event.AppendObject(nil, w)
		if string(gb) != string(wb) {
			t.Errorf("event %d:\n got %s\nwant %s", i, gb, wb)
		}
	}
}

// TestExportNumbersNoLogMeans: "Inf", "NaN" and 1e30 in a byte column are
// kept as written, never turned into an arbitrary (often negative) count.
func TestExportNumbersNoLogMeans(t *testing.T) {
	dir := t.TempDir()
	csv := "\"@timestamp\",\"source.ip\",\"destination.ip\",\"source.bytes\",\"destination.bytes\",\"event.duration\"\n"
	for _, v := range []string{"Inf", "NaN", "1e30", "-Infinity", "9.3e18"} {
		csv += "\"2025-03-12T02:13:05Z\",\"10.10.2.15\",\"203.0.113.80\",\"" + v + "\",\"12,345\",\"" + v + "\"\n"
	}
	os.WriteFile(filepath.Join(dir, "odd.csv"), []byte(csv), 0o644)
	evs, st := parseFile(t, filepath.Join(dir, "odd.csv"), &Options{})
	if len(evs) != 5 || st.Parsed != 5 {
		t.Fatalf("%d events, %d parsed, %v", len(evs), st.Parsed, st.RawReasons)
	}
	for _, ev := range evs {
		if n, ok := ev.Fields["destination.bytes"].(int64); !ok || n != 12345 {
			t.Errorf("destination.bytes %#v", ev.Fields["destination.bytes"])
		}
		for _, k := range []string{"source.bytes", "event.duration"} {
			if _, ok := ev.Fields[k].(string); !ok {
				t.Errorf("%s %#v: kept as a number", k, ev.Fields[k])
			}
		}
	}
}

func TestBoundedFloat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"12.5", 12.5, true}, {" 3 ", 3, true}, {"-2", -2, true}, {"1e1", 10, true},
		{"NaN", 0, false}, {"nan", 0, false}, {"Inf", 0, false}, {"-infinity", 0, false},
		{"1e30", 0, false}, {"100", 0, false}, {"99.9", 99.9, true}, {"x", 0, false},
	} {
		got, ok := boundedFloat(c.in, 100)
		if got != c.want || ok != c.ok {
			t.Errorf("boundedFloat(%q, 100) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
