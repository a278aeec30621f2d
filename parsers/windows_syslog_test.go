package parsers

import (
	"reflect"
	"strings"
	"testing"
)

// TestWindowsOverSyslog: Windows events a forwarder sent as plain syslog
// text (NXLog's to_syslog_bsd: the source as program, the rendered message,
// no event ID) give the events their Snare records give — the ID read from
// the message's first sentence, the accounts, addresses and share from the
// rest — in English and French, line breaks kept or flattened.
func TestWindowsOverSyslog(t *testing.T) {
	for _, c := range []struct {
		name, provider, channel, id, msg string
	}{
		{"4624", "Microsoft-Windows-Security-Auditing", "Security", "4624", msg4624},
		{"4625 fr", "Microsoft-Windows-Security-Auditing", "Security", "4625", msg4625fr},
		{"4625 fr, curly apostrophe", "Microsoft-Windows-Security-Auditing", "Security", "4625", strings.ReplaceAll(msg4625fr, "n'a pas", "n’a pas")},
		{"5145", "Microsoft-Windows-Security-Auditing", "Security", "5145", msg5145},
		{"4776", "Microsoft-Windows-Security-Auditing", "Security", "4776", "The computer attempted to validate the credentials for an account.\r\n\r\nAuthentication Package:\tMICROSOFT_AUTHENTICATION_PACKAGE_V1_0\r\nLogon Account:\tadministrateur\r\nSource Workstation:\tKALI\r\nError Code:\t0xc000006a"},
		{"4720", "Microsoft-Windows-Security-Auditing", "Security", "4720", "A user account was created.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-500\r\n\tAccount Name:\t\tadm.dupont\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x1C2B7F0\r\n\r\nNew Account:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-1342\r\n\tAccount Name:\t\tsvc-sync\r\n\tAccount Domain:\t\tAGGLO\r\n\r\nAttributes:\r\n\tSAM Account Name:\tsvc-sync\r\n\tDisplay Name:\t\t<value not set>"},
		{"4732", "Microsoft-Windows-Security-Auditing", "Security", "4732", "A member was added to a security-enabled local group.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-500\r\n\tAccount Name:\t\tadm.dupont\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x1C2B7F0\r\n\r\nMember:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-1342\r\n\tAccount Name:\t\t-\r\n\r\nGroup:\r\n\tSecurity ID:\t\tS-1-5-32-544\r\n\tGroup Name:\t\tAdministrators\r\n\tGroup Domain:\t\tBuiltin\r\n\r\nAdditional Information:\r\n\tPrivileges:\t\t-"},
		{"4634 fr", "Microsoft-Windows-Security-Auditing", "Security", "4634", "Fermeture de session d’un compte.\r\n\r\nSujet :\r\n\tID de sécurité :\t\tS-1-5-21-1004336348-1177238915-682003330-1107\r\n\tNom du compte :\t\tj.martin\r\n\tDomaine du compte :\t\tAGGLO\r\n\tID d’ouverture de session :\t\t0x8C41F2\r\n\r\nType d’ouverture de session :\t\t\t3\r\n\r\nCet événement est généré lorsqu’une session ouverte est détruite."},
		{"4672 fr", "Microsoft-Windows-Security-Auditing", "Security", "4672", "Privilèges spéciaux attribués à la nouvelle ouverture de session.\r\n\r\nSujet :\r\n\tID de sécurité :\t\tS-1-5-21-1004336348-1177238915-682003330-500\r\n\tNom du compte :\t\tadm.dupont\r\n\tDomaine du compte :\t\tAGGLO\r\n\tID d’ouverture de session :\t\t0x3696B986\r\n\r\nPrivilèges :\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege"},
		{"4688 fr", "Microsoft-Windows-Security-Auditing", "Security", "4688", "Un nouveau processus a été créé.\r\n\r\nSujet du créateur :\r\n\tID de sécurité :\t\tS-1-5-21-1004336348-1177238915-682003330-1107\r\n\tNom du compte :\t\tj.martin\r\n\tDomaine du compte :\t\tAGGLO\r\n\tID d’ouverture de session :\t\t0x8C41F2\r\n\r\nInformations sur le processus :\r\n\tID du nouveau processus :\t0x1a2c\r\n\tNom du nouveau processus :\tC:\\Program Files\\7-Zip\\7z.exe\r\n\tType d’élévation du jeton :\t%%1938\r\n\tÉtiquette obligatoire :\t\tS-1-16-8192\r\n\tID du processus créateur :\t0x1f04\r\n\tNom du processus créateur :\tC:\\Windows\\System32\\cmd.exe\r\n\tLigne de commande du processus :\t\"C:\\Program Files\\7-Zip\\7z.exe\" a -pS3cret E:\\tmp\\ec.7z E:\\Partages"},
		{"7045 fr, sur le système", "Service Control Manager", "System", "7045", "Un service a été installé sur le système.\r\n\r\nNom du service :  updsvc\r\nNom du fichier de service :  C:\\ProgramData\\upd.exe -k run\r\nType de service :  service en mode utilisateur\r\nType de démarrage du service :  démarrage à la demande\r\nCompte de service :  LocalSystem"},
		{"7045", "Service Control Manager", "System", "7045", "A service was installed in the system.\r\n\r\nService Name:  updsvc\r\nService File Name:  C:\\ProgramData\\upd.exe -k run\r\nService Type:  user mode service\r\nService Start Type:  demand start\r\nService Account:  LocalSystem"},
		{"sysmon 1", "Microsoft-Windows-Sysmon", sysmonChannel, "1", "Process Create:\r\nRuleName: -\r\nUtcTime: 2025-03-14 22:05:12.031\r\nProcessGuid: {5770385f-c22a-43e0-bf4c-06f5698ffbd9}\r\nProcessId: 4120\r\nImage: C:\\Tools\\rclone.exe\r\nCommandLine: rclone copy D:\\Partages mega:x\r\nCurrentDirectory: C:\\Tools\\\r\nUser: AGGLO\\j.martin\r\nParentImage: C:\\Windows\\System32\\cmd.exe"},
	} {
		snare := "Mar 14 23:05:12 FS01.agglo.local MSWinEventLog\t1\t" + c.channel + "\t2174\tFri Mar 14 23:05:12 2025\t" + c.id + "\t" + c.provider +
			"\tN/A\tN/A\tSuccess Audit\tFS01.agglo.local\tLogon\t\t" + flatten(c.msg) + "\t881234\n"
		_, want := parseText(t, "snare.log", snare)
		for _, form := range []string{"flattened", "line breaks as #015#012"} {
			msg := flatten(c.msg)
			if form != "flattened" {
				msg = strings.NewReplacer("\r", "#015", "\n", "#012", "\t", "#011").Replace(c.msg)
			}
			st, got := parseText(t, "windows.log", "<14>Mar 14 23:05:12 FS01.agglo.local "+c.provider+"[604]: "+msg+"\n")
			if st.Parsed != 1 || len(got) != 1 || len(want) != 1 {
				t.Fatalf("%s %s: %+v", c.name, form, st)
			}
			a, b := windowsComparable(want[0].Fields), windowsComparable(got[0].Fields)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s %s:\nSnare  %v\nsyslog %v", c.name, form, a, b)
			}
			if got[0].Str("event.code") != c.id || got[0].Str("winlog.channel") != c.channel {
				t.Errorf("%s %s: event %s in %s", c.name, form, got[0].Str("event.code"), got[0].Str("winlog.channel"))
			}
			if cmd := got[0].Str("process.command_line"); c.name == "sysmon 1" && cmd != `rclone copy D:\Partages mega:x` {
				t.Errorf("%s %s: command line %q", c.name, form, cmd)
			}
			for name, v := range map[string]map[string]string{
				"4776":                    {"user.name": "administrateur", "source.domain": "KALI", "event.outcome": "failure"},
				"4720":                    {"user.name": "adm.dupont", "user.target.name": "svc-sync"},
				"4732":                    {"user.name": "adm.dupont", "group.name": "Administrators", "user.target.id": "S-1-5-21-1004336348-1177238915-682003330-1342"},
				"4634 fr":                 {"user.name": "j.martin", "winlog.logon.type": "Network"},
				"4672 fr":                 {"user.name": "adm.dupont"},
				"4688 fr":                 {"user.name": "j.martin", "process.executable": `C:\Program Files\7-Zip\7z.exe`, "process.command_line": `"C:\Program Files\7-Zip\7z.exe" a -pS3cret E:\tmp\ec.7z E:\Partages`},
				"7045 fr, sur le système": {"service.name": "updsvc"},
			}[c.name] {
				if got[0].Str(name) != v {
					t.Errorf("%s %s: %s = %q, want %q", c.name, form, name, got[0].Str(name), v)
				}
			}
		}
	}
	// A source's other messages, and other programs, stay plain syslog.
	for _, l := range []string{
		"<14>Mar 14 23:05:12 FS01 Microsoft-Windows-Security-Auditing[604]: Something else happened.",
		"<14>Mar 14 23:05:12 FS01 sshd[604]: An account was successfully logged on.",
	} {
		_, evs := parseText(t, "windows.log", l+"\n")
		if len(evs) != 1 || evs[0].Str("event.dataset") != "syslog" || evs[0].Str("event.code") != "" {
			t.Errorf("%q: %v", l, evs[0].Fields)
		}
	}
}

