package parsers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

func TestNXLog(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/nxlog.json", &Options{TZ: paris})
	if st.Format != "nxlog-windows" || st.Parsed != 4 || st.Raw != 2 {
		t.Fatalf("stats %+v", st)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "EventTime carries no zone (NXLog writes the forwarder's local time): read in Europe/Paris") {
		t.Errorf("warnings %q", st.Warnings)
	}
	want(t, "4624", evs[0], "2025-03-14T22:05:11Z", map[string]any{
		"event.dataset": "system.security", "event.code": "4624", "user.name": "j.martin", "user.domain": "AGGLO",
		"source.ip": "10.212.134.200", "winlog.logon.type": "RemoteInteractive", "event.action": "logged-in",
		"event.outcome": "success", "host.name": "FS01.agglo.local", "winlog.record_id": int64(881234),
		"winlog.keywords": "0x8020000000000000", "winlog.process.pid": int64(712), "winlog.process.thread.id": int64(776),
		"winlog.task": "12544", "winlog.version": "2", "log.level": "information", "event.timezone": "Europe/Paris",
		"winlog.event_data.LogonProcessName": "User32 ", "winlog.event_data.EventReceivedTime": nil,
		"winlog.event_data.Category": nil, "message": "An account was successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-18",
	})
	// NXLog before 2.9: ProcessID/ThreadID are its own, Task not TaskValue,
	// keywords signed.
	want(t, "4625", evs[1], "2025-03-14T22:06:40Z", map[string]any{
		"event.code": "4625", "user.name": "administrateur", "source.ip": "185.220.101.4", "event.outcome": "failure",
		"winlog.keywords": "0x8010000000000000", "winlog.process.pid": int64(712), "winlog.process.thread.id": int64(780),
		"winlog.event_data.ProcessID": nil, "winlog.task": "12544", "log.level": "error",
	})
	// Behind a syslog header; the time's own zone wins over --tz.
	want(t, "sysmon 1", evs[2], "2025-03-14T22:14:11.5Z", map[string]any{
		"event.dataset": "windows.sysmon_operational", "process.name": "svchost64.exe", "process.pid": int64(6052),
		"process.command_line": `svchost64.exe copy C:\PerfLogs\x.7z mega:x`, "process.parent.name": "cmd.exe",
		"user.name": "j.martin", "user.domain": "AGGLO", "winlog.user.identifier": "S-1-5-18",
		"winlog.keywords": "0x8000000000000000", "event.timezone": nil, "winlog.event_data.AccountName": nil,
	})
	// im_mseventlog: the classic 32-bit id, the time in milliseconds.
	want(t, "7036", evs[3], "2025-03-14T23:00:00Z", map[string]any{
		"event.dataset": "system.system", "event.code": "7036", "winlog.qualifiers": "16384",
		"winlog.event_data.param1": "Windows Update", "event.timezone": nil,
	})
	if evs[4].Str(event.FieldKind) != event.KindRaw || !strings.Contains(evs[4].Str(event.FieldError), `EventTime "14/03/2025 23:20:00"`) {
		t.Errorf("bad time: %v", evs[4].Fields)
	}
	// NXLog's own log, forwarded beside the events: kept whole with what it is.
	if evs[5].Str(event.FieldKind) != event.KindRaw || evs[5].Str(event.FieldError) != "nxlog: a record of input module im_internal, not a Windows event (no EventID)" {
		t.Errorf("NXLog's own record: %v", evs[5].Fields)
	}
}

