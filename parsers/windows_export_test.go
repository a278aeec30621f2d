package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

const mappingRead = "EventData read back from the rendered message"

// TestWindowsExport reads the four shapes of golden file: Windows
// PowerShell 5.1's Export-Csv of Get-WinEvent (en-US, "#TYPE" line),
// PowerShell 7's Export-Csv -UseCulture of a Select-Object (fr-FR,
// semicolons, dates that do not tell day from month), Event Viewer's "Save
// As" CSV of a French server (UTF-16, no computer, no log name), and
// ConvertTo-Json (5.1: "/Date(ms)/", Properties without names).
func TestWindowsExport(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	o := &Options{TZ: paris}
	sid := "S-1-5-21-3623811015-3361044348-30300820-1107"

	evs, st := parseFile(t, "testdata/winevent_powershell.csv", o)
	if st.Format != "windows-export" || st.Parsed != 3 || st.Raw != 1 || len(evs) != 4 {
		t.Fatalf("powershell csv: stats %+v", st)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "read in Europe/Paris") {
		t.Errorf("powershell csv: warnings %q", st.Warnings)
	}
	want(t, "csv 4624", evs[0], "2024-03-15T13:13:07Z", map[string]any{
		"event.dataset": "system.security", "event.code": "4624", "event.outcome": "success", "user.name": "j.martin",
		"user.domain": "MAIRIE", "user.id": sid, "source.ip": "10.20.1.45", "winlog.logon.type": "Network",
		"host.name": "SRV-FICHIERS.mairie.local", "winlog.record_id": int64(2211873), "winlog.keywords": "0x8020000000000000",
		"winlog.process.pid": int64(712), "winlog.provider_guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}", "winlog.task": "12544",
		"winlog.channel": "Security", "event.timezone": "Europe/Paris", "evidence.export": "powershell-csv",
		"evidence.mapping": mappingRead, "evidence.line": int64(3),
	})
	want(t, "csv 5145", evs[1], "2024-03-15T13:20:11Z", map[string]any{
		"event.code": "5145", "user.name": "j.martin", "source.ip": "10.20.1.45",
		"file.path": `E:\Partages\Etat-Civil\Naissances\registre 2023.pdf`, "winlog.share_name": `\\*\Etat-Civil`,
	})
	want(t, "csv 7036", evs[2], "2024-03-16T00:02:00Z", map[string]any{
		"event.dataset": "system.system", "event.code": "7036", "winlog.qualifiers": "16384", "log.level": "information",
		"winlog.keywords": "0x80000000000000", "message": "The Windows Update service entered the stopped state.", "evidence.mapping": nil,
	})
	if evs[3].Str(event.FieldKind) != event.KindRaw || !strings.Contains(evs[3].Str(event.FieldError), "day 30 of month 2 of 2024 does not exist (dates read month first)") {
		t.Errorf("csv 30 February: %v", evs[3].Fields)
	}

	evs, st = parseFile(t, "testdata/winevent_fr.csv", o)
	if st.Format != "windows-export" || st.Parsed != 2 || st.Raw != 0 {
		t.Fatalf("french csv: stats %+v", st)
	}
	if len(st.Warnings) != 2 || !strings.Contains(strings.Join(st.Warnings, "|"), "read day before month") {
		t.Errorf("french csv: warnings %q", st.Warnings)
	}
	want(t, "fr 4625", evs[0], "2024-03-05T08:02:11Z", map[string]any{
		"event.code": "4625", "event.outcome": "failure", "user.name": "administrateur", "user.domain": "MAIRIE",
		"source.ip": "45.155.205.233", "winlog.logon.type": "Network", "host.name": "SRV-AD01.mairie.local",
		"winlog.channel": "Security", "evidence.mapping": mappingRead + "; channel named after the provider (the export has none)",
	})
	want(t, "fr 4624, typographic apostrophes", evs[1], "2024-03-05T08:04:40Z", map[string]any{
		"event.code": "4624", "user.name": "adm.dupont", "winlog.logon.type": "RemoteInteractive", "source.ip": "10.212.134.17",
	})

	evs, st = parseFile(t, "testdata/eventviewer_fr.csv", o)
	if st.Format != "windows-export" || st.Parsed != 2 || st.Raw != 0 {
		t.Fatalf("event viewer: stats %+v", st)
	}
	want(t, "event viewer 4624", evs[0], "2024-03-15T13:13:07Z", map[string]any{
		"event.code": "4624", "event.outcome": "success", "winlog.keywords": "0x8020000000000000", "user.name": "adm.dupont",
		"winlog.task": "Ouvrir la session", "winlog.channel": "Security", "host.name": nil, "evidence.export": "event-viewer-csv",
		"evidence.line": int64(2),
	})
	want(t, "event viewer 4625", evs[1], "2024-03-15T13:12:58Z", map[string]any{
		"event.code": "4625", "event.outcome": "failure", "winlog.keywords": "0x8010000000000000", "source.ip": "45.155.205.233",
	})

	evs, st = parseFile(t, "testdata/winevent.json", o)
	if st.Format != "windows-export" || st.Parsed != 2 || st.Raw != 0 || len(st.Warnings) != 0 {
		t.Fatalf("json: stats %+v", st)
	}
	want(t, "json 4624", evs[0], "2024-03-15T13:13:07Z", map[string]any{
		"event.code": "4624", "user.name": "j.martin", "source.ip": "10.20.1.45", "winlog.keywords": "0x8020000000000000",
		"winlog.record_id": int64(2211873), "event.timezone": nil, "evidence.export": "powershell-json", "evidence.row": int64(1),
		"winlog.event_data.param1": nil, "winlog.activity_id": "6d2e0b5c-76a2-0001-1c5f-2e6da276da01",
		"winlog.event_data.ImpersonationLevel": "%%1833", "winlog.event_data.IpPort": "51522",
		"evidence.mapping": "EventData named by the event's template (the export keeps their values only)",
	})
	want(t, "json 1102", evs[1], "2024-03-17T02:30:01.512Z", map[string]any{
		"event.code": "1102", "event.action": "audit-log-cleared", "user.name": "adm.dupont",
		"winlog.user.identifier": "S-1-5-21-3623811015-3361044348-30300820-500", "winlog.keywords": "0x4020000000000000",
	})
}

