package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// squeeze joins a rendered message's lines with one space, as copies of
// WinCollect payloads show them.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestWinCollect reads WinCollect payloads in the shapes they reach an
// analyst: over syslog with tabs between the pairs (the agent's own), with
// spaces (a copy), without a header (QRadar's payload export), English and
// French messages joined with one space or one per character of white
// space, times in seconds or milliseconds; the same line inside another
// syslog file is read the same way.
func TestWinCollect(t *testing.T) {
	header := "AgentDevice=WindowsLog\tAgentLogFile=Security\tPluginVersion=7.3.1.22\tSource=Microsoft-Windows-Security-Auditing\tComputer=FS01.agglo.local\tOriginatingComputer=10.20.0.11\tUser=\tDomain=\t"
	lines := []string{
		"<13>Mar 14 23:05:13 10.20.0.11 " + header + "EventID=4624\tEventIDCode=4624\tEventType=8\tEventCategory=12544\tRecordNumber=881234\tTimeGenerated=1741989911\tTimeWritten=1741989911\tLevel=Log Always\tKeywords=Audit Success\tTask=SE_ADT_LOGON_LOGON\tOpcode=Info\tMessage=" + flatten(msg4624),
		strings.ReplaceAll(header, "\t", " ") + "EventID=4625 EventIDCode=4625 EventType=16 EventCategory=12544 RecordNumber=881240 TimeGenerated=1741990012345 TimeWritten=1741990012345 Level=Log Always Keywords=Audit Failure Task=SE_ADT_LOGON_LOGON Opcode=Info Message=" + squeeze(msg4625fr),
		"<13>Mar 14 23:07:00 10.20.0.11 AgentDevice=WindowsLog AgentLogFile=Security Source=Microsoft-Windows-Security-Auditing Computer=DC01.agglo.local User= Domain= EventID=4776 EventIDCode=4776 EventType=8 EventCategory=14336 RecordNumber=1961417 TimeGenerated=1741990020 TimeWritten=1741990020 Message=The computer attempted to validate the credentials for an account. Authentication Package: MICROSOFT_AUTHENTICATION_PACKAGE_V1_0 Logon Account: administrateur Source Workstation: KALI Error Code: 0xc000006a",
		// Without a header, a payload the reader refuses has no other
		// reading: it is kept raw with the reason.
		header + "EventID=7036\tEventIDCode=7036\tEventType=4\tTimeGenerated=soon\tMessage=x",
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "qradar.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	evs, st, err := parseAll(t, p, &Options{TZ: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != "wincollect" || st.Parsed != 3 || st.Raw != 1 || len(evs) != 4 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "4624 over syslog, tabs", evs[0], "2025-03-14T22:05:11Z", map[string]any{
		"event.code": "4624", "event.outcome": "success", "user.name": "j.martin", "user.domain": "AGGLO",
		"source.ip": "10.212.134.200", "winlog.logon.type": "RemoteInteractive", "host.name": "FS01.agglo.local",
		"host.ip": "10.20.0.11", "winlog.channel": "Security", "winlog.record_id": int64(881234),
		"winlog.keywords": "0x8020000000000000", "event.timezone": nil, "evidence.line": int64(1),
		"evidence.mapping": "EventData read back from the rendered message", "wincollect.plugin_version": "7.3.1.22",
	})
	want(t, "4625 payload alone, spaces, French, milliseconds", evs[1], "2025-03-14T22:06:52.345Z", map[string]any{
		"event.code": "4625", "event.outcome": "failure", "user.name": "administrateur", "source.ip": "185.220.101.4",
		"winlog.keywords": "0x8010000000000000", "winlog.logon.type": "Network",
	})
	want(t, "4776 as Microsoft documents the format", evs[2], "2025-03-14T22:07:00Z", map[string]any{
		"event.code": "4776", "host.name": "DC01.agglo.local", "host.ip": nil,
	})
	if evs[3].Str(event.FieldKind) != event.KindRaw || !strings.Contains(evs[3].Str(event.FieldError), `TimeGenerated "soon" is no time`) {
		t.Errorf("bad time: %v", evs[3].Fields)
	}

	// Among other syslog lines (a collector's file), a payload is still a
	// Windows event.
	mixed := filepath.Join(dir, "syslog.log")
	other := "<30>Mar 14 23:05:14 mail01 postfix/anvil[3320]: statistics: max cache size 1 at Mar 14 23:05:14\n<30>Mar 14 23:05:15 mail01 dovecot: master: Warning: time moved forwards\n<30>Mar 14 23:05:16 nas01 smbd[9]: session closed\n"
	if err := os.WriteFile(mixed, []byte(other+lines[0]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	evs, st, err = parseAll(t, mixed, &Options{TZ: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if st.Format == "wincollect" || len(evs) != 4 {
		t.Fatalf("mixed: stats %+v", st)
	}
	want(t, "4624 in a syslog file", evs[3], "2025-03-14T22:05:11Z", map[string]any{
		"event.code": "4624", "user.name": "j.martin", "source.ip": "10.212.134.200", "host.name": "FS01.agglo.local",
	})
}

// TestWinCollectPairs: a value runs to the agent's next key only; the
// message keeps whatever "Key=" it holds.
func TestWinCollectPairs(t *testing.T) {
	f := wincollectPairs("AgentDevice=WindowsLog Level=Log Always Keywords=Audit Success Task=SE_ADT x=y Message=Process Command Line: cmd /c set User=admin EventID=1")
	for k, v := range map[string]string{
		"Level": "Log Always", "Keywords": "Audit Success", "Task": "SE_ADT x=y",
		"Message": "Process Command Line: cmd /c set User=admin EventID=1", "User": "", "EventID": "",
	} {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
}
