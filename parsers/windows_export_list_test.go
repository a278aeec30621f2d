package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestWindowsExportList reads Format-List output redirected to a file, in
// its three shapes: Get-WinEvent | fl (Windows PowerShell 5.1's `>`, UTF-16
// with a byte-order mark, CRLF, en-US dates), Get-WinEvent | fl * (every
// property, the message first; a French culture's dates, UTF-8), and
// Get-EventLog | fl (InstanceId, EntryType, Source, TimeGenerated).
func TestWindowsExportList(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	o := &Options{TZ: paris}

	evs, st := parseFile(t, "testdata/winevent_list.txt", o)
	if st.Format != "windows-export" || st.Parsed != 4 || st.Raw != 0 || len(evs) != 4 {
		t.Fatalf("fl: stats %+v", st)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "read in Europe/Paris") {
		t.Errorf("fl: warnings %q", st.Warnings)
	}
	want(t, "fl 4624", evs[0], "2024-03-15T22:02:41Z", map[string]any{
		"event.code": "4624", "event.outcome": "success", "user.name": "j.martin", "user.domain": "MAIRIE",
		"user.id": "S-1-5-21-3623811015-3361044348-30300820-1107", "source.ip": "185.220.101.4",
		"winlog.logon.type": "RemoteInteractive", "winlog.channel": "Security", "event.dataset": "system.security",
		"evidence.export": "powershell-list", "evidence.line": int64(3), "host.name": nil, "event.timezone": "Europe/Paris",
		"evidence.mapping": mappingRead + "; channel named after the provider (the export has none)",
	})
	if m := evs[0].Str("message"); !strings.HasPrefix(m, "An account was successfully logged on.\n\nSubject:\n\tSecurity ID:\t\tS-1-0-0\n") ||
		!strings.HasSuffix(m, "It is generated on the computer that was accessed.") {
		t.Errorf("fl 4624: the message is not the event's, indentation taken off:\n%q", m)
	}
	want(t, "fl 4625", evs[1], "2024-03-15T22:01:58Z", map[string]any{
		"event.code": "4625", "event.outcome": "failure", "user.name": "administrateur", "source.ip": "185.220.101.4",
		"winlog.logon.type": "Network", "evidence.line": int64(50),
	})
	want(t, "fl 4688", evs[2], "2024-03-15T23:14:09Z", map[string]any{
		"event.code": "4688", "user.name": "j.martin", "process.executable": `C:\Program Files\7-Zip\7z.exe`,
		"process.command_line":      `"C:\Program Files\7-Zip\7z.exe" a -pS3cret -v500m E:\tmp\ec.7z E:\Partages\Etat-Civil`,
		"process.parent.executable": `C:\Windows\System32\cmd.exe`,
	})
	want(t, "fl 7036", evs[3], "2024-03-15T23:20:00Z", map[string]any{
		"event.code": "7036", "event.dataset": "system.system", "message": "The Windows Update service entered the stopped state.",
		"evidence.line": int64(104),
	})

	evs, st = parseFile(t, "testdata/winevent_list_fr.txt", o)
	if st.Format != "windows-export" || st.Parsed != 2 || st.Raw != 0 {
		t.Fatalf("fl *: stats %+v", st)
	}
	want(t, "fl * 4624, a date that does not tell day from month", evs[0], "2024-03-05T08:04:40Z", map[string]any{
		"event.code": "4624", "user.name": "adm.dupont", "source.ip": "10.212.134.17", "winlog.logon.type": "Network",
		"host.name": "SRV-AD01.mairie.local", "winlog.record_id": int64(2211873), "winlog.keywords": "0x8020000000000000",
		"winlog.process.pid": int64(712), "winlog.provider_guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}",
		"winlog.activity_id": "6d2e0b5c-76a2-0001-1c5f-2e6da276da01", "winlog.channel": "Security", "evidence.mapping": mappingRead,
		"evidence.line": int64(3),
	})
	want(t, "fl * 4624, the date that tells", evs[1], "2024-03-16T00:02:00Z", map[string]any{
		"source.ip": "10.212.134.18", "winlog.record_id": int64(2211990), "evidence.line": int64(54),
	})

	evs, st = parseFile(t, "testdata/eventlog_list.txt", o)
	if st.Format != "windows-export" || st.Parsed != 2 || st.Raw != 0 {
		t.Fatalf("Get-EventLog fl: stats %+v", st)
	}
	want(t, "Get-EventLog 4624", evs[0], "2024-03-15T22:02:41Z", map[string]any{
		"event.code": "4624", "event.outcome": "success", "user.name": "j.martin", "source.ip": "185.220.101.4",
		"winlog.keywords": "0x8020000000000000", "winlog.record_id": int64(2211873), "evidence.export": "powershell-list",
		"winlog.event_data.param1": nil, // ReplacementStrings, cut at four items by Format-List, are not read as values
	})
	want(t, "Get-EventLog 7036", evs[1], "2024-03-15T23:20:00Z", map[string]any{
		"event.code": "7036", "winlog.qualifiers": "16384", "event.dataset": "system.system",
	})
}

