package parsers

import (
	"testing"
)

// TestWindowsCEF: Windows events ArcSight wrote as CEF are read as the
// Windows events they are — Microsoft's own example of the form (a 4776 for
// Defender for Identity), a logon with its type and address in custom
// fields, a process with its command line, behind a syslog header — and
// Microsoft's other CEF products, or a Windows record without an event ID,
// stay CEF records.
func TestWindowsCEF(t *testing.T) {
	lines := "CEF:0|Microsoft|Microsoft Windows||Microsoft-Windows-Security-Auditing:4776|The domain controller attempted to validate the credentials for an account.|Low| externalId=4776 cat=Security rt=1426218619000 shost=KALI dhost=DC01.agglo.local duser=administrateur cs2=Security cs3=Microsoft-Windows-Security-Auditing cs4=0xc000006a cs3Label=EventSource cs4Label=Reason or Error Code\n" +
		"<13>Mar 14 23:05:12 arcsight01 CEF:0|Microsoft|Microsoft Windows|Windows Server 2019|Microsoft-Windows-Security-Auditing:4624|An account was successfully logged on.|Low|externalId=4624 cat=Security rt=1741989912000 src=185.220.101.4 spt=51234 shost=KALI dhost=FS01.agglo.local duser=j.martin dntdom=AGGLO suser=FS01$ sntdom=AGGLO outcome=success cn1=10 cn1Label=Logon Type\n" +
		"CEF:0|Microsoft|Microsoft Windows||4688|A new process has been created.|Low|rt=1741990020000 cat=Security dvchost=FS01.agglo.local suser=j.martin sntdom=AGGLO cs1=\"C:\\\\Program Files\\\\7-Zip\\\\7z.exe\" a -pS3cret E:\\\\tmp\\\\ec.7z E:\\\\Partages cs1Label=Process Command Line cs3=Microsoft-Windows-Security-Auditing cs3Label=EventSource\n" +
		"CEF:0|Microsoft|Microsoft Defender for Endpoint||4624|Alert|5|rt=1741990030000 src=10.0.0.5\n" +
		"CEF:0|Microsoft|Microsoft Windows||Logon|An account was successfully logged on.|Low|rt=1741990040000 duser=x\n"
	st, evs := parseText(t, "arcsight.log", lines)
	if st.Format != "cef" || st.Parsed != 5 || len(evs) != 5 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "4776, Microsoft's example", evs[0], "2015-03-13T03:50:19Z", map[string]any{
		"event.dataset": "system.security", "event.code": "4776", "event.action": "credential-validated", "event.outcome": "failure",
		"user.name": "administrateur", "source.domain": "KALI", "host.name": "DC01.agglo.local", "winlog.channel": "Security",
		"winlog.event_data.Status": "0xc000006a", "cef.extensions.cs2": "Security", "evidence.line": int64(1),
		"evidence.mapping": "a Windows event from its CEF record: EventData named from CEF's fields and labels",
	})
	want(t, "4624 with a labelled logon type", evs[1], "2025-03-14T22:05:12Z", map[string]any{
		"event.code": "4624", "event.outcome": "success", "user.name": "j.martin", "user.domain": "AGGLO",
		"source.ip": "185.220.101.4", "source.port": int64(51234), "winlog.logon.type": "RemoteInteractive",
		"host.name": "FS01.agglo.local", "winlog.keywords": "0x8020000000000000",
	})
	want(t, "4688 with its command line", evs[2], "2025-03-14T22:07:00Z", map[string]any{
		"event.code": "4688", "user.name": "j.martin", "host.name": "FS01.agglo.local",
		"process.command_line": `"C:\Program Files\7-Zip\7z.exe" a -pS3cret E:\tmp\ec.7z E:\Partages`,
	})
	for i, name := range map[int]string{3: "another Microsoft product", 4: "no event ID"} {
		if evs[i].Str("event.dataset") != "cef" {
			t.Errorf("%s: dataset %q, want cef", name, evs[i].Str("event.dataset"))
		}
	}
}