// TestWindowsExportVariants: the other writers and the choices a file's
// dates force.
func TestWindowsExportVariants(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	dir := t.TempDir()
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	row := func(delim string, v ...string) string {
		for i := range v {
			v[i] = q(v[i])
		}
		return strings.Join(v, delim) + "\r\n"
	}
	getEventLog := row(",", "EventID", "MachineName", "Data", "Index", "Category", "CategoryNumber", "EntryType", "Message", "Source", "ReplacementStrings", "InstanceId", "TimeGenerated", "TimeWritten", "UserName", "Site", "Container") +
		row(",", "4624", "SRV-AD01.mairie.local", "System.Byte[]", "9912", "(12544)", "12544", "SuccessAudit", msg4624, "Microsoft-Windows-Security-Auditing", "System.String[]", "4624", "15.03.2024 14:13:07", "15.03.2024 14:13:07", "", "", "") +
		row(",", "7036", "SRV-AD01.mairie.local", "System.Byte[]", "9913", "(0)", "0", "Information", "The Print Spooler service entered the running state.", "Service Control Manager", "System.String[]", "1073748860", "15.03.2024 14:20:00", "15.03.2024 14:20:00", "", "", "")
	// Every date of the file is ambiguous but the last, which tells the
	// first ones are month-first (a full read, not the first rows).
	lateProof := row(",", "TimeCreated", "Id", "ProviderName", "Message") +
		row(",", "03/04/2024 10:00:00", "7036", "Service Control Manager", "a") +
		row(",", "03/09/2024 10:00:00", "7036", "Service Control Manager", "b") +
		row(",", "03/14/2024 10:00:00", "7036", "Service Control Manager", "c")
	ps7 := `{"Id":4624,"Level":0,"Keywords":-9214364837600034816,"RecordId":7,"ProviderName":"Microsoft-Windows-Security-Auditing","LogName":"Security","MachineName":"DC1","TimeCreated":"2024-03-15T14:13:07.1234567+01:00","Message":null}` + "\n" +
		`{"Id":"x","TimeCreated":"2024-03-15T14:13:08+01:00","ProviderName":"P"}` + "\n"
	eventViewerText := "Level\tDate and Time\tSource\tEvent ID\tTask Category\r\n" +
		"Information\t3/15/2024 2:13:07 PM\tService Control Manager\t7036\tNone\t\"The Print Spooler service entered the running state.\"\r\n"
	for _, tc := range []struct {
		name, file, text string
		n                int
		check            func(t *testing.T, evs []*event.Event, st *FileStats)
	}{
		{"get-eventlog, German dates", "ge.csv", getEventLog, 2, func(t *testing.T, evs []*event.Event, st *FileStats) {
			want(t, "4624", evs[0], "2024-03-15T13:13:07Z", map[string]any{
				"event.code": "4624", "event.outcome": "success", "user.name": "j.martin", "source.ip": "10.212.134.200",
				"winlog.record_id": int64(9912), "winlog.keywords": "0x8020000000000000", "winlog.channel": "Security",
				"host.name": "SRV-AD01.mairie.local", "winlog.qualifiers": nil,
			})
			want(t, "7036", evs[1], "2024-03-15T13:20:00Z", map[string]any{
				"event.code": "7036", "winlog.qualifiers": "16384", "log.level": "information", "event.dataset": "system.system",
			})
		}},
		{"month-first told by the last date", "late.csv", lateProof, 3, func(t *testing.T, evs []*event.Event, st *FileStats) {
			want(t, "first", evs[0], "2024-03-04T09:00:00Z", nil)
			want(t, "second", evs[1], "2024-03-09T09:00:00Z", nil)
			for _, w := range st.Warnings {
				if strings.Contains(w, "no date in the file") {
					t.Errorf("warned of an order the file tells: %q", w)
				}
			}
		}},
		{"powershell 7 json lines", "ps7.json", ps7, 2, func(t *testing.T, evs []*event.Event, st *FileStats) {
			want(t, "4624", evs[0], "2024-03-15T13:13:07.1234567Z", map[string]any{
				"event.code": "4624", "event.timezone": nil, "host.name": "DC1", "winlog.keywords": "0x8020000000000000", "evidence.row": int64(1),
			})
			if evs[1].Str(event.FieldKind) != event.KindRaw || evs[1].Str(event.FieldError) != `windows-export: event id "x" is not a number` {
				t.Errorf("bad id: %v", evs[1].Fields)
			}
		}},
		{"event viewer text", "ev.txt", eventViewerText, 1, func(t *testing.T, evs []*event.Event, st *FileStats) {
			want(t, "7036", evs[0], "2024-03-15T13:13:07Z", map[string]any{
				"event.code": "7036", "log.level": "information", "winlog.channel": "System", "evidence.export": "event-viewer-text",
				"message": "The Print Spooler service entered the running state.",
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.file)
			os.WriteFile(p, []byte(tc.text), 0o644)
			evs, st := parseFile(t, p, &Options{TZ: paris})
			if st.Format != "windows-export" || len(evs) != tc.n {
				t.Fatalf("stats %+v, %d events", st, len(evs))
			}
			tc.check(t, evs, st)
		})
	}
}

func TestLocalDate(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		in       string
		dayFirst bool
		want     string // "" for an error
	}{
		{"15/03/2024 14:13:07", true, "2024-03-15T13:13:07Z"},
		{"3/15/2024 2:13:07 PM", false, "2024-03-15T13:13:07Z"},
		{"3/15/2024 12:13:07 AM", false, "2024-03-14T23:13:07Z"},
		{"15/03/2024 2:13:07 p.m.", true, "2024-03-15T13:13:07Z"},
		{"15.03.2024 14:13", true, "2024-03-15T13:13:00Z"},
		{"2024/03/15 14:13:07", false, "2024-03-15T13:13:07Z"},
		{"15/03/2024 14:13:07.25", true, "2024-03-15T13:13:07.25Z"},
		{"3/15/2024 13:13:07 PM", false, ""},
		{"15/03/24 14:13:07", true, ""},
		{"15/03/2024", true, ""},
		{"15/13/2024 10:00:00", true, ""},
	} {
		d, err := parseLocalDate(tc.in)
		var got time.Time
		if err == nil {
			o := dateOrder{decided: true, dayFirst: tc.dayFirst}
			got, err = o.time(d, paris)
		}
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q: %s, want an error", tc.in, got.Format(time.RFC3339Nano))
		case tc.want != "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.want != "" && !got.Equal(utc(tc.want)):
			t.Errorf("%q: %s, want %s", tc.in, got.Format(time.RFC3339Nano), tc.want)
		}
	}
}