// nxlogLine writes a Windows event as NXLog CE's im_msvistalog and to_json()
// would: System fields under NXLog's names, EventData at the top level, the
// time in the forwarder's zone without it, to the second.
func nxlogLine(ev *event.Event, loc *time.Location) string {
	var b strings.Builder
	b.WriteByte('{')
	add := func(k string, v any) {
		if s, ok := v.(string); ok && s == "" || v == nil {
			return
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	num := func(k string) any {
		switch v := ev.Fields[k].(type) {
		case int64:
			return v
		case string:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
			return v
		}
		return nil
	}
	add("EventTime", ev.Timestamp.In(loc).Format("2006-01-02 15:04:05"))
	add("Hostname", ev.Str("winlog.computer_name"))
	if k := ev.Str("winlog.keywords"); k != "" {
		n, _ := strconv.ParseUint(strings.TrimPrefix(k, "0x"), 16, 64)
		add("Keywords", strconv.FormatUint(n, 10))
	}
	sev := map[string]int{"verbose": 1, "information": 2, "warning": 3, "error": 4, "critical": 5}
	if s, ok := sev[ev.Str("log.level")]; ok {
		add("SeverityValue", s)
	}
	id := num("winlog.event_id")
	if q := ev.Str("winlog.qualifiers"); q != "" {
		// As im_mseventlog writes it, qualifiers above the id.
		qn, _ := strconv.ParseInt(q, 10, 64)
		id = qn<<16 | id.(int64)
	}
	add("EventID", id)
	add("SourceName", ev.Str("winlog.provider_name"))
	add("ProviderGuid", ev.Str("winlog.provider_guid"))
	add("Version", num("winlog.version"))
	add("TaskValue", num("winlog.task"))
	add("OpcodeValue", num("winlog.opcode"))
	add("RecordNumber", num("winlog.record_id"))
	add("ActivityID", ev.Str("winlog.activity_id"))
	add("ExecutionProcessID", num("winlog.process.pid"))
	add("ExecutionThreadID", num("winlog.process.thread.id"))
	add("Channel", ev.Str("winlog.channel"))
	if sid := ev.Str("winlog.user.identifier"); sid != "" {
		// NXLog names the account of the SID it resolves.
		add("Domain", "NT AUTHORITY")
		add("AccountName", "SYSTEM")
		add("UserID", sid)
		add("AccountType", "Well Known Group")
	}
	var keys []string
	for k := range ev.Fields {
		if strings.HasPrefix(k, "winlog.event_data.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(strings.TrimPrefix(k, "winlog.event_data."), ev.Fields[k])
	}
	add("EventReceivedTime", ev.Timestamp.In(loc).Add(time.Second).Format("2006-01-02 15:04:05"))
	add("SourceModuleName", "eventlog")
	add("SourceModuleType", "im_msvistalog")
	b.WriteByte('}')
	return b.String()
}

// TestNXLogAgrees: every Windows event of the samples (wevtutil XML) and of
// the corpus's EVTX files, written as NXLog would forward it and read back,
// is the event read from the file — every field but the message (NXLog
// gives none here; the summary is built from the fields in another order),
// the provenance and a time NXLog cuts to the second. Events with UserData
// are left out: NXLog puts its fields at the top level, as EventData.
func TestNXLogAgrees(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	files, _ := filepath.Glob("../samples/*/windows/*.xml")
	if dir := filepath.Join(corpus.Root(t), "..", "shared", "corpus", "evtx"); exists(dir) {
		more, _ := filepath.Glob(filepath.Join(dir, "*", "*.evtx"))
		files = append(files, more...)
	} else {
		t.Log("shared corpus absent: the samples' events only")
	}
	compared, failures, viaGraylog := 0, 0, 0
	compare := func(f string, got, orig []*event.Event, timeOf func(*event.Event) time.Time) {
		for i, g := range got {
			o := orig[i]
			if !g.Timestamp.Equal(timeOf(o)) {
				t.Errorf("%s line %d: time %v, file %v", filepath.Base(f), i+1, g.Timestamp, o.Timestamp)
			}
			for _, k := range unionKeys(g, o) {
				if k == "message" || k == event.FieldOriginal || k == "event.timezone" || k == event.FieldID ||
					k == event.FieldFile || k == event.FieldSHA256 || strings.HasPrefix(k, "evidence.") || k == "log.offset" {
					continue
				}
				if k == "winlog.qualifiers" && o.Fields[k] == "0" && g.Fields[k] == nil {
					continue // im_msvistalog does not give an id's qualifiers
				}
				if a, b := fmt.Sprint(g.Fields[k]), fmt.Sprint(o.Fields[k]); a != b {
					if failures++; failures <= 20 {
						t.Errorf("%s record %v: %s = %q via NXLog, %q from the file", filepath.Base(f), o.Fields["winlog.record_id"], k, a, b)
					}
				}
			}
		}
	}
	for _, f := range files {
		evs, _ := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		var lines []string
		var orig []*event.Event
		for _, ev := range evs {
			if ev.Str(event.FieldKind) == event.KindRaw || ev.Fields["winlog.event_id"] == nil || hasPrefix(ev, "winlog.user_data.") {
				continue
			}
			lines = append(lines, nxlogLine(ev, paris))
			orig = append(orig, ev)
		}
		if len(lines) == 0 {
			continue
		}
		p := filepath.Join(t.TempDir(), "nxlog.json")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, st := parseFile(t, p, &Options{TZ: paris})
		if st.Format != "nxlog-windows" || st.Parsed != int64(len(lines)) || len(got) != len(lines) {
			t.Fatalf("%s: %d lines: %+v", f, len(lines), st)
		}
		compare(f, got, orig, func(o *event.Event) time.Time { return o.Timestamp.Truncate(time.Second) })
		compared += len(got)
		if strings.HasPrefix(f, "../samples/") {
			// The same events as Graylog keeps NXLog's GELF messages: a
			// column per field beside its own, the time its own (UTC).
			p := filepath.Join(t.TempDir(), "graylog.csv")
			os.WriteFile(p, graylogCSV(t, lines, orig), 0o644)
			got, st := parseFile(t, p, &Options{TZ: time.UTC})
			if st.Format != "csv-export" || st.Parsed != int64(len(lines)) || len(got) != len(lines) {
				t.Fatalf("%s as a Graylog export: %+v", f, st)
			}
			compare(f, got, orig, func(o *event.Event) time.Time { return o.Timestamp.Truncate(time.Millisecond) })
			viaGraylog += len(got)
		}
	}
	if compared < 1000 {
		t.Fatalf("only %d events compared", compared)
	}
	if viaGraylog == 0 {
		t.Fatal("no event compared through a Graylog export")
	}
	t.Logf("%d events compared, %d of them through a Graylog export too", compared, viaGraylog)
}

func hasPrefix(ev *event.Event, p string) bool {
	for k := range ev.Fields {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func unionKeys(a, b *event.Event) []string {
	seen := map[string]bool{}
	var out []string
	for _, ev := range []*event.Event{a, b} {
		for k := range ev.Fields {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// graylogCSV writes NXLog's lines as a Graylog CSV export: its own columns
// (timestamp to the millisecond, source, message, gl2_*, streams) and one
// per field, in Graylog's alphabetical order.
func graylogCSV(t *testing.T, lines []string, orig []*event.Event) []byte {
	rows := make([]map[string]string, len(lines))
	cols := map[string]bool{}
	for i, l := range lines {
		fs, err := orderedJSONObject([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		r := map[string]string{
			"timestamp": orig[i].Timestamp.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
			"source":    orig[i].Str("winlog.computer_name"), "message": "event " + orig[i].Str("winlog.event_id"),
			"gl2_source_input": "5e1f00c2d4a8b1000c7e9a11", "gl2_remote_ip": "10.0.0.5", "streams": "[000000000000000000000001]",
		}
		for _, f := range fs {
			if f.k != "EventTime" && f.k != "Hostname" && f.k != "EventReceivedTime" {
				r[f.k] = jsonText(f.v)
			}
		}
		for k := range r {
			cols[k] = true
		}
		rows[i] = r
	}
	var names []string
	for k := range cols {
		names = append(names, k)
	}
	sort.Strings(names)
	return csvTable(names, rows, ',', false)
}