// TestWindowsExportListEdges: what is not a list of events is left to
// other formats, and a list's odd records are kept raw with the reason.
func TestWindowsExportListEdges(t *testing.T) {
	for _, c := range []struct {
		name, head string
		want       bool
	}{
		{"Get-WinEvent | fl", "\r\n\r\nTimeCreated  : 3/17/2019 12:30:30 PM\r\nProviderName : P\r\nId           : 5142\r\nMessage      : A network share object was added.\r\n", true},
		{"a byte-order mark", "\ufeffTimeCreated  : 3/17/2019 12:30:30 PM\nProviderName : P\nId           : 5142\n", true},
		{"Get-MessageTrackingLog | fl", "RunspaceId              : 1b7a\nTimestamp               : 3/14/2025 11:43:35 PM\nClientIp                : 10.0.0.5\nEventId                 : RECEIVE\nSource                  : SMTP\n", false},
		{"no time", "ProviderName : P\nId           : 5142\nMessage      : x\n", false},
		{"a path at the margin", `C:\Windows\System32> Id : 4624` + "\nTimeCreated : 1/1/2024 1:00:00 AM\n", false},
		{"a table", "TimeCreated                     Id LevelDisplayName Message\n-----------                     -- ---------------- -------\n", false},
	} {
		if got := (WindowsExport{}).Detect([]byte(c.head)); got != c.want {
			t.Errorf("%s: Detect %v, want %v", c.name, got, c.want)
		}
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "fl.txt")
	text := "PS C:\\> Get-WinEvent -LogName Security | fl\n\n" +
		"TimeCreated  : 14/03/2025 22:05:01\nProviderName : Microsoft-Windows-Security-Auditing\nId           : 4624\nMessage      : x\n\n" +
		"TimeCreated  : 31/02/2025 22:05:01\nProviderName : Microsoft-Windows-Security-Auditing\nId           : 4625\nMessage      : y\n\n" +
		"TimeCreated  : 14/03/2025 22:06:01\nProviderName : Microsoft-Windows-Security-Auditing\nId           : four\nMessage      : z\n"
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	evs, st, err := parseAll(t, p, &Options{TZ: time.UTC, Format: "windows-export"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Parsed != 1 || st.Raw != 3 || len(evs) != 4 {
		t.Fatalf("stats %+v, %d events", st, len(evs))
	}
	reasons := map[int64]string{}
	for _, ev := range evs {
		if ev.Str(event.FieldKind) == event.KindRaw {
			n, _ := ev.Int(event.FieldLine)
			reasons[n] = ev.Str(event.FieldError)
		}
	}
	for line, want := range map[int64]string{
		1:  "a line before the list's first record",
		8:  "day 31 of month 2 of 2025 does not exist",
		13: `event id "four" is not a number`,
	} {
		if !strings.Contains(reasons[line], want) {
			t.Errorf("line %d: reason %q, want %q", line, reasons[line], want)
		}
	}
	want(t, "the one whole record", evs[1], "2025-03-14T22:05:01Z", map[string]any{"event.code": "4624", "evidence.line": int64(3), "message": "x"})
}

// TestScriptBlockMessage: a PowerShell script block read back from its
// rendered message, as a text export keeps it — on its lines, or collapsed
// onto one line — whatever labels the script holds itself.
func TestScriptBlockMessage(t *testing.T) {
	script := "$d = Get-ChildItem E:\\Partages -Recurse\r\nCompress-Archive -Path $d -DestinationPath C:\\Users\\Public\\p.zip\r\n# Path: decoy\r\nWrite-Host \"ScriptBlock ID: nope\""
	msg := "Creating Scriptblock text (1 of 2):\r\n" + script + "\r\n\r\nScriptBlock ID: 5f7a3c2e-1d4b-4c8e-9a6f-0b1c2d3e4f50\r\nPath: C:\\Users\\Public\\run.ps1"
	for name, m := range map[string]string{"lines": msg, "collapsed": squeeze(msg)} {
		got := map[string]string{}
		for _, d := range messageEventDataFor("Microsoft-Windows-PowerShell", "4104", m) {
			got[d.k] = d.v
		}
		wantText := script
		if name == "collapsed" {
			wantText = squeeze(script)
		}
		for k, v := range map[string]string{"MessageNumber": "1", "MessageTotal": "2", "ScriptBlockText": wantText,
			"ScriptBlockId": "5f7a3c2e-1d4b-4c8e-9a6f-0b1c2d3e4f50", "Path": `C:\Users\Public\run.ps1`} {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
			}
		}
	}
	// The whole way: a Format-List export of PowerShell's log.
	p := filepath.Join(t.TempDir(), "ps.txt")
	lines := []string{"", "", "TimeCreated  : 3/15/2024 11:40:02 PM", "ProviderName : Microsoft-Windows-PowerShell", "Id           : 4104"}
	for i, l := range strings.Split(strings.ReplaceAll(msg, "\r\n", "\n"), "\n") {
		if i == 0 {
			lines = append(lines, "Message      : "+l)
		} else {
			lines = append(lines, "               "+l)
		}
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	evs, st, err := parseAll(t, p, &Options{TZ: time.UTC})
	if err != nil || st.Parsed != 1 {
		t.Fatalf("%v %+v", err, st)
	}
	want(t, "4104", evs[0], "2024-03-15T23:40:02Z", map[string]any{
		"event.code": "4104", "winlog.channel": "Microsoft-Windows-PowerShell/Operational", "file.path": `C:\Users\Public\run.ps1`,
		"powershell.file.script_block_text": strings.ReplaceAll(script, "\r\n", "\n"),
	})
}

// TestWindowsExportWithoutID: an export of the time and message only
// (Select-Object TimeCreated, Message, as a list or a CSV) names each event
// from its message's first sentence; a sentence two events share (4697 and
// 7045), without the source, is kept raw with the reason.
func TestWindowsExportWithoutID(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	dir := t.TempDir()
	svc := "Un service a été installé sur le système.\n\nNom du service :  UpdaterSvc\nNom du fichier de service :  C:\\ProgramData\\Updater\\upd.exe\nType de service :  service en mode utilisateur\nType de démarrage du service :  démarrage à la demande\nCompte de service :  LocalSystem"
	logon := "An account was successfully logged on.\n\nSubject:\n\tSecurity ID:\t\tS-1-0-0\n\nLogon Information:\n\tLogon Type:\t\t10\n\nNew Logon:\n\tAccount Name:\t\tj.martin\n\tAccount Domain:\t\tMAIRIE\n\nNetwork Information:\n\tSource Network Address:\t185.220.101.4"
	var fl strings.Builder
	for _, r := range []struct{ at, msg string }{{"01/10/2026 23:12:40", svc}, {"01/10/2026 23:10:02", logon}, {"13/10/2026 08:00:00", "A service was installed in the system.\n\nService Name:  x"}} {
		for i, l := range strings.Split(r.msg, "\n") {
			if i == 0 {
				fl.WriteString("TimeCreated : " + r.at + "\r\nMessage     : " + l + "\r\n")
			} else {
				fl.WriteString("              " + l + "\r\n")
			}
		}
		fl.WriteString("\r\n")
	}
	csvText := "\"TimeCreated\",\"Message\"\r\n\"01/10/2026 23:12:40\",\"" + svc + "\"\r\n\"13/10/2026 08:00:00\",\"" + logon + "\"\r\n"
	for name, text := range map[string]string{"fl.txt": fl.String(), "select.csv": csvText} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		evs, st := parseFile(t, p, &Options{TZ: paris})
		if st.Format != "windows-export" || len(evs) < 2 {
			t.Fatalf("%s: stats %+v", name, st)
		}
		want(t, name+" 7045", evs[0], "2026-10-01T21:12:40Z", map[string]any{
			"event.code": "7045", "event.provider": "Service Control Manager", "winlog.channel": "System", "service.name": "UpdaterSvc",
			"evidence.mapping": mappingRead + "; event ID and source named from the message's first sentence (the export has neither)",
		})
		if name == "fl.txt" {
			want(t, name+" 4624", evs[1], "2026-10-01T21:10:02Z", map[string]any{
				"event.code": "4624", "winlog.channel": "Security", "user.name": "j.martin", "source.ip": "185.220.101.4", "winlog.logon.type": "RemoteInteractive",
			})
			if evs[2].Str(event.FieldKind) != event.KindRaw || !strings.Contains(evs[2].Str(event.FieldError), "names no single event") {
				t.Errorf("%s: a sentence of two events: %v", name, evs[2].Fields)
			}
		}
	}
}