// TestWevtutilText reads `wevtutil qe /f:text` blocks: a 4624 and a 5145
// whose EventData come back from their descriptions, a System event, and a
// block with an unreadable id kept raw.
func TestWevtutilText(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/wevtutil.txt", &Options{TZ: paris})
	if st.Format != "wevtutil-text" || st.Parsed != 3 || st.Raw != 1 || len(st.Warnings) != 1 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "4624", evs[0], "2024-03-15T13:13:07.123Z", map[string]any{
		"event.dataset": "system.security", "event.code": "4624", "event.outcome": "success", "user.name": "j.martin",
		"source.ip": "10.20.1.45", "winlog.logon.type": "Network", "host.name": "SRV-FICHIERS.mairie.local",
		"winlog.keywords": "0x8020000000000000", "winlog.task": "Logon", "event.timezone": "Europe/Paris",
		"evidence.mapping": mappingRead, "evidence.line": int64(1),
	})
	want(t, "5145", evs[1], "2024-03-15T13:20:11.5Z", map[string]any{
		"file.path": `E:\Partages\Etat-Civil\Naissances\registre 2023.pdf`, "source.ip": "10.20.1.45", "user.name": "j.martin",
	})
	want(t, "7036", evs[2], "2024-03-16T00:02:00Z", map[string]any{
		"event.dataset": "system.system", "log.level": "information", "message": "The Windows Update service entered the stopped state.",
	})
	if evs[3].Str(event.FieldKind) != event.KindRaw || evs[3].Str(event.FieldError) != `wevtutil-text: event id "x" is not a number` {
		t.Errorf("bad id: %v", evs[3].Fields)
	}
}