// windowsComparable leaves out what says how the event travelled.
func windowsComparable(f map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range f {
		switch {
		case strings.HasPrefix(k, "snare."), strings.HasPrefix(k, "log.syslog."), strings.HasPrefix(k, "evidence."), k == "event.original",
			k == "message", k == "event.id", k == "log.file.path", k == "event.timezone", k == "winlog.record_id", k == "winlog.task",
			k == "event.kind" && v == "event", k == "log.level", k == "winlog.keywords", k == "event.outcome" && f["event.code"] == "7045":
		default:
			m[k] = v
		}
	}
	return m
}

// TestWindowsOverEvtsys: Eventlog to Syslog's lines ("Security-Auditing:
// 4624: AUDIT_SUCCESS …", the message collapsed onto one line, with or
// without the agent's own tag) give the events Snare's records of the same
// events give: the provider's full name, its log, the ID, and the EventData
// read back from the collapsed message, in English and French; Sysmon's
// messages by their EventData names.
func TestWindowsOverEvtsys(t *testing.T) {
	msg4688 := "A new process has been created.\r\n\r\nCreator Subject:\r\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1107\r\n\tAccount Name:\t\tj.martin\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x8C41F2\r\n\r\nTarget Subject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\t-\r\n\tAccount Domain:\t\t-\r\n\tLogon ID:\t\t0x0\r\n\r\nProcess Information:\r\n\tNew Process ID:\t\t0x1a2c\r\n\tNew Process Name:\tC:\\Program Files\\7-Zip\\7z.exe\r\n\tToken Elevation Type:\t%%1936\r\n\tMandatory Label:\t\tS-1-16-8192\r\n\tCreator Process ID:\t0x1964\r\n\tCreator Process Name:\tC:\\Windows\\explorer.exe\r\n\tProcess Command Line:\t\"C:\\Program Files\\7-Zip\\7z.exe\" a -p Secret: C:\\Users\\Public\\e.7z D:\\Partages\r\n\r\nToken Elevation Type indicates the type of token that was assigned to the new process in accordance with User Account Control policy."
	msgSysmon3 := "Network connection detected:\r\nRuleName: -\r\nUtcTime: 2025-03-14 22:05:12.031\r\nProcessGuid: {5770385f-c22a-43e0-bf4c-06f5698ffbd9}\r\nProcessId: 4120\r\nImage: C:\\Tools\\rclone.exe\r\nUser: AGGLO\\j.martin\r\nProtocol: tcp\r\nInitiated: true\r\nSourceIsIpv6: false\r\nSourceIp: 10.10.1.50\r\nSourceHostname: PC-COMPTA.agglo.local\r\nSourcePort: 49733\r\nSourcePortName: -\r\nDestinationIsIpv6: false\r\nDestinationIp: 51.15.20.30\r\nDestinationHostname: -\r\nDestinationPort: 443\r\nDestinationPortName: https"
	for _, c := range []struct {
		name, provider, source, channel, id, audit, msg string
		want                                            map[string]any
	}{
		{"4624", "Microsoft-Windows-Security-Auditing", "Security-Auditing", "Security", "4624", "Success Audit", msg4624,
			map[string]any{"user.name": "j.martin", "source.ip": "10.212.134.200", "winlog.logon.type": "RemoteInteractive"}},
		{"4625 fr", "Microsoft-Windows-Security-Auditing", "Security-Auditing", "Security", "4625", "Failure Audit", msg4625fr,
			map[string]any{"user.name": "administrateur", "source.ip": "185.220.101.4", "event.outcome": "failure"}},
		{"5145", "Microsoft-Windows-Security-Auditing", "Security-Auditing", "Security", "5145", "Success Audit", msg5145,
			map[string]any{"user.name": "j.martin", "file.path": `D:\Partages\Finances\Paie 2024\salaires mars.xlsx`}},
		{"4688", "Microsoft-Windows-Security-Auditing", "Security-Auditing", "Security", "4688", "Success Audit", msg4688,
			map[string]any{"process.command_line": `"C:\Program Files\7-Zip\7z.exe" a -p Secret: C:\Users\Public\e.7z D:\Partages`,
				"process.executable": `C:\Program Files\7-Zip\7z.exe`}},
		{"7045", "Service Control Manager", "Service_Control_Manager", "System", "7045", "", "A service was installed in the system.\r\n\r\nService Name:  updsvc\r\nService File Name:  C:\\ProgramData\\upd.exe -k run\r\nService Type:  user mode service\r\nService Start Type:  demand start\r\nService Account:  LocalSystem",
			map[string]any{"service.name": "updsvc"}},
		{"sysmon 3", "Microsoft-Windows-Sysmon", "Sysmon", sysmonChannel, "3", "", msgSysmon3,
			map[string]any{"destination.ip": "51.15.20.30", "destination.port": int64(443), "process.executable": `C:\Tools\rclone.exe`, "user.name": "j.martin"}},
	} {
		snare := "Mar 14 23:05:12 FS01.agglo.local MSWinEventLog\t1\t" + c.channel + "\t2174\tFri Mar 14 23:05:12 2025\t" + c.id + "\t" + c.provider +
			"\tN/A\tN/A\t" + c.audit + "\tFS01.agglo.local\tLogon\t\t" + flatten(c.msg) + "\t881234\n"
		_, want := parseText(t, "snare.log", snare)
		prefix := map[string]string{"Success Audit": "AUDIT_SUCCESS ", "Failure Audit": "AUDIT_FAILURE "}[c.audit]
		for _, tag := range []string{"", "evtsys: "} {
			line := "<13>Mar 14 23:05:12 FS01.agglo.local " + tag + c.source + ": " + c.id + ": " + prefix + collapse(c.msg)
			st, got := parseText(t, "windows.log", line+"\n")
			if st.Parsed != 1 || len(got) != 1 || len(want) != 1 {
				t.Fatalf("%s %q: %+v", c.name, tag, st)
			}
			a, b := windowsComparable(want[0].Fields), windowsComparable(got[0].Fields)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s %q:\nSnare  %v\nevtsys %v", c.name, tag, a, b)
			}
			g := got[0]
			if g.Str("event.code") != c.id || g.Str("winlog.channel") != c.channel || g.Str("winlog.provider_name") != c.provider {
				t.Errorf("%s %q: event %s of %s in %s", c.name, tag, g.Str("event.code"), g.Str("winlog.provider_name"), g.Str("winlog.channel"))
			}
			for k, v := range c.want {
				if g.Fields[k] != v {
					t.Errorf("%s %q: %s = %#v, want %#v", c.name, tag, k, g.Fields[k], v)
				}
			}
			// The classic header names no year; Snare's record does.
			if f := "01-02 15:04:05"; g.Timestamp.Format(f) != want[0].Timestamp.Format(f) {
				t.Errorf("%s %q: time %v, want %v", c.name, tag, g.Timestamp, want[0].Timestamp)
			}
		}
	}
	// Other programs' "name: number: text", an ID out of range, a source
	// the mapping does not read, and a line with a process ID stay plain
	// syslog.
	for _, l := range []string{
		"<13>Mar 14 23:05:12 mx1 myapp: 1234: queue flushed",
		"<13>Mar 14 23:05:12 FS01 Security-Auditing: 99999: AUDIT_SUCCESS An account was successfully logged on.",
		"<13>Mar 14 23:05:12 FS01 Application_Error: 1000: Faulting application name: x.exe",
		"<13>Mar 14 23:05:12 FS01 Security-Auditing[604]: 4624: AUDIT_SUCCESS An account was successfully logged on.",
		"<13>Mar 14 23:05:12 FS01 evtsys: myapp: 12: x",
	} {
		_, evs := parseText(t, "windows.log", l+"\n")
		if len(evs) != 1 || evs[0].Str("event.dataset") != "syslog" || evs[0].Str("event.code") != "" {
			t.Errorf("%q: %v", l, evs[0].Fields)
		}
	}
}