// TestWindowsExportCut: a JSON export cut short keeps its whole rows and
// counts the rest lost once, with the reason — also when its dates sent
// the first pass (day or month first?) to the cut.
func TestWindowsExportCut(t *testing.T) {
	text := `[{"Id":7036,"ProviderName":"Service Control Manager","TimeCreated":"05/03/2024 10:00:00","Message":"a"},` +
		`{"Id":7036,"ProviderName":"Service Control Manager","TimeCreated":"06/03/2024 10:00:00","Message":"b"},` +
		`{"Id":7036,"ProviderName":"Service Control Manager","TimeCr`
	p := filepath.Join(t.TempDir(), "cut.json")
	os.WriteFile(p, []byte(text), 0o644)
	in, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var n int
	st, err := Parse(in, &Options{TZ: time.UTC}, func(*event.Event) { n++ })
	if err == nil || st.Format != "windows-export" || st.Parsed != 2 || n != 2 || st.Lost != 1 ||
		st.LostReasons["windows-export: JSON syntax error, the rest of the file is unreadable"] != 1 {
		t.Errorf("err %v, %d events, stats %+v", err, n, st)
	}
}

// TestWindowsExportLogParser reads Log Parser 2.2's CSV of an .evtx file
// (LogParser "SELECT * INTO x.csv FROM C:\cases\…\Security.evtx"): the log
// named by the file it read, EventData named from Strings by the event's
// template, the local times in --tz, Sysmon's from its message.
func TestWindowsExportLogParser(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/logparser_security.csv", &Options{TZ: paris})
	if st.Format != "windows-export" || st.Parsed != 4 || st.Raw != 0 || len(evs) != 4 {
		t.Fatalf("stats %+v", st)
	}
	named := "EventData named by the event's template (the export keeps their values only)"
	want(t, "4624", evs[0], "2024-03-15T22:02:41Z", map[string]any{
		"event.code": "4624", "event.outcome": "success", "user.name": "j.martin", "user.domain": "MAIRIE",
		"source.ip": "185.220.101.4", "winlog.logon.type": "RemoteInteractive", "winlog.channel": "Security",
		"host.name": "SRV-FICHIERS.mairie.local", "winlog.record_id": int64(2211873), "winlog.keywords": "0x8020000000000000",
		"winlog.event_data.WorkstationName": "KALI", "evidence.export": "logparser-csv", "evidence.mapping": named,
		"event.timezone": "Europe/Paris", "evidence.line": int64(2),
	})
	want(t, "4688", evs[1], "2024-03-15T23:14:09Z", map[string]any{
		"event.code": "4688", "user.name": "j.martin", "process.executable": `C:\Program Files\7-Zip\7z.exe`,
		"process.command_line":      `"C:\Program Files\7-Zip\7z.exe" a -pS3cret -v500m E:\tmp\ec.7z E:\Partages\Etat-Civil`,
		"process.parent.executable": `C:\Windows\System32\cmd.exe`,
	})
	want(t, "5145", evs[2], "2024-03-15T23:15:12Z", map[string]any{
		"event.code": "5145", "source.ip": "10.20.1.45", "file.path": `E:\Partages\Etat-Civil\Naissances\registre 2023.pdf`,
	})
	want(t, "Sysmon 3, its log from the file's name", evs[3], "2024-03-15T23:16:00Z", map[string]any{
		"event.code": "3", "winlog.channel": "Microsoft-Windows-Sysmon/Operational", "destination.ip": "185.183.104.30",
		"destination.port": int64(443), "process.executable": `C:\Tools\rclone.exe`, "evidence.mapping": mappingRead,
	})
	for in, want := range map[string]string{
		`C:\cases\Security.evtx`: "Security", "Security": "Security", "Microsoft-Windows-Sysmon/Operational": "Microsoft-Windows-Sysmon/Operational",
		"/mnt/evidence/Microsoft-Windows-PowerShell%4Operational.EVTX": "Microsoft-Windows-PowerShell/Operational", "AppEvent.Evt": "AppEvent",
	} {
		if got := logName(in); got != want {
			t.Errorf("logName(%q) = %q, want %q", in, got, want)
		}
	}
}
